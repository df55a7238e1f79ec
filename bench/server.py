"""Gunicorn serving ``survey:create_app()`` in production mode, started and stopped by us."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.common import ROOT, free_port


@dataclass(frozen=True)
class WorkerConfig:
    """A gunicorn worker configuration, written ``sync:3`` or ``gthread:2x4``."""

    kind: str
    workers: int
    threads: int = 1

    @classmethod
    def parse(cls, spec: str) -> WorkerConfig:
        kind, _, size = spec.partition(":")
        if kind not in ("sync", "gthread") or not size:
            raise ValueError(f"worker config must look like sync:3 or gthread:2x4, got {spec!r}")
        workers, _, threads = size.partition("x")
        return cls(kind, int(workers), int(threads or 1))

    def __str__(self) -> str:
        if self.kind == "gthread":
            return f"gthread:{self.workers}x{self.threads}"
        return f"{self.kind}:{self.workers}"

    def args(self) -> list[str]:
        args = ["--worker-class", self.kind, "--workers", str(self.workers)]
        if self.kind == "gthread":
            args += ["--threads", str(self.threads)]
        return args


PRODUCTION_CONFIG = ROOT / "gunicorn.conf.py"


class Server:
    """gunicorn on a free local port. By default with a bare configuration (the command
    line only) and no access log; with ``access_log`` it loads the project's production
    ``gunicorn.conf.py`` (its token-redacting access logger) and logs to /dev/null, which
    shows what formatting the access log costs."""

    def __init__(
        self,
        database_url: str,
        secret_key: str,
        config: WorkerConfig,
        log_dir: Path,
        access_log: bool = False,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = config
        self.log = log_dir / "gunicorn.log"
        self.config_file = PRODUCTION_CONFIG if access_log else log_dir / "gunicorn_bare.conf.py"
        if not access_log:
            self.config_file.write_text("# bench: everything is set on the command line\n")
        self.access_log = access_log
        self.env = {
            **os.environ,
            "LYHORD_ENV": "production",
            "LYHORD_DATABASE_URL": database_url,
            "LYHORD_SECRET_KEY": secret_key,
            "LYHORD_SESSION_COOKIE_SECURE": "false",
            "LYHORD_LOG_LEVEL": "WARNING",
        }
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError("server not started")
        return self.proc.pid

    def start(self) -> None:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        cmd = [
            str(gunicorn),
            "--config",
            str(self.config_file),
            "--bind",
            f"127.0.0.1:{self.port}",
            *self.config.args(),
            "--backlog",
            "2048",
            *(["--access-logfile", "/dev/null"] if self.access_log else []),
            "--error-logfile",
            str(self.log),
            "--log-level",
            "warning",
            "survey:create_app()",
        ]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within 30 s; see {self.log}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
