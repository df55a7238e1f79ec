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
   An index is hidden wherever one of its items is.
4. Every pass is audited (a linear-algebra proof that nothing below k is derivable); a failed
   audit stops the publication instead of publishing.
5. Figures, response counts and rates, comparisons and driver analyses are produced only for
   shown cells. The suppression log names each hidden cell and its rule, never its figures.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

import analysis
from analysis import disclosure
from survey import comparisons, figures
from survey.services.aggregates import RoundData

log = logging.getLogger(__name__)

ENGINE = "lyhord-sdc 1 (analysis.disclosure)"
WHOLE_GROUP = "*"
ALPHA = 0.05
DRIVER_OUTCOMES = ("hme", "am.intention_to_stay", "am.recommend.1")
DRIVER_MIN_N = 30


class GateError(RuntimeError):
    """The audit found a derivable small group: nothing is published."""


@dataclass(frozen=True)
class Gated:
    """What passed the gate, ready to store. No frame holds a figure of a hidden cell."""

    groups: pd.DataFrame
    figures: pd.DataFrame
    suppressed: pd.DataFrame
    comparisons: pd.DataFrame
    drivers: pd.DataFrame
    audit: dict[str, Any] = field(default_factory=dict)


def _codes(values: pd.Series) -> pd.Series:
    return values.map(lambda v: None if pd.isna(v) else str(int(v)))


def _structure(data: RoundData) -> tuple[disclosure.Structure, pd.DataFrame]:
    tree = pd.DataFrame(
        {"unit": data.units["unit"].astype(str), "parent": _codes(data.units["parent"])}
    )
    structure = disclosure.build_structure(tree, figures.breakdowns(data))
    people = pd.DataFrame({"unit": data.respondents["unit"].astype(str)})
    for question in structure.questions:
        people[question] = _codes(data.respondents[question])
    return structure, people


def _published(pattern: pd.DataFrame) -> set[str]:
    return set(pattern.loc[pattern["published"].astype(bool), "group"])


def _pass(
    structure: disclosure.Structure,
    people: pd.DataFrame,
    k: int,
    hidden: set[str] | None,
    audits: list[dict[str, Any]],
    name: str,
) -> pd.DataFrame:
    counts = disclosure.count_atoms(structure, people)
    # protect() = suppress() + the audit the engine must pass before it stops.
    pattern, result = disclosure.protect(
        structure, counts, k, initially_hidden=sorted(hidden or ())
    )
    if not result.safe:
        raise GateError(f"audit failed for {name}: {len(result.findings)} finding(s)")
    audits.append({"pass": name, "k": k, "hidden": int((~pattern["published"]).sum())})
    return pattern


@dataclass(frozen=True)
class Patterns:
    structure: disclosure.Structure
    level: pd.DataFrame
    measures: dict[str, set[str]]  # measure → shown groups
    rules: dict[str, pd.DataFrame]  # measure → pattern (for the log)
    audits: list[dict[str, Any]]


def suppression_patterns(data: RoundData) -> Patterns:
    """The group-level pattern and one pattern per question and index, all audited."""
    survey_round = data.round
    structure, people = _structure(data)
    audits: list[dict[str, Any]] = []
    level = _pass(structure, people, survey_round.min_group_size, None, audits, "respondents")
    level_hidden = set(level.loc[~level["published"].astype(bool), "group"])
    thresholds = figures.measure_thresholds(
        data, survey_round.min_group_size, survey_round.min_group_size_sensitive
    )
    answered = figures.answered_respondents(data)
    shown: dict[str, set[str]] = {}
    rules: dict[str, pd.DataFrame] = {}
    items_first = [m for m in thresholds if m not in set(data.indices["index"])]
    for measure in [*items_first, *sorted(set(data.indices["index"]))]:
        hidden = set(level_hidden)
        if measure in set(data.indices["index"]):
            for item in data.indices.loc[data.indices["index"] == measure, "question"]:
                hidden |= _hidden_publishable(structure, shown.get(item, set()))
        subset = people.iloc[answered.get(measure, np.array([], dtype=np.int64))]
        pattern = _pass(structure, subset, thresholds[measure], hidden, audits, measure)
        shown[measure] = _published(pattern)
        rules[measure] = pattern
    return Patterns(structure, level, shown, rules, audits)


