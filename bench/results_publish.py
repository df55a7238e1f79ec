"""One publication, measured: ``python -m bench.results_publish URL ROUND_ID DAY OUT.json``.

Run by :mod:`bench.results` in a fresh process per round, so that the peak memory is that of
publishing alone. The gate's phases are timed by wrapping its steps (module attributes, looked
up at call time), without changing the application:

load         read the round (:func:`survey.services.aggregates.load_round`), the previous
             rounds' publications (decoded in a thread meanwhile) and the unit lineage
suppression  the group-level pass and one pass per question and index (with their audits)
figures      raw frames, item and index figures, keeping the shown cells
comparisons  parent, rest, previous round and trends, with FDR
drivers      driver analysis
encode       the groups' figures and comparisons as JSON documents
gate other   the rest of the gate (groups table, suppression log, ...)
store        writing the publication rows, and the commit
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import resource
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey import anonymity, figures
from survey.db import make_engine
from survey.models.publication import PublishedDriver, PublishedGroup, SuppressedCell
from survey.services import publishing

PHASES: dict[str, list[tuple[Any, str]]] = {
    "load": [
        (publishing, "load_round"),
        (publishing, "previous_documents"),  # decoded in a thread meanwhile: not wrapped
        (publishing, "lineage_edges"),
    ],
    "suppression": [(anonymity, "_patterns"), (anonymity, "suppression_patterns")],
    "figures": [
        (figures, "index_scores"),
        (figures, "compute_frames"),
        (figures, "item_figures"),
        (figures, "index_figures"),
        (anonymity, "_shown_masks"),
    ],
    # In the publishing process for a small round; for a large one they run in a worker
    # while the figures are stored, and this is only the time spent waiting for them.
    "comparisons": [(anonymity, "_comparisons"), (anonymity.Gated, "resolve")],
    "drivers": [(anonymity, "_drivers")],
    "encode": [(publishing, "figure_documents"), (publishing, "comparison_documents")],
    "store": [(publishing._Writer, "write")],  # for the timeline
}
INNER = ("suppression", "figures", "comparisons", "drivers")


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (worker processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class Phases:
    """Exclusive wall and CPU time per phase: a phase called inside another is taken out of
    the outer one, so the phases add up to the whole."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self.stack: list[str] = []
        self.mark = (time.perf_counter(), _cpu())
        self.calls: list[tuple[str, float, float]] = []  # function, start, end (timeline)

    def _switch(self) -> None:
        now = (time.perf_counter(), _cpu())
        if self.stack:
            self.wall[self.stack[-1]] += now[0] - self.mark[0]
            self.cpu[self.stack[-1]] += now[1] - self.mark[1]
        self.mark = now

    def wrap(self, phase: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            self._switch()
            self.stack.append(phase)
            start = self.mark[0]
            try:
                return fn(*args, **kwargs)
            finally:
                self._switch()
                self.stack.pop()
                self.calls.append((fn.__name__, start, self.mark[0]))

        return wrapper


def instrument() -> Phases:
    phases = Phases()
    for phase, targets in PHASES.items():
        for owner, name in targets:
            if hasattr(owner, name):
                setattr(owner, name, phases.wrap(phase, getattr(owner, name)))
    gate = phases.wrap("gate", anonymity.gate_round)
    publishing.anonymity.gate_round = gate
    return phases


def _rss_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # kilobytes on Linux


def run(url: str, round_id: int, day: dt.date) -> dict[str, Any]:
    phases = instrument()
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        session.connection()  # connect before the clock starts
        start, start_cpu = time.perf_counter(), _cpu()
        phases.stack, phases.mark = ["store"], (start, start_cpu)
        publication = publishing.publish_round(session, round_id, day, by="bench")
        session.commit()
        phases._switch()
        done, done_cpu = time.perf_counter(), _cpu()
        pid = publication.id
        rows = {
            model.__tablename__: session.scalar(
                select(func.count()).select_from(model).where(model.publication_id == pid)
            )
            for model in (PublishedGroup, SuppressedCell, PublishedDriver)
        }
        # Figures and comparisons are stored per group: counted here, after the clock.
        for name, columns in (
            ("figures", [PublishedGroup.figures]),
            ("comparisons", [PublishedGroup.index_comparisons, PublishedGroup.item_comparisons]),
        ):
            stored = session.execute(select(*columns).where(PublishedGroup.publication_id == pid))
            rows[name] = sum(len(d["measure"]) for row in stored for d in row if d)
        audit = publication.audit
    engine.dispose()
    names = ["load", *INNER, "gate other", "encode", "store"]
    phases.wall["gate other"] = phases.wall.pop("gate", 0.0)
    phases.cpu["gate other"] = phases.cpu.pop("gate", 0.0)
    return {
        "round_id": round_id,
        "wall_seconds": done - start,
        "cpu_seconds": done_cpu - start_cpu,
        "phases": {p: phases.wall.get(p, 0.0) for p in names},
        "phases_cpu": {p: phases.cpu.get(p, 0.0) for p in names},
        "max_rss_mib": _rss_mib(resource.RUSAGE_SELF),
        "max_rss_children_mib": _rss_mib(resource.RUSAGE_CHILDREN),
        "rows": rows,
        "audit": audit,
        "timeline": [
            (name, a - start, b - start) for name, a, b in sorted(phases.calls, key=lambda c: c[1])
        ],
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    url, round_id, day, out = args
    result = run(url, int(round_id), dt.date.fromisoformat(day))
    Path(out).write_text(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
