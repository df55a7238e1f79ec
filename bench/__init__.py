"""Benchmarks (``make bench`` / ``python -m bench``): measurements, not tests.

Each benchmark is a subcommand of ``python -m bench``; with no subcommand all of them run
with their defaults. Results are printed as tables and written as JSON to ``bench/results/``
(not in git; ``<name>-latest.json`` is the last run).

``python -m bench respond [--db sqlite|postgresql|all] [--users 8,32,64] [--duration S]
[--warmup S] [--server sync:3 ...]`` measures the respondent path against gunicorn
(:mod:`bench.respond`). Its PostgreSQL database (``--pg-url``) is scratch: the public schema
is dropped. The numbers are only meaningful on an otherwise idle machine: every step reports
the CPU used by other processes ("other cores") and warns when it was disturbed.
"""