def _hidden_publishable(structure: disclosure.Structure, shown: set[str]) -> set[str]:
    publishable = structure.groups["group"].iloc[: structure.n_publishable]
    return set(publishable) - shown


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
    rows = [
        (g, WHOLE_GROUP, r)
        for g, r, p in zip(level["group"], level["rule"], level["published"], strict=True)
        if not p
    ]
    hidden_groups = {g for g, _m, _r in rows}
    for measure, pattern in patterns.rules.items():
        part = pattern.iloc[:publishable]
        for g, r, p in zip(part["group"], part["rule"], part["published"], strict=True):
            if not p and g not in hidden_groups:
                rows.append((g, measure, r))
    return pd.DataFrame(rows, columns=["group", "measure", "rule"])


def _shown_cells(frame: pd.DataFrame, patterns: Patterns) -> pd.DataFrame:
    keep = [
        g in patterns.measures.get(m, ())
        for g, m in zip(frame["group"], frame["measure"], strict=True)
    ]
    return frame.loc[np.array(keep, dtype=bool)].reset_index(drop=True)


def gate_round(
    data: RoundData,
    previous: list[comparisons.Previous],
    lineage: pd.DataFrame,
) -> Gated:
    """Everything a round may publish, with its suppression log and audit summary."""
    patterns = suppression_patterns(data)
    frames = figures.compute_frames(data)
    items = figures.item_figures(frames, data)
    indices = figures.index_figures(frames, data)
    indices["score_mean"] = (
        analysis.moments_to_stats(frames.index_moments)
        .set_index(["group", "index"])["mean"]
        .reindex(list(zip(indices["group"], indices["measure"], strict=True)))
        .to_numpy()
    )
    items["score_mean"] = np.nan
    shown = _shown_cells(pd.concat([items, indices], ignore_index=True), patterns)
    compared = _comparisons(data, frames, shown, previous, lineage)
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
        figures=shown,
        suppressed=suppressed,
        comparisons=compared,
        drivers=_drivers(data, frames, patterns),
        audit=audit,
    )


def _comparisons(
    data: RoundData,
    frames: figures.Frames,
    shown: pd.DataFrame,
    previous: list[comparisons.Previous],
    lineage: pd.DataFrame,
) -> pd.DataFrame:
    tree = data.units.loc[:, ["unit", "parent"]]
    unit_cells = shown.loc[~shown["group"].str.contains("|", regex=False)]
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
    by_group = frame["group"].astype(str) + "|" + frame["kind"].astype(str)
    by_column = (
        frame["measure"].astype(str) + "|" + frame["metric"].astype(str) + "|" + frame["kind"]
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
        single = merged.groupby(["unit_y", "measure"]).filter(lambda f: len(f) == 1)
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


def _drivers(data: RoundData, frames: figures.Frames, patterns: Patterns) -> pd.DataFrame:
    """Spearman drivers over the whole organisation, only if its group is shown and large."""
    columns = ["outcome", "measure", "n", "rho", "ci_low", "ci_high", "p_value", "q_value", "rank"]
    roots = data.units.loc[data.units["parent"].isna(), "unit"]
    if len(roots) != 1:
        return pd.DataFrame(columns=columns)
    root = f"u:{int(roots.iloc[0])}"
    min_n = max(data.round.min_group_size, DRIVER_MIN_N)
    likert = data.questions.loc[
        (data.questions["kind"] == "likert") & ~data.questions["background"], "question"
    ].tolist()
    answers = data.answers.loc[data.answers["question"].isin(likert)]
    wide = answers.assign(value=answers["value"].where(answers["value"] > 0)).pivot_table(
        index="respondent", columns="question", values="value", aggfunc="first", observed=True
    )
    wide.columns = wide.columns.astype(str)
    scores = frames.scores.loc[frames.scores["counted"]]
    parts = []
    for outcome in DRIVER_OUTCOMES:
        if root not in patterns.measures.get(outcome, set()):
            continue
        if outcome in set(data.indices["index"]):
            target = scores.loc[scores["index"] == outcome].set_index("respondent")["score"]
            own = set(data.indices.loc[data.indices["index"] == outcome, "question"])
        else:
            target = wide[outcome] if outcome in wide else pd.Series(dtype=float)
            own = {outcome}
        items = [q for q in likert if q not in own and root in patterns.measures.get(q, set())]
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
