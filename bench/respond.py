"""The respondent benchmark: complete respondents per second against gunicorn.

For each database (SQLite with WAL, PostgreSQL) and each gunicorn configuration: a fresh,
migrated database with one open round whose questionnaire is one page of 30 five-point
items and one free-text question; gunicorn serving ``create_app()`` in production mode;
then one locust run per step (8, 32, 64 concurrent respondents by default) with a master and
several worker processes of FastHttpUser respondents, each using unused links only.

Per step, inside a measuring window that starts ``warmup`` seconds after the first request:
complete respondents per second (receipt seen), request latency percentiles (all requests
and per request), CPU seconds of the gunicorn master and workers (from /proc) per complete
respondent, and for PostgreSQL also of the database server. Over the whole step: respondents
the client saw a receipt for versus responses stored (rows counted in ``response``).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError

from bench.common import (
    BENCH_DIR,
    PG_URL,
    ROOT,
    WORK_DIR,
    CpuGroup,
    CpuSampler,
    all_cpu_seconds,
    busiest_others,
    ensure_database,
    ensure_postgresql,
    free_port,
    fresh_dir,
    percentile,
    postgres_pids,
    table,
    tree_pids,
    write_results,
)
from bench.respond_setup import SECRET_KEY, Prepared, Stored, count_stored, prepare, sqlite_url
from bench.server import Server, WorkerConfig

LOCUSTFILE = BENCH_DIR / "respond_locust.py"
REQUEST_NAMES = ("1 open link", "2 welcome", "3 page", "4 submit", "5 receipt")
DEFAULT_SERVER = "sync:3"
LIKERT_PER_RESPONSE = 30

# Targets from the issue.
TARGET_RATE = 150.0  # complete respondents per second
TARGET_P95_MS = 50.0  # at 32 concurrent respondents
TARGET_CPU_MS = 8.0  # server CPU per complete respondent
DISTURBED_CORES = 0.25  # CPU used by processes that are neither server nor load generator


@dataclass(frozen=True)
class Options:
    databases: tuple[str, ...] = ("sqlite", "postgresql")
    users: tuple[int, ...] = (8, 32, 64)
    duration: float = 20.0
    warmup: float = 5.0
    servers: tuple[WorkerConfig, ...] = (WorkerConfig.parse(DEFAULT_SERVER),)
    load_processes: int = 2
    max_rate: float = 600.0  # sizes the token supply: respondents/s we could possibly see
    pg_url: str = PG_URL
    access_log: bool = False  # production gunicorn.conf.py, access log to /dev/null


@dataclass
class Latency:
    n: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, values: list[float]) -> Latency:
        values = sorted(values)
        return cls(
            n=len(values),
            p50=percentile(values, 50),
            p95=percentile(values, 95),
            p99=percentile(values, 99),
            max=values[-1] if values else float("nan"),
        )


@dataclass
class StepResult:
    users: int
    window_s: float
    respondents: int  # receipts seen inside the window
    respondents_per_s: float
    requests_per_s: float
    latency: Latency
    latency_by_request: dict[str, Latency]
    server_cpu_ms_per_respondent: float
    server_cores: float  # mean CPU cores the server used inside the window
    postgres_cpu_ms_per_respondent: float | None
    loadgen_cores: float
    other_cores: float  # everything else on the machine (other users' work disturbs the step)
    machine_busy_pct: float
    confirmed: int  # receipts seen over the whole step (warm-up and wind-down included)
    submitted: int  # answer POSTs sent over the whole step
    stored: int  # new rows in ``response`` over the whole step
    lost: int  # confirmed but not stored
    answers_ok: bool  # 30 likert rows per stored response
    database_intact: bool  # nobody else reset or changed the database during the step
    failed_requests: int
    failures: dict[str, int] = field(default_factory=dict)
    tokens_left: int = 0
    busiest_others: list[tuple[str, float]] = field(default_factory=list)  # name, cores


def _env(extra: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **extra}


def _locust() -> str:
    return str(Path(sys.executable).with_name("locust"))


def run_step(
    options: Options,
    server: Server,
    prepared: Prepared,
    users: int,
    token_files: list[Path],
    step_dir: Path,
    meta_file: Path,
) -> StepResult:
    fresh_dir(step_dir)
    before = count_stored(prepared.url)
    port = free_port()
    run_time = options.warmup + options.duration + 2
    common = ["-f", str(LOCUSTFILE), "--loglevel", "WARNING", "--skip-log-setup"]
    master_cmd = [
        _locust(),
        *common,
        "--master",
        "--headless",
        "--master-bind-host=127.0.0.1",
        f"--master-bind-port={port}",
        f"--expect-workers={options.load_processes}",
        f"--users={users}",
        f"--spawn-rate={users}",
        f"--run-time={math.ceil(run_time)}s",
        "--stop-timeout=30",
        f"--host={server.url}",
        "--only-summary",
        "--exit-code-on-error=0",
    ]
    worker_cmd = [
        _locust(),
        *common,
        "--worker",
        "--master-host=127.0.0.1",
        f"--master-port={port}",
    ]
    log = (step_dir / "locust.log").open("ab")
    procs: list[subprocess.Popen[bytes]] = []
    groups = [
        CpuGroup("server", lambda: tree_pids(server.pid)),
        CpuGroup("loadgen", lambda: [p.pid for p in procs], refresh=0.0),
        CpuGroup("bench", lambda: [os.getpid()], refresh=3600.0),  # this sampler itself
    ]
    is_pg = prepared.url.startswith("postgresql")
    if is_pg:
        database = make_url(prepared.url).database
        groups.append(CpuGroup("postgres", lambda: postgres_pids(database), refresh=1.0))
    everyone_before, started = all_cpu_seconds(), time.monotonic()
    try:
        with CpuSampler(groups) as cpu:
            procs.append(subprocess.Popen(master_cmd, stdout=log, stderr=log))
            for i, tokens in enumerate(token_files):
                env = _env(
                    {
                        # gunicorn's sync workers close every connection, so each request
                        # opens a new one; gevent's default resolver hands even "127.0.0.1"
                        # to a thread pool, which cost a quarter of the generator's CPU.
                        "GEVENT_RESOLVER": "block",
                        "BENCH_TOKENS": str(tokens),
                        "BENCH_META": str(meta_file),
                        "BENCH_OUT": str(step_dir),
                        "BENCH_WORKER": str(i),
                    }
                )
                procs.append(subprocess.Popen(worker_cmd, stdout=log, stderr=log, env=env))
            deadline = time.monotonic() + run_time + 90
            for proc in procs:
                proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        log.close()
    ours = {os.getpid(), *(p.pid for p in procs), *cpu_pids(groups)}
    others = busiest_others(everyone_before, all_cpu_seconds(), ours, time.monotonic() - started)
    after = count_stored(prepared.url)
    step = _analyse(options, users, step_dir, cpu, before, after, is_pg)
    step.busiest_others = others
    return step


def cpu_pids(groups: list[CpuGroup]) -> set[int]:
    return {pid for group in groups for pid in group.last}


def _analyse(
    options: Options,
    users: int,
    step_dir: Path,
    cpu: CpuSampler,
    before: Stored,
    after: Stored,
    is_pg: bool,
) -> StepResult:
    dumps = [json.loads(p.read_text()) for p in sorted(step_dir.glob("worker-*.json"))]
    if len(dumps) != options.load_processes:
        raise RuntimeError(f"expected {options.load_processes} worker results in {step_dir}")
    requests = [r for d in dumps for r in d["requests"]]
    if not requests:
        raise RuntimeError(f"no requests were made; see {step_dir / 'locust.log'}")
    first = min(end - ms / 1000 for _, end, ms, _ in requests)
    start = first + options.warmup
    end = start + options.duration
    inside = [r for r in requests if start <= r[1] < end]
    confirmed_inside = sum(start <= t < end for d in dumps for t in d["confirmed"])
    by_name: dict[str, list[float]] = {name: [] for name in REQUEST_NAMES}
    for name, _, ms, _ in inside:
        by_name.setdefault(name, []).append(ms)
    per_respondent = max(confirmed_inside, 1)
    window = end - start
    busy = cpu.between(start, end, "machine_busy")
    failures: dict[str, int] = {}
    for d in dumps:
        for reason, n in d["failures"].items():
            failures[reason] = failures.get(reason, 0) + n
    confirmed = sum(len(d["confirmed"]) for d in dumps)
    stored = after.responses - before.responses
    return StepResult(
        users=users,
        window_s=window,
        respondents=confirmed_inside,
        respondents_per_s=confirmed_inside / window,
        requests_per_s=len(inside) / window,
        latency=Latency.of([ms for _, _, ms, _ in inside]),
        latency_by_request={name: Latency.of(v) for name, v in by_name.items()},
        server_cpu_ms_per_respondent=cpu.between(start, end, "server") * 1000 / per_respondent,
        server_cores=cpu.between(start, end, "server") / window,
        postgres_cpu_ms_per_respondent=(
            cpu.between(start, end, "postgres") * 1000 / per_respondent if is_pg else None
        ),
        loadgen_cores=cpu.between(start, end, "loadgen") / window,
        other_cores=(
            busy
            - cpu.between(start, end, "server")
            - cpu.between(start, end, "loadgen")
            - cpu.between(start, end, "bench")
            - (cpu.between(start, end, "postgres") if is_pg else 0.0)
        )
        / window,
        machine_busy_pct=100 * busy / max(cpu.between(start, end, "machine_total"), 1e-9),
        confirmed=confirmed,
        submitted=sum(d["submitted"] for d in dumps),
        stored=stored,
        lost=max(0, confirmed - stored),
        answers_ok=(after.answers - before.answers) == LIKERT_PER_RESPONSE * stored
        and (after.used_invitations - before.used_invitations) == stored,
        database_intact=after.invitations == before.invitations
        and after.responses >= before.responses,
        failed_requests=sum(not ok for d in dumps for *_, ok in d["requests"]),
        failures=failures,
        tokens_left=sum(d["tokens_left"] for d in dumps),
    )


def run_database(options: Options, database: str, config: WorkerConfig) -> dict[str, Any]:
    workdir = fresh_dir(WORK_DIR / f"respond-{database}-{config}".replace(":", "-"))
    url = sqlite_url(workdir) if database == "sqlite" else options.pg_url
    per_worker = math.ceil(
        options.max_rate * (options.warmup + options.duration + 10) / options.load_processes
    )
    token_files = {
        users: [workdir / f"tokens-u{users}-w{i}.txt" for i in range(options.load_processes)]
        for users in options.users
    }
    started = time.monotonic()
    prepared = prepare(url, [(p, per_worker) for files in token_files.values() for p in files])
    setup_s = time.monotonic() - started
    meta_file = workdir / "meta.json"
    meta_file.write_text(
        json.dumps({"likert_keys": prepared.likert_keys, "text_key": prepared.text_key})
    )
    print(f"\n== {database}, gunicorn {config}: database ready in {setup_s:.1f} s", flush=True)
    steps: list[StepResult] = []
    with Server(url, SECRET_KEY, config, workdir, access_log=options.access_log) as server:
        for users in options.users:
            step = run_step(
                options,
                server,
                prepared,
                users,
                token_files[users],
                workdir / f"step-u{users}",
                meta_file,
            )
            steps.append(step)
            print(
                f"   {users:3d} users: {step.respondents_per_s:6.1f} respondents/s, "
                f"p95 {step.latency.p95:5.1f} ms, "
                f"server CPU {step.server_cpu_ms_per_respondent:4.1f} ms/respondent",
                flush=True,
            )
    return {
        "database": database,
        "server": str(config) + (" +access log" if options.access_log else ""),
        "setup_s": setup_s,
        "tokens_per_step": per_worker * options.load_processes,
        "steps": [asdict(s) for s in steps],
        "_steps": steps,
    }


def _verdict(steps: list[StepResult]) -> list[str]:
    lines = []
    best = max(s.respondents_per_s for s in steps)
    lines.append(
        f"peak {best:.0f} respondents/s (target ≥ {TARGET_RATE:.0f}): " + _ok(best >= TARGET_RATE)
    )
    for s in steps:
        if s.users == 32:
            lines.append(
                f"p95 at 32 users {s.latency.p95:.1f} ms (target < {TARGET_P95_MS:.0f}): "
                + _ok(s.latency.p95 < TARGET_P95_MS)
            )
    worst = max(s.server_cpu_ms_per_respondent for s in steps)
    lines.append(
        f"server CPU ≤ {worst:.1f} ms/respondent (target ≤ {TARGET_CPU_MS:.0f}): "
        + _ok(worst <= TARGET_CPU_MS)
    )
    lost = sum(s.lost for s in steps)
    bad = [s.users for s in steps if not s.answers_ok]
    lines.append(
        f"lost {lost}, answer rows wrong in steps {bad or 'none'}: " + _ok(not lost and not bad)
    )
    reset = [s.users for s in steps if not s.database_intact]
    if reset:
        lines.append(
            f"INVALID: another process changed the database during the steps with {reset} "
            "users (invitations disappeared); their counts say nothing about the app"
        )
    return lines


def _ok(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def report(run: dict[str, Any]) -> str:
    steps: list[StepResult] = run["_steps"]
    pg = run["database"] == "postgresql"
    headers = ["users", "resp/s", "req/s", "p50 ms", "p95 ms", "p99 ms", "CPU ms/resp"]
    if pg:
        headers.append("PG CPU ms/resp")
    headers += ["server cores", "loadgen cores", "other cores", "busy %"]
    headers += ["confirmed", "stored", "lost", "errors"]
    rows = []
    for s in steps:
        row: list[Any] = [
            s.users,
            s.respondents_per_s,
            s.requests_per_s,
            s.latency.p50,
            s.latency.p95,
            s.latency.p99,
            s.server_cpu_ms_per_respondent,
        ]
        if pg:
            row.append(s.postgres_cpu_ms_per_respondent)
        row += [
            f"{s.server_cores:.2f}",
            f"{s.loadgen_cores:.2f}",
            f"{s.other_cores:.2f}",
            s.machine_busy_pct,
            s.confirmed,
            s.stored,
            s.lost,
            s.failed_requests + sum(s.failures.values()),
        ]
        rows.append(row)
    out = [
        f"Respondent benchmark: {run['database']}, gunicorn {run['server']}",
        table(headers, rows),
    ]
    per_type = []
    for s in steps:
        for name in REQUEST_NAMES:
            lat = s.latency_by_request[name]
            per_type.append([s.users, name, lat.n, lat.p50, lat.p95, lat.p99, lat.max])
    out.append(table(["users", "request", "n", "p50 ms", "p95 ms", "p99 ms", "max ms"], per_type))
    problems = {s.users: s.failures for s in steps if s.failures}
    if problems:
        out.append(f"failures by step: {problems}")
    disturbed = [s for s in steps if s.other_cores > DISTURBED_CORES]
    if disturbed:
        out.append(
            f"WARNING: other processes used more than {DISTURBED_CORES} cores during the "
            f"steps with {[s.users for s in disturbed]} users; their figures understate what "
            "the server can do. Busiest: "
            + "; ".join(f"{s.users} users: {s.busiest_others}" for s in disturbed)
        )
    out += ["targets: " + line for line in _verdict(steps)]
    return "\n".join(out)


def _revision() -> str:
    """The app's git commit, with ``+dirty`` for uncommitted changes (best effort)."""
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return (rev or "unknown") + ("+dirty" if dirty else "")


def run(options: Options) -> list[dict[str, Any]]:
    machine = {"cpus": os.cpu_count(), "loadavg_before": os.getloadavg(), "app": _revision()}
    runs = []
    skipped: dict[str, str] = {}
    for database in options.databases:
        if database == "postgresql":
            try:
                ensure_postgresql()
                ensure_database(options.pg_url)
            except (OSError, RuntimeError, SQLAlchemyError, subprocess.CalledProcessError) as error:
                skipped[database] = str(error)
                print(f"\n== postgresql skipped: {error}", flush=True)
                continue
        for config in options.servers:
            runs.append(run_database(options, database, config))
    print()
    for result in runs:
        print(report(result), end="\n\n")
    path = write_results(
        "respond",
        {
            "machine": machine,
            "options": {**asdict(options), "servers": [str(s) for s in options.servers]},
            "runs": [{k: v for k, v in r.items() if k != "_steps"} for r in runs],
            "skipped": skipped,
        },
    )
    print(f"results: {path}")
    return runs
