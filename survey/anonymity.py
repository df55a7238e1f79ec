"""The anonymity gate: the one place where it is decided what may leave the system.

Every figure a page, an export or the API shows was let through here, when a round was
published (:func:`gate_round`) or, for live response counts, by :func:`gate_counts`.

How (design.md, "Anonymity model"):

1. Groups are the units of the round (each with its descendants) and each unit broken down by
   the background questions. :mod:`analysis.disclosure` builds that structure once per round.
2. The group-level pass hides every group with 0 < n < k and every empty group, then adds
   complementary suppression until no set of 1..k−1 respondents can be derived from what is
   shown by adding and subtracting, across every report of the round at once: one pattern per
   round, used by all pages and exports.
3. Each question, and each index, gets its own pass with its own counts (those who answered it)
   and its own k (the higher k for sensitive questions), starting from the group-level pattern.
   An index is hidden wherever one of its items is. Measures with the same counts, k and
   starting pattern (questions everyone answered) share one run of the engine: it would find
   the same pattern for each.
4. Every pass is audited (a linear-algebra proof that nothing below k is derivable); a failed
   audit stops the publication instead of publishing.
5. Figures, response counts and rates, comparisons and driver analyses are produced only for
   shown cells. The suppression log names each hidden cell and its rule, never its figures.

A large round (:data:`PARALLEL_MIN_RESPONDENTS`) uses the machine's cores: the passes and the
respondents' index scores run in worker processes while this process rolls up the counts, and
the comparisons and the drivers are computed in two more workers while the figures are stored.
Every step is deterministic, so the result is the same as when everything runs here, in order
(as for small rounds and the tests).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, TypeVar, cast

import numpy as np
import pandas as pd

import analysis
from analysis import disclosure
from survey import comparisons, figures
from survey.services.aggregates import RoundData

log = logging.getLogger(__name__)
T = TypeVar("T")
E = TypeVar("E")
R = TypeVar("R")

ENGINE = "lyhord-sdc 1 (analysis.disclosure)"
WHOLE_GROUP = "*"
ALPHA = 0.05
DRIVER_OUTCOMES = ("hme", "am.intention_to_stay", "am.recommend.1")
DRIVER_MIN_N = 30
# The passes of one measure each are independent: a large round runs them in worker processes
# (one per core, at most PASS_WORKERS); a small one runs them here, in order.
PARALLEL_MIN_RESPONDENTS = 5_000
PASS_WORKERS = 2


class GateError(RuntimeError):
    """The audit found a derivable small group: nothing is published."""


@dataclass(frozen=True)
class Gated:
    """What passed the gate, ready to store. No frame holds a figure of a hidden cell.

    The figures are computed when they are read, so that they can be stored as they come. For a
    large round the comparisons and drivers are still being computed in a worker process
    while the rest is stored; reading them waits for it (and raises its error).
    """

    groups: pd.DataFrame
    suppressed: pd.DataFrame
    parts: Callable[[], Iterator[pd.DataFrame]]  # the figures, computed a few measures at a time
    # Comparisons and drivers: for a large round each is computed in a worker process of its
    # own while the figures are computed and stored here.
    analyses: tuple[Future[pd.DataFrame], Future[pd.DataFrame]]
    audit: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def figures(self) -> pd.DataFrame:
        """All the shown cells' figures in one frame."""
        parts = list(self.parts())
        if not parts:
            return pd.DataFrame(columns=[*figures.FIGURE_COLUMNS, "score_mean"])
        return pd.concat(parts, ignore_index=True)

    def resolve(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        compared, drivers = self.analyses
        return compared.result(), drivers.result()

    @property
    def comparisons(self) -> pd.DataFrame:
        return self.resolve()[0]

    @property
    def drivers(self) -> pd.DataFrame:
        return self.resolve()[1]


def _codes(values: pd.Series) -> pd.Series:
    return values.map(lambda v: None if pd.isna(v) else str(int(v)))


def _structure(data: RoundData) -> tuple[disclosure.Structure, pd.DataFrame]:
    tree = pd.DataFrame(
        {"unit": data.units["unit"].astype(str), "parent": _codes(data.units["parent"])}
    )
    structure = disclosure.build_structure(tree, figures.breakdowns(data))
    # Categorical columns: the engine then counts each pass from codes, not from text.
    units = [str(u) for u in data.units["unit"]]
    people = pd.DataFrame(
        {
            "unit": pd.Categorical.from_codes(
                pd.Index(data.units["unit"]).get_indexer(data.respondents["unit"]),
                categories=units,
            )
        }
    )
    for question, categories in zip(structure.questions, structure.categories, strict=True):
        answered = data.respondents[question]
        code = np.full(len(answered), -1, dtype=np.int64)
        present = answered.notna().to_numpy()
        values = answered.to_numpy(dtype=np.float64, na_value=np.nan)[present].astype(np.int64)
        code[present] = pd.Index(list(categories)).get_indexer([str(v) for v in values])
        people[question] = pd.Categorical.from_codes(code, categories=list(categories))
    return structure, people


def _published(pattern: pd.DataFrame) -> set[str]:
    return set(pattern.loc[pattern["published"].astype(bool), "group"])


def _pass(
    structure: disclosure.Structure,
    counts: disclosure.AtomCounts | pd.DataFrame,
    k: int,
    hidden: set[str] | None,
    audits: list[dict[str, Any]],
    name: str,
) -> pd.DataFrame:
    """One pass over ``counts`` (or a frame of respondents, counted here)."""
    # protect() = suppress() + the audit the engine must pass before it stops.
    pattern, result = disclosure.protect(
        structure, counts, k, initially_hidden=sorted(hidden or ())
    )
    if not result.safe:
        raise GateError(f"audit failed for {name}: {len(result.findings)} finding(s)")
    audits.append({"pass": name, "k": k, "hidden": int((~pattern["published"]).sum())})
    return pattern


@dataclass(frozen=True)
class PassResult:
    """One measure's pattern over the publishable groups: shown, and the rule of the others."""

    published: np.ndarray  # bool
    rule: np.ndarray  # int8 index into disclosure.RULES, -1 where published
    hidden: int  # hidden groups, remainders included (as in the audit summary)
    findings: int  # audit findings (0: safe)


def _measure_pass(
    structure: disclosure.Structure,
    atoms: disclosure.Atoms,
    who: np.ndarray,
    k: int,
    hidden: np.ndarray,
) -> PassResult:
    """One question's or index's pass: ``who`` answered it, ``hidden`` (positions) stay hidden."""
    size = structure.n_publishable
    keep_hidden = np.zeros(size, dtype=bool)
    keep_hidden[hidden] = True
    pattern, result = disclosure.protect(
        structure, atoms.count(who), k, initially_hidden=keep_hidden
    )
    published = pattern["published"].to_numpy(dtype=bool)
    rules = pattern["rule"].iloc[:size].to_numpy(dtype=object, na_value=None)
    rule = pd.Index(disclosure.RULES).get_indexer(rules).astype(np.int8)
    return PassResult(
        published[:size], rule, int((~published).sum()), 0 if result.safe else len(result.findings)
    )


_WORKER: dict[str, Any] = {}


def _start_worker(
    structure: disclosure.Structure, atoms: disclosure.Atoms, data: RoundData
) -> None:
    _WORKER.update(structure=structure, atoms=atoms, data=data)


def _worker_pass(who: np.ndarray, k: int, hidden: np.ndarray) -> PassResult:
    return _measure_pass(_WORKER["structure"], _WORKER["atoms"], who, k, hidden)


def _worker_scores(rule: str) -> pd.DataFrame:
    return figures.index_scores(_WORKER["data"], rule=rule)


Task = tuple[str, np.ndarray, int, np.ndarray]  # measure, respondents, k, hidden positions


def _context() -> multiprocessing.context.BaseContext:
    """Forked workers: they start at once and share this process's memory (nothing is
    copied to them). They run only numpy/pandas code on data handed to them, never touch the
    database connection or the locks of this process's other threads, and leave without
    running any clean-up (``os._exit``), so forking a threaded server process is safe here."""
    return multiprocessing.get_context("fork")


def _workers() -> int:
    """Worker processes for a large round: one per core, at most PASS_WORKERS; none (all
    in order, here) where processes cannot be forked."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return min(PASS_WORKERS, os.cpu_count() or 1)


class _Runner:
    """Starts the independent pieces of the suppression step: passes and index scores.

    With a pool they run in worker processes while this process does other work, and each
    start returns a function that waits for the results; without, they run right away, here.
    """

    def __init__(
        self,
        structure: disclosure.Structure,
        atoms: disclosure.Atoms,
        data: RoundData,
        pool: ProcessPoolExecutor | None,
    ) -> None:
        self.structure, self.atoms, self.data, self.pool = structure, atoms, data, pool

    def passes(self, tasks: list[Task]) -> Callable[[], dict[str, PassResult]]:
        """Each task's pass; measures with the same counts per atom, k and groups kept hidden
        (questions everyone answered, say) share one: the engine would find the same pattern."""
        distinct: dict[tuple[bytes, int, bytes], int] = {}
        work: list[tuple[np.ndarray, int, np.ndarray]] = []
        pass_of: dict[str, int] = {}
        for measure, who, k, hidden in tasks:
            key = (self.atoms.sizes(who).tobytes(), k, np.asarray(hidden, np.int64).tobytes())
            if key not in distinct:
                distinct[key] = len(work)
                work.append((who, k, hidden))
            pass_of[measure] = distinct[key]
        if self.pool is None:
            done = [_measure_pass(self.structure, self.atoms, w, k, h) for w, k, h in work]
            return lambda: {m: done[i] for m, i in pass_of.items()}
        futures = [self.pool.submit(_worker_pass, w, k, h) for w, k, h in work]
        return lambda: {m: futures[i].result() for m, i in pass_of.items()}

    def scores(self) -> Callable[[], pd.DataFrame]:
        """Every respondent's index scores (as :func:`figures.index_scores`)."""
        if self.pool is None:
            scores = figures.index_scores(self.data)
            return lambda: scores
        rules = sorted(set(self.data.indices["rule"]))
        futures = [self.pool.submit(_worker_scores, rule) for rule in rules]
        return lambda: figures.concat_scores([f.result() for f in futures])


@contextmanager
def _runner(
    structure: disclosure.Structure, atoms: disclosure.Atoms, data: RoundData
) -> Iterator[_Runner]:
    if not is_large(data):
        yield _Runner(structure, atoms, data, None)
        return
    light = replace(data, round=cast(Any, None))  # no database object goes to a worker
    with ProcessPoolExecutor(
        max_workers=_workers(),
        mp_context=_context(),
        initializer=_start_worker,
        initargs=(structure, atoms, light),
    ) as pool:
        yield _Runner(structure, atoms, data, pool)


@dataclass(frozen=True)
class Patterns:
    structure: disclosure.Structure
    level: pd.DataFrame
    measures: dict[str, set[str]]  # measure → shown groups
    passes: dict[str, PassResult]  # measure → its pattern (for figures and the log)
    audits: list[dict[str, Any]]


def is_large(data: RoundData) -> bool:
    """Whether the round is worth worker processes (small rounds run in order, here)."""
    return len(data.respondents) >= PARALLEL_MIN_RESPONDENTS and _workers() >= 2


def suppression_patterns(data: RoundData, scores: pd.DataFrame | None = None) -> Patterns:
    """The group-level pattern and one pattern per question and index, all audited.

    ``scores``: the respondents' index scores (:func:`figures.index_scores`), if at hand.
    """
    return _patterns(data, scores, lambda: None, lambda _scores, _first: None)[0]


def _patterns(
    data: RoundData,
    scores: pd.DataFrame | None,
    early: Callable[[], E],
    meanwhile: Callable[[pd.DataFrame, E], T],
) -> tuple[Patterns, pd.DataFrame, E, T]:
    """:func:`suppression_patterns`, also returning the index scores, ``early()`` and
    ``meanwhile(scores, early())``. For a large round the passes and the scores are computed
    in workers; ``early`` runs here while they start, ``meanwhile`` while the index passes
    run."""
    survey_round = data.round
    structure, people = _structure(data)
    audits: list[dict[str, Any]] = []
    atoms = disclosure.find_atoms(structure, people)  # once: every pass counts a subset
    level = _pass(
        structure, atoms.count(), survey_round.min_group_size, None, audits, "respondents"
    )
    size = structure.n_publishable
    level_hidden = ~level["published"].to_numpy(dtype=bool)[:size]
    thresholds = figures.measure_thresholds(
        data, survey_round.min_group_size, survey_round.min_group_size_sensitive
    )
    answered = figures.answered_items(data)
    nobody = np.array([], dtype=np.int64)
    index_keys = sorted(set(data.indices["index"]))
    items_first = [m for m in thresholds if m not in set(index_keys)]
    with _runner(structure, atoms, data) as run:
        scored = (lambda: scores) if scores is not None else run.scores()
        hidden = np.flatnonzero(level_hidden)
        items = run.passes(
            [(m, answered.get(m, nobody), thresholds[m], hidden) for m in items_first]
        )
        first = early()
        scores = scored()
        answered.update(figures.answered_indices(scores))
        passes = items()
        tasks = []
        for index in index_keys:
            # An index is hidden wherever one of its items is.
            hidden_here = level_hidden.copy()
            for item in data.indices.loc[data.indices["index"] == index, "question"]:
                item_pass = passes.get(item)
                hidden_here |= True if item_pass is None else ~item_pass.published
            tasks.append(
                (index, answered.get(index, nobody), thresholds[index], np.flatnonzero(hidden_here))
            )
        indices = run.passes(tasks)
        later = meanwhile(scores, first)
        passes.update(indices())
    ids = structure.groups["group"].to_numpy()[:size]
    measures: dict[str, set[str]] = {}
    for measure in [*items_first, *index_keys]:
        result = passes[measure]
        if result.findings:
            raise GateError(f"audit failed for {measure}: {result.findings} finding(s)")
        audits.append({"pass": measure, "k": thresholds[measure], "hidden": result.hidden})
        measures[measure] = set(ids[result.published])
    patterns = Patterns(structure, level, measures, {m: passes[m] for m in measures}, audits)
    return patterns, scores, first, later


def _groups_table(data: RoundData, patterns: Patterns) -> pd.DataFrame:
    level = patterns.level.iloc[: patterns.structure.n_publishable].copy()
    headcount = analysis.rollup(
        data.units.loc[:, ["unit", "headcount"]],
        data.units.loc[:, ["unit", "parent"]],
        columns="headcount",
    )
    heads = dict(zip(headcount["unit"].astype(str), headcount["headcount"], strict=True))
    shown = level["published"].astype(bool).to_numpy()
    is_unit = (level["kind"] == "unit").to_numpy()
    head = np.array(
        [heads.get(u) if k else None for u, k in zip(level["unit"], is_unit, strict=True)],
        dtype=object,
    )
    n = level["n"].to_numpy()
    rate = [
        (float(c) / float(h) if s and h else None) for c, h, s in zip(n, head, shown, strict=True)
    ]
    return pd.DataFrame(
        {
            "key": level["group"],
            "unit": level["unit"].astype(int),
            "filter_question": level["question"].where(~is_unit, None),
            "filter_value": [None if pd.isna(c) else int(c) for c in level["category"]],
            "hidden": ~shown,
            "rule": level["rule"].where(~shown, None),
            "respondents": [int(c) if s else None for c, s in zip(n, shown, strict=True)],
            "headcount": [
                int(h) if s and h is not None else None for h, s in zip(head, shown, strict=True)
            ],
            "response_rate": rate,
        }
    )


def _suppression_log(patterns: Patterns) -> pd.DataFrame:
    publishable = patterns.structure.n_publishable
    level = patterns.level.iloc[:publishable]
    ids = level["group"].to_numpy()
    level_hidden = ~level["published"].to_numpy(dtype=bool)
    rules = np.array(disclosure.RULES, dtype=object)
    parts = [
        pd.DataFrame(
            {
                "group": ids[level_hidden],
                "measure": WHOLE_GROUP,
                "rule": level["rule"].to_numpy(dtype=object)[level_hidden],
            }
        )
    ]
    for measure, result in patterns.passes.items():
        hidden = ~result.published & ~level_hidden
        parts.append(
            pd.DataFrame(
                {"group": ids[hidden], "measure": measure, "rule": rules[result.rule[hidden]]}
            )
        )
    return pd.concat(parts, ignore_index=True).loc[:, ["group", "measure", "rule"]]


def _shown_masks(frames: figures.Frames, patterns: Patterns) -> dict[str, np.ndarray]:
    """measure → its shown groups as a mask in the order of ``frames.groups``."""
    position = patterns.structure.group_positions(frames.groups.keys.tolist())
    return {m: result.published[position] for m, result in patterns.passes.items()}


def gate_round(
    data: RoundData,
    previous: list[comparisons.Previous] | Callable[[], list[comparisons.Previous]],
    lineage: pd.DataFrame,
) -> Gated:
    """Everything a round may publish, with its suppression log and audit summary.

    ``previous``: the earlier rounds' publications, or a function reading them (called while
    the passes of a large round run in workers).
    """

    def early() -> tuple[list[comparisons.Previous], figures.Counts]:
        return previous() if callable(previous) else previous, figures.compute_counts(data)

    patterns, _scores, (earlier, _counts), frames = _patterns(
        data, None, early, lambda scores, first: figures.compute_frames(data, scores, first[1])
    )
    shown_masks = _shown_masks(frames, patterns)
    units_only = np.arange(len(frames.groups)) < frames.groups.n_units
    root = _root_group(data)
    at_root = {m for m, groups in patterns.measures.items() if root in groups}
    large = is_large(data)
    plain = replace(data, round=cast(Any, None))  # no database object goes to a worker
    unit_masks = {m: mask & units_only for m, mask in shown_masks.items()}
    analyses = (
        _background(large, _compared, plain, frames, unit_masks, earlier, lineage),
        _background(large, _drivers, plain, frames, at_root, data.round.min_group_size),
    )
    suppressed = _suppression_log(patterns)
    audit = {
        "engine": ENGINE,
        "passes": len(patterns.audits),
        "safe": True,
        "hidden_by_rule": suppressed["rule"].value_counts().to_dict(),
        "groups": int(patterns.structure.n_publishable),
        "groups_hidden": int((suppressed["measure"] == WHOLE_GROUP).sum()),
    }
    return Gated(
        groups=_groups_table(data, patterns),
        suppressed=suppressed,
        parts=lambda: figures.figure_parts(frames, data, shown_masks),
        analyses=analyses,
        audit=audit,
    )


def _compared(
    data: RoundData,
    frames: figures.Frames,
    unit_masks: figures.Shown,
    previous: list[comparisons.Previous],
    lineage: pd.DataFrame,
) -> pd.DataFrame:
    """Comparisons of the shown unit cells (``unit_masks``)."""
    parts = list(figures.figure_parts(frames, data, unit_masks))
    columns = ["group", "measure", "n", "mean", "sd"]
    unit_cells = (
        pd.concat([p.loc[:, columns] for p in parts], ignore_index=True)
        if parts
        else pd.DataFrame(columns=columns)
    )
    return _comparisons(data, frames, unit_cells, previous, lineage)


_BACKGROUND: dict[str, Any] = {}


def _start_background(fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    _BACKGROUND["call"] = (fn, args)


def _run_background() -> Any:
    fn, args = _BACKGROUND.pop("call")
    return fn(*args)


def _background(parallel: bool, fn: Callable[..., R], *args: Any) -> Future[R]:
    """``fn(*args)`` in a worker process when ``parallel`` (the future is ready when it is
    done), else here and now. Forked workers get the arguments without copying them."""
    if not parallel:
        done: Future[R] = Future()
        try:
            done.set_result(fn(*args))
        except Exception as error:  # raised again where the result is read
            done.set_exception(error)
        return done
    executor = ProcessPoolExecutor(
        max_workers=1,
        mp_context=_context(),
        initializer=_start_background,
        initargs=(fn, args),
    )
    future: Future[R] = executor.submit(_run_background)
    executor.shutdown(wait=False)
    return future


def _comparisons(
    data: RoundData,
    frames: figures.Frames,
    unit_cells: pd.DataFrame,
    previous: list[comparisons.Previous],
    lineage: pd.DataFrame,
) -> pd.DataFrame:
    tree = data.units.loc[:, ["unit", "parent"]]
    parts = [comparisons.within_round(frames, data.questions, tree, unit_cells)]
    units = data.units["unit"].astype(int).tolist()
    if previous:
        latest = previous[-1]
        parts.append(
            comparisons.against_previous(frames, data.questions, unit_cells, latest, lineage, units)
        )
        parts.append(_trends(unit_cells, previous, lineage, units))
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=[*comparisons.COLUMNS, "q_group", "q_overview", "significant"])
    frame = pd.concat(parts, ignore_index=True)
    p_values = frame["p_value"].astype(float)
    # Families: one group's table (per kind), one overview column (measure, metric, kind).
    by_group = frame.groupby(["group", "kind"], sort=False, dropna=False).ngroup().to_numpy()
    by_column = (
        frame.groupby(["measure", "metric", "kind"], sort=False, dropna=False).ngroup().to_numpy()
    )
    frame["q_group"] = analysis.adjust_fdr(p_values, by=by_group)
    frame["q_overview"] = analysis.adjust_fdr(p_values, by=by_column)
    # Both sides of every comparison here are shown cells (or derived from shown cells).
    marked = analysis.mark_significant(
        frame, q="q_group", alpha=ALPHA, hidden=np.zeros(len(frame), dtype=bool)
    )
    frame["significant"] = marked["significant"].astype(bool)
    return frame


def _trends(
    unit_cells: pd.DataFrame,
    previous: list[comparisons.Previous],
    lineage: pd.DataFrame,
    units: list[int],
) -> pd.DataFrame:
    current = unit_cells.loc[:, ["group", "measure", "n", "mean", "sd"]].copy()
    current["round_order"] = len(previous)
    history = []
    for order, prev in enumerate(previous):
        links = comparisons._previous_groups(prev, lineage, units)
        merged = prev.figures.merge(links, left_on="unit", right_on="predecessor")
        # Only units with a single predecessor: a trend does not add up merged units.
        per_cell = merged.groupby(["unit_y", "measure"])["measure"].transform("size")
        single = merged.loc[per_cell.to_numpy() == 1]
        if single.empty:
            continue
        history.append(
            pd.DataFrame(
                {
                    "group": "u:" + single["unit_y"].astype(str),
                    "measure": single["measure"],
                    "n": single["n"],
                    "mean": single["mean"],
                    "sd": single["sd"],
                    "round_order": order,
                }
            )
        )
    if not history:
        return pd.DataFrame(columns=comparisons.COLUMNS)
    return comparisons.trends(current, pd.concat(history, ignore_index=True))


def _root_group(data: RoundData) -> str | None:
    """The organisation's group, when the round has a single root."""
    roots = data.units.loc[data.units["parent"].isna(), "unit"]
    return f"u:{int(roots.iloc[0])}" if len(roots) == 1 else None


def _drivers(data: RoundData, frames: figures.Frames, at_root: set[str], k: int) -> pd.DataFrame:
    """Spearman drivers over the whole organisation, only if its group is shown and large.

    ``at_root``: the measures shown for the organisation's group.
    """
    columns = ["outcome", "measure", "n", "rho", "ci_low", "ci_high", "p_value", "q_value", "rank"]
    if _root_group(data) is None:
        return pd.DataFrame(columns=columns)
    min_n = max(k, DRIVER_MIN_N)
    likert = data.questions.loc[
        (data.questions["kind"] == "likert") & ~data.questions["background"], "question"
    ].tolist()
    wide = _likert_wide(data, likert)
    scores = frames.scores.loc[frames.scores["counted"]]
    parts = []
    for outcome in DRIVER_OUTCOMES:
        if outcome not in at_root:
            continue
        if outcome in set(data.indices["index"]):
            target = scores.loc[scores["index"] == outcome].set_index("respondent")["score"]
            own = set(data.indices.loc[data.indices["index"] == outcome, "question"])
        else:
            target = wide[outcome] if outcome in wide else pd.Series(dtype=float)
            own = {outcome}
        items = [q for q in likert if q not in own and q in at_root]
        frame = wide.loc[:, items].join(target.rename("_outcome"), how="inner")
        if frame["_outcome"].notna().sum() < min_n:
            continue
        result = analysis.driver_analysis(frame, items=items, outcome="_outcome", min_n=min_n)
        table = result.table.rename(columns={"item": "measure"})
        table["outcome"] = outcome
        parts.append(table.loc[table["rank"].notna()])
    if not parts:
        return pd.DataFrame(columns=columns)
    out = pd.concat(parts, ignore_index=True)
    out["rank"] = out["rank"].astype(int)
    return out.loc[:, columns]


def _likert_wide(data: RoundData, likert: list[str]) -> pd.DataFrame:
    """Respondents (with any Likert answer) × Likert questions; NaN: no answer or don't know."""
    code = figures.question_codes(data.answers["question"], likert)
    keep = code >= 0
    who = data.answers["respondent"].to_numpy(dtype=np.int64)[keep]
    value = data.answers["value"].to_numpy(dtype=np.float64)[keep]
    respondents = np.unique(who)
    matrix = np.full((len(respondents), len(likert)), np.nan)
    matrix[np.searchsorted(respondents, who), code[keep]] = np.where(value > 0, value, np.nan)
    return pd.DataFrame(matrix, index=pd.Index(respondents, name="respondent"), columns=likert)


def gate_counts(units: pd.DataFrame, respondent_units: pd.Series, k: int) -> pd.DataFrame:
    """Live response counts of an open round: ``unit, shown, n`` (n only where shown).

    Only the unit tree (no breakdowns), with complementary suppression, audited.
    """
    tree = pd.DataFrame({"unit": units["unit"].astype(str), "parent": _codes(units["parent"])})
    structure = disclosure.build_structure(tree)
    people = pd.DataFrame({"unit": respondent_units.astype(str)})
    audits: list[dict[str, Any]] = []
    pattern = _pass(structure, people, k, None, audits, "live counts")
    units_only = pattern.loc[pattern["kind"] == "unit"]
    shown = units_only["published"].astype(bool)
    return pd.DataFrame(
        {
            "unit": units_only["unit"].astype(int).to_numpy(),
            "shown": shown.to_numpy(),
            "n": [int(n) if s else None for n, s in zip(units_only["n"], shown, strict=True)],
        }
    )
