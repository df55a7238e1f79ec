"""``python -m bench [respond|results] [options]``; with no subcommand every benchmark runs."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from bench import respond, results
from bench.common import PG_URL
from bench.server import WorkerConfig


def _ints(raw: str) -> tuple[int, ...]:
    return tuple(int(v) for v in raw.split(","))


def add_respond_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        choices=("sqlite", "postgresql", "all"),
        default="all",
        help="database(s) to measure (default: both)",
    )
    parser.add_argument(
        "--users",
        type=_ints,
        default=respond.Options.users,
        help="concurrent respondents per step, comma-separated (default: 8,32,64)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=respond.Options.duration,
        help="measured seconds per step (default: %(default)s)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=respond.Options.warmup,
        help="seconds before measuring in each step (default: %(default)s)",
    )
    parser.add_argument(
        "--server",
        action="append",
        type=WorkerConfig.parse,
        help=f"gunicorn workers, e.g. sync:3 or gthread:2x4; repeat to compare "
        f"(default: {respond.DEFAULT_SERVER})",
    )
    parser.add_argument(
        "--load-processes",
        type=int,
        default=respond.Options.load_processes,
        help="locust worker processes (default: %(default)s)",
    )
    parser.add_argument(
        "--max-rate",
        type=float,
        default=respond.Options.max_rate,
        help="respondents/s the token supply is sized for (default: %(default)s)",
    )
    parser.add_argument(
        "--pg-url",
        default=PG_URL,
        help="scratch PostgreSQL database, created if missing; its public schema is dropped "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="run gunicorn with the production gunicorn.conf.py and its access logger "
        "(to /dev/null) instead of a bare configuration without access log",
    )


def respond_options(args: argparse.Namespace) -> respond.Options:
    return respond.Options(
        databases=("sqlite", "postgresql") if args.db == "all" else (args.db,),
        users=args.users,
        duration=args.duration,
        warmup=args.warmup,
        servers=tuple(args.server) if args.server else respond.Options.servers,
        load_processes=args.load_processes,
        max_rate=args.max_rate,
        pg_url=args.pg_url,
        access_log=args.access_log,
    )


def run_respond(args: argparse.Namespace) -> None:
    respond.run(respond_options(args))


BENCHMARKS: dict[
    str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], None]]
] = {
    "respond": ("respondents/s against gunicorn", add_respond_arguments, run_respond),
    "results": (
        "publishing a 50,000-respondent region and reading its pages",
        results.add_arguments,
        results.run,
    ),
}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sub = parser.add_subparsers(dest="benchmark", metavar="BENCHMARK")
    for name, (help_text, add_arguments, _) in BENCHMARKS.items():
        add_arguments(sub.add_parser(name, help=help_text))
    args = parser.parse_args(argv)
    if args.benchmark is None:  # every benchmark, with its defaults
        for _help, add_arguments, run_benchmark in BENCHMARKS.values():
            defaults = argparse.ArgumentParser()
            add_arguments(defaults)
            run_benchmark(defaults.parse_args([]))
        return
    BENCHMARKS[args.benchmark][2](args)


if __name__ == "__main__":
    main(sys.argv[1:])
