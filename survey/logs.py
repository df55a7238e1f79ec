"""Log hygiene: respondent tokens never reach a log line.

The first request of a respondent carries the token in its path (``/s/<token>``); gunicorn's
access log would record it next to the client's address. ``gunicorn.conf.py`` installs
:class:`RedactingGunicornLogger`, which writes ``/s/[redacted]`` instead, and leaves out the
client address of every respondent request: the order of submissions in a log, next to
addresses, must not be matchable against the order of stored responses.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger

TOKEN_PATH = re.compile(r"/s/[^\s/?\"]+")
RESPONDENT_PATHS = ("/s/", "/survey", "/kod")


def redact(text: str) -> str:
    return TOKEN_PATH.sub("/s/[redacted]", text)


class RedactingFilter(logging.Filter):
    """For Werkzeug's request log when the demo serves: no tokens, no respondent addresses."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = redact(record.getMessage())
        if any(f'"GET {p}' in message or f'"POST {p}' in message for p in RESPONDENT_PATHS):
            message = "-" + message[message.find(" - ") :] if " - " in message else message
        record.msg, record.args = message, None
        return True


class RedactingGunicornLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        path = str(environ.get("PATH_INFO", ""))
        if "/s/" in path or "/s/" in str(atoms.get("f", "")):
            for key in ("r", "U", "{raw_uri}e", "{path_info}e", "f"):
                if isinstance(atoms.get(key), str):
                    atoms[key] = redact(atoms[key])
        if path.startswith(RESPONDENT_PATHS):
            atoms["h"] = "-"
            atoms["{x-forwarded-for}i"] = "-"
        return atoms
