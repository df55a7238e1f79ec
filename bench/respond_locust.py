"""Locust file for the respondent benchmark; run by :mod:`bench.respond`, not by hand.

Each simulated respondent is a fresh browser (no cookies yet) with an unused personal link:
open the link, load the welcome page, load the questionnaire page, submit every answer, read
the receipt. A respondent counts as *confirmed* only when the receipt page says so.

Every request and every confirmed respondent is recorded with its wall-clock time in the
worker process and written to ``$BENCH_OUT/worker-<index>.json`` when the test stops, so the
driver can cut an exact measuring window (locust's own statistics are rounded to whole ms and
cover the whole run, warm-up included). Only locust and the standard library are imported
here: locust loads this file by path, outside the project's packages.

Environment (set by the driver): ``BENCH_TOKENS`` (this worker's token file, one a line),
``BENCH_META`` (JSON with the question keys), ``BENCH_OUT`` (output directory) and
``BENCH_WORKER`` (this worker's index).
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from locust import constant, events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.env import Environment
from locust.exception import StopUser

# Matched on the raw bytes: decoding the 44 kB page only to search it costs the load
# generator CPU that the server on the same two cores could use.
CSRF = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"')
RECEIPT = "Tack för dina svar".encode()
COMMENTS = (
    "Bra kollegor men för många ärenden per handläggare.",
    "Handledningen har blivit bättre i år.",
    "Vi behöver mer tid för dokumentation och färre möten.",
    "",
)
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


class Recorder:
    """What one worker process saw; dumped as JSON when the test stops."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, float, float, bool]] = []  # name, end, ms, ok
        self.confirmed: list[float] = []  # wall-clock time the receipt was seen
        self.submitted = 0  # answer POSTs sent (whatever their outcome)
        self.failures: Counter[str] = Counter()
        self.tokens: list[str] = []
        self.out: Path | None = None
        self.worker = os.environ.get("BENCH_WORKER", "0")
        self.keys: list[str] = []
        self.text_key = ""

    def load(self) -> None:
        self.tokens = Path(os.environ["BENCH_TOKENS"]).read_text().split()
        self.tokens.reverse()  # pop() from the end hands them out in file order
        meta = json.loads(Path(os.environ["BENCH_META"]).read_text())
        self.keys = list(meta["likert_keys"])
        self.text_key = str(meta["text_key"])
        self.out = Path(os.environ["BENCH_OUT"])

    def on_request(
        self,
        request_type: str,
        name: str,
        response_time: float,
        exception: Exception | None = None,
        start_time: float | None = None,
        **_kwargs: Any,
    ) -> None:
        begun = start_time if start_time is not None else time.time() - response_time / 1000
        self.requests.append((name, begun + response_time / 1000, response_time, exception is None))

    def dump(self) -> None:
        if self.out is None:
            return
        data = {
            "worker": self.worker,
            "requests": self.requests,
            "confirmed": self.confirmed,
            "submitted": self.submitted,
            "failures": dict(self.failures),
            "tokens_left": len(self.tokens),
        }
        path = self.out / f"worker-{self.worker}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(path)


RECORDER = Recorder()


@events.init.add_listener
def _on_init(environment: Environment, **_kwargs: Any) -> None:
    if "BENCH_TOKENS" in os.environ:  # workers (and a stand-alone run); not the master
        RECORDER.load()
        environment.events.request.add_listener(RECORDER.on_request)


@events.test_stop.add_listener
def _on_test_stop(**_kwargs: Any) -> None:
    RECORDER.dump()


@events.quitting.add_listener
def _on_quitting(**_kwargs: Any) -> None:
    RECORDER.dump()


def _location(response: Any) -> str:
    return str(response.headers.get("location", "")) if response.headers else ""


def _session_cookie(response: Any, current: str) -> str:
    """The ``name=value`` of a Set-Cookie header (the app sets one cookie), else ``current``."""
    header = response.headers.get("set-cookie") if response.headers else None
    return str(header).split(";", 1)[0] if header else current


class Respondent(FastHttpUser):
    wait_time = constant(0)
    # One connection per simulated browser, as a browser would keep for one site.
    concurrency = 1
    network_timeout = 60.0
    connection_timeout = 60.0

    def on_start(self) -> None:
        # The session cookie is kept by hand, as a browser would: http.cookiejar's policy
        # checks cost the load generator a tenth of its CPU, which the server then lacks.
        self.client.client.cookiejar = None
        self.cookie = ""

    def fail(self, stage: str) -> None:
        RECORDER.failures[stage] += 1

    def get(self, path: str, name: str, **kwargs: Any) -> Any:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        response = self.client.get(path, name=name, headers=headers, **kwargs)
        self.cookie = _session_cookie(response, self.cookie)
        return response

    @task
    def respond(self) -> None:
        if not RECORDER.tokens:
            RECORDER.failures["out of tokens"] += 1
            raise StopUser()
        token = RECORDER.tokens.pop()
        self.cookie = ""  # a new respondent is a new browser

        r = self.get(f"/s/{token}", "1 open link", allow_redirects=False)
        if r.status_code != 303 or not _location(r).endswith("/survey/"):
            return self.fail(f"open link: {r.status_code}")

        r = self.get("/survey/", "2 welcome")
        if r.status_code != 200:
            return self.fail(f"welcome: {r.status_code}")

        r = self.get("/survey/page/1", "3 page")
        match = CSRF.search(r.content or b"") if r.status_code == 200 else None
        if match is None:
            return self.fail(f"page: {r.status_code}")

        form = [("csrf_token", match.group(1).decode()), ("action", "submit")]
        form += [(key, str(random.randint(1, 5))) for key in RECORDER.keys]
        comment = random.choice(COMMENTS)
        if comment:
            form.append((RECORDER.text_key, comment))
        RECORDER.submitted += 1
        r = self.client.post(
            "/survey/page/1",
            data=urlencode(form),
            headers={**FORM_HEADERS, "Cookie": self.cookie},
            name="4 submit",
            allow_redirects=False,
        )
        self.cookie = _session_cookie(r, self.cookie)
        if r.status_code != 303 or not _location(r).endswith("/survey/thanks"):
            return self.fail(f"submit: {r.status_code}")

        r = self.get("/survey/thanks", "5 receipt")
        if r.status_code != 200 or RECEIPT not in (r.content or b""):
            return self.fail(f"receipt: {r.status_code}")
        RECORDER.confirmed.append(time.time())
        return None
