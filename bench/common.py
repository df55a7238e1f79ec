"""Shared pieces: CPU accounting from /proc, PostgreSQL start-up, result files, tables."""

from __future__ import annotations

import bisect
import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
WORK_DIR = Path(tempfile.gettempdir()) / "lyhord-bench"
CLK_TCK = os.sysconf("SC_CLK_TCK")
# A database of its own: the tests' scratch database ("test") is reset by every
# `make test-pg`, which, run during a benchmark, wiped the stored responses in mid-step.
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/lyhord_bench"


def fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of one process (all its threads), from /proc/<pid>/stat; 0 if gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    fields = raw[raw.rindex(")") + 2 :].split()  # the command name may contain spaces
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of stat(5)


def tree_pids(root: int) -> list[int]:
    """A process and all its descendants (gunicorn master + workers, locust + children)."""
    try:
        parent = psutil.Process(root)
        return [root, *(p.pid for p in parent.children(recursive=True))]
    except psutil.NoSuchProcess:
        return []


# The server processes that work for every database: our commits keep them busy too.
_SHARED_POSTGRES = ("checkpointer", "background writer", "walwriter")


def postgres_pids(database: str | None = None) -> list[int]:
    """PostgreSQL server processes: with ``database``, only the backends (and autovacuum
    workers) of that database plus the shared checkpointer, background and WAL writers, so
    another database's work on the same server is not counted."""
    pids = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        if proc.info["name"] not in ("postgres", "postmaster"):
            continue
        title = " ".join(proc.info["cmdline"] or ()).strip()
        if (
            database is None
            or f" {database} " in f"{title} "
            or any(title.endswith(f": {shared}") for shared in _SHARED_POSTGRES)
        ):
            pids.append(proc.pid)
    return pids


def all_cpu_seconds() -> dict[int, tuple[str, float]]:
    """Every process's name and CPU seconds so far (to name what disturbed a run)."""
    found = {}
    for proc in psutil.process_iter(["name", "cpu_times"]):
        times = proc.info["cpu_times"]
        if times is not None:
            found[proc.pid] = (str(proc.info["name"]), times.user + times.system)
    return found


def busiest_others(
    before: dict[int, tuple[str, float]],
    after: dict[int, tuple[str, float]],
    exclude: Iterable[int],
    seconds: float,
    top: int = 3,
) -> list[tuple[str, float]]:
    """The processes outside ``exclude`` that used the most CPU between two snapshots, as
    (name, cores) pairs; processes started in between count from zero."""
    skip = set(exclude)
    used = [
        (name, (cpu - before.get(pid, (name, 0.0))[1]) / seconds)
        for pid, (name, cpu) in after.items()
        if pid not in skip
    ]
    return [(name, round(cores, 2)) for name, cores in sorted(used, key=lambda u: -u[1])[:top]]


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    line = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in line]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # guest time is already counted in user
    return (total - idle) / CLK_TCK, total / CLK_TCK


@dataclass
class CpuGroup:
    """A named set of processes whose CPU time is summed. The pids are looked up again at
    most every ``refresh`` seconds (looking them up costs CPU too), and a process that exits
    keeps the CPU it used (its last reading is remembered)."""

    name: str
    find: Callable[[], Iterable[int]]
    refresh: float = 1.0
    last: dict[int, float] = field(default_factory=dict)
    _pids: list[int] = field(default_factory=list)
    _found_at: float = float("-inf")

    def sample(self) -> float:
        now = time.monotonic()
        if now - self._found_at >= self.refresh:
            self._pids = list(self.find())
            self._found_at = now
        for pid in self._pids:
            seconds = proc_cpu_seconds(pid)
            if seconds or pid not in self.last:
                self.last[pid] = max(seconds, self.last.get(pid, 0.0))
        return sum(self.last.values())


class CpuSampler:
    """Samples CPU seconds of several process groups (and the machine) every ``interval`` s
    in a thread; :meth:`at` interpolates the cumulative value at any wall-clock time."""

    def __init__(self, groups: Sequence[CpuGroup], interval: float = 0.2) -> None:
        self.groups = list(groups)
        self.interval = interval
        self.times: list[float] = []
        self.values: list[dict[str, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        busy, total = machine_busy_seconds()
        row = {g.name: g.sample() for g in self.groups}
        row["machine_busy"] = busy
        row["machine_total"] = total
        self.times.append(time.time())
        self.values.append(row)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> CpuSampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def at(self, when: float, name: str) -> float:
        i = bisect.bisect_left(self.times, when)
        if i == 0:
            return self.values[0][name]
        if i >= len(self.times):
            return self.values[-1][name]
        t0, t1 = self.times[i - 1], self.times[i]
        v0, v1 = self.values[i - 1][name], self.values[i][name]
        return v0 + (v1 - v0) * (when - t0) / (t1 - t0) if t1 > t0 else v1

    def between(self, start: float, end: float, name: str) -> float:
        return self.at(end, name) - self.at(start, name)


def ensure_postgresql(host: str = "127.0.0.1", port: int = 5432) -> None:
    """Start the local cluster (as the Makefile's test-pg does) when nothing answers."""
    ready = ["pg_isready", "-q", "-h", host, "-p", str(port)]
    if subprocess.run(ready, check=False).returncode == 0:
        return
    versions = sorted(os.listdir("/etc/postgresql"))
    if not versions:
        raise RuntimeError("PostgreSQL is not running and no cluster is configured")
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"], check=True
    )
    for _ in range(50):
        if subprocess.run(ready, check=False).returncode == 0:
            return
        time.sleep(0.2)
    raise RuntimeError("PostgreSQL did not start")


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named in ``url`` if it does not exist yet."""
    from sqlalchemy import create_engine, make_url, text

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": target.database},
            )
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of already sorted values; nan if none."""
    if not sorted_values:
        return float("nan")
    pos = (len(sorted_values) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain-text table with right-aligned columns."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if value != value:  # nan
            return "-"
        return f"{value:.1f}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def write_results(name: str, data: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = RESULTS_DIR / f"{name}-{stamp}.json"
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    (RESULTS_DIR / f"{name}-latest.json").write_text(path.read_text())
    return path
