"""Comparisons of shown unit groups, before multiplicity correction: only the gate imports this.

Every comparison is between two groups that are both shown, or derivable from shown ones:

* ``parent``: a unit against the rest of its parent (parent minus the unit);
* ``rest``: a unit against the rest of the organisation (the root minus the unit);
* ``previous``: a unit against its predecessors' published figures in the previous round
  (following the unit lineage; merged predecessors are added up);
* ``trend``: a weighted linear trend over three or more rounds of published figures.

A difference of shown groups is itself derivable, and the audit proves that every derivable set
holds 0 or at least k respondents, so no comparison exposes a small group. The previous
round is read only from its publication: a hidden group there is never compared.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

import analysis
from survey.figures import Frames

COLUMNS = [
    "group",
    "measure",
    "metric",
    "kind",
    "reference",
    "n_a",
    "n_b",
    "value_a",
    "value_b",
    "difference",
    "ci_low",
    "ci_high",
    "test",
    "statistic",
    "p_value",
    "effect_size",
    "effect_size_name",
    "note",
]


@dataclass(frozen=True)
class Previous:
    """A previous round's published unit figures: ``unit, measure, kind, n, mean, sd,
    score_mean, distribution`` (only shown cells), and its units."""

    label: str
    order: int
    figures: pd.DataFrame
    units: frozenset[int]


def _pairs(shown: pd.DataFrame, tree: pd.DataFrame) -> pd.DataFrame:
    """(unit, reference unit, kind) for every shown unit group and measure."""
    parent = dict(zip(tree["unit"], tree["parent"], strict=True))
    roots = tree.loc[tree["parent"].isna(), "unit"].tolist()

    def root_of(unit: int) -> int:
        while not pd.isna(parent[unit]):
            unit = int(parent[unit])
        return unit

    rows = []
    for unit in tree["unit"]:
        if not pd.isna(parent[unit]):
            rows.append((unit, int(parent[unit]), "parent"))
            rows.append((unit, root_of(unit), "rest"))
    pairs = pd.DataFrame(rows, columns=["unit", "reference", "kind"])
    pairs = pairs.loc[~((pairs["kind"] == "rest") & pairs.duplicated(["unit", "reference"]))]
    del roots
    return pairs


def _complements(
    frame: pd.DataFrame, pairs: pd.DataFrame, key: list[str], columns: list[str]
) -> pd.DataFrame:
    """reference − unit for every pair, as groups ``rest:<unit>@<reference>``."""
    left = pairs.assign(
        g_ref="u:" + pairs["reference"].astype(str), g_unit="u:" + pairs["unit"].astype(str)
    )
    ref = left.merge(frame, left_on="g_ref", right_on="group")
    own = frame.rename(columns={c: f"{c}_own" for c in columns}).rename(columns={"group": "g_unit"})
    both = ref.merge(own, on=["g_unit", *key], how="left")
    for c in columns:
        both[c] = both[c] - both[f"{c}_own"].fillna(0)
    both["group"] = "rest:" + both["unit"].astype(str) + "@" + both["reference"].astype(str)
    return both.loc[:, ["group", *key, *columns]]


def within_round(
    frames: Frames,
    questions: pd.DataFrame,
    tree: pd.DataFrame,
    shown: pd.DataFrame,
) -> pd.DataFrame:
    """``parent`` and ``rest`` comparisons of shown unit groups × measures.

    ``shown``: ``group, measure`` for every shown cell (unit and category groups).
    """
    pairs = _pairs(shown, tree)
    if pairs.empty:
        return pd.DataFrame(columns=COLUMNS)
    shown_set = set(zip(shown["group"], shown["measure"], strict=True))
    likert = questions.loc[questions["kind"] == "likert", ["question", "scale_points"]]
    counts = frames.counts.loc[frames.counts["question"].isin(likert["question"])]
    comp_counts = _complements(counts, pairs, ["question", "value"], ["count"])
    item_pairs = pairs.merge(likert[["question"]], how="cross")
    item_pairs["group_a"] = "u:" + item_pairs["unit"].astype(str)
    item_pairs["group_b"] = (
        "rest:" + item_pairs["unit"].astype(str) + "@" + item_pairs["reference"].astype(str)
    )
    item_pairs["reference_group"] = "u:" + item_pairs["reference"].astype(str)
    item_pairs = _keep_shown(item_pairs, "question", shown_set)
    items = analysis.compare_items(
        counts,
        likert,
        item_pairs.loc[:, ["group_a", "group_b", "question", "kind", "reference_group"]],
        counts_b=comp_counts,
    )
    items = items.rename(columns={"group_a": "group", "question": "measure", "measure": "metric"})
    moments = frames.index_moments
    comp_moments = _complements(moments, pairs, ["index"], ["n", "sum", "sumsq"])
    indices = _compare_index_moments(moments, comp_moments, pairs, shown_set)
    out = pd.concat(
        [items.rename(columns={"reference_group": "reference"}), indices], ignore_index=True
    )
    out["note"] = None
    return _tidy(out)


def _keep_shown(pairs: pd.DataFrame, measure: str, shown: set[tuple[str, str]]) -> pd.DataFrame:
    a = [(g, m) in shown for g, m in zip(pairs["group_a"], pairs[measure], strict=True)]
    b = [(g, m) in shown for g, m in zip(pairs["reference_group"], pairs[measure], strict=True)]
    return pairs.loc[np.array(a, dtype=bool) & np.array(b, dtype=bool)].reset_index(drop=True)


def _compare_index_moments(
    moments: pd.DataFrame,
    comp: pd.DataFrame,
    pairs: pd.DataFrame,
    shown: set[tuple[str, str]],
) -> pd.DataFrame:
    indices = moments["index"].unique()
    frame = pairs.merge(pd.DataFrame({"index": indices}), how="cross")
    frame["group_a"] = "u:" + frame["unit"].astype(str)
    frame["reference_group"] = "u:" + frame["reference"].astype(str)
    frame["group_b"] = "rest:" + frame["unit"].astype(str) + "@" + frame["reference"].astype(str)
    frame = _keep_shown(frame, "index", shown)
    stats_a = analysis.moments_to_stats(moments).set_index(["group", "index"])
    stats_b = analysis.moments_to_stats(comp).set_index(["group", "index"])
    a = stats_a.reindex(list(zip(frame["group_a"], frame["index"], strict=True)))
    b = stats_b.reindex(list(zip(frame["group_b"], frame["index"], strict=True)))
    a.index = b.index = frame.index
    result = analysis.compare_means(a, b)
    result["group"] = frame["group_a"]
    result["measure"] = frame["index"]
    result["metric"] = "mean"
    result["kind"] = frame["kind"]
    result["reference"] = frame["reference_group"]
    return result


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    for column in COLUMNS:
        if column not in frame:
            frame[column] = None
    out = frame.loc[:, COLUMNS].copy()
    for column in ("metric", "test", "effect_size_name", "kind", "measure"):
        out[column] = out[column].astype(object)
    return out.loc[out["n_b"].fillna(0) > 0].reset_index(drop=True)


def _previous_groups(previous: Previous, lineage: pd.DataFrame, units: list[int]) -> pd.DataFrame:
    resolved = analysis.resolve_lineage(lineage, previous.units, units)
    resolved = resolved.loc[resolved["status"] != "no_predecessor"]
    long = resolved.explode("predecessors").rename(columns={"predecessors": "predecessor"})
    return long.loc[:, ["unit", "predecessor", "status", "approximate"]]


def against_previous(
    frames: Frames,
    questions: pd.DataFrame,
    shown: pd.DataFrame,
    previous: Previous,
    lineage: pd.DataFrame,
    units: list[int],
) -> pd.DataFrame:
    """``previous`` comparisons: shown unit cells against the previous round's shown cells."""
    links = _previous_groups(previous, lineage, units)
    if links.empty or previous.figures.empty:
        return pd.DataFrame(columns=COLUMNS)
    prev = previous.figures.merge(links, left_on="unit", right_on="predecessor")
    # A merged comparison needs every predecessor shown; otherwise it could expose a hidden one.
    needed = links.groupby("unit").size().rename("needed")
    have = prev.groupby(["unit_y", "measure"]).size().rename("have").reset_index()
    have = have.merge(needed, left_on="unit_y", right_index=True)
    complete = set(
        zip(
            have.loc[have["have"] == have["needed"], "unit_y"],
            have.loc[have["have"] == have["needed"], "measure"],
            strict=True,
        )
    )
    prev = prev.loc[
        [(u, m) in complete for u, m in zip(prev["unit_y"], prev["measure"], strict=True)]
    ]
    prev = prev.rename(columns={"unit_y": "current"})
    notes = links.drop_duplicates("unit").set_index("unit")
    shown_set = set(zip(shown["group"], shown["measure"], strict=True))
    parts = [
        _previous_items(frames, questions, prev, shown_set, previous.label),
        _previous_indices(frames, prev, shown_set, previous.label),
    ]
    out = (
        pd.concat([p for p in parts if not p.empty], ignore_index=True)
        if any(not p.empty for p in parts)
        else pd.DataFrame(columns=COLUMNS)
    )
    if out.empty:
        return out
    unit_ids = out["group"].str.removeprefix("u:").astype(int)
    status = notes.reindex(unit_ids)["status"].to_numpy()
    approximate = notes.reindex(unit_ids)["approximate"].to_numpy()
    out["note"] = np.where(
        approximate.astype(bool),
        "approximate:" + status.astype(str),
        np.where(status == "same", None, status.astype(str)),
    )
    out["kind"] = "previous"
    return _tidy(out)


def _previous_items(
    frames: Frames,
    questions: pd.DataFrame,
    prev: pd.DataFrame,
    shown: set[tuple[str, str]],
    label: str,
) -> pd.DataFrame:
    likert = questions.loc[questions["kind"] == "likert", ["question", "scale_points"]]
    items = prev.loc[prev["kind"] == "item"]
    items = items.loc[items["measure"].isin(likert["question"]) & items["distribution"].notna()]
    if items.empty:
        return pd.DataFrame()
    rows = items.loc[:, ["current", "measure", "distribution"]].explode("distribution")
    rows["value"] = rows.groupby(level=0).cumcount() + 1
    rows["count"] = rows["distribution"].astype(int)
    counts_b = (
        rows.groupby(["current", "measure", "value"])["count"]
        .sum()
        .reset_index()
        .rename(columns={"measure": "question"})
    )
    counts_b["group"] = "prev:" + counts_b["current"].astype(str)
    pairs = counts_b.drop_duplicates(["current", "question"]).loc[:, ["current", "question"]]
    pairs["group_a"] = "u:" + pairs["current"].astype(str)
    pairs["group_b"] = "prev:" + pairs["current"].astype(str)
    pairs = pairs.loc[
        [(g, q) in shown for g, q in zip(pairs["group_a"], pairs["question"], strict=True)]
    ]
    counts = frames.counts.loc[frames.counts["question"].isin(likert["question"])]
    out = analysis.compare_items(
        counts,
        likert,
        pairs.loc[:, ["group_a", "group_b", "question"]],
        counts_b=counts_b.drop(columns=["current"]),
    )
    out = out.rename(columns={"group_a": "group", "question": "measure", "measure": "metric"})
    out["reference"] = label
    return out


def _previous_indices(
    frames: Frames, prev: pd.DataFrame, shown: set[tuple[str, str]], label: str
) -> pd.DataFrame:
    idx = prev.loc[prev["kind"] == "index"].copy()
    if idx.empty:
        return pd.DataFrame()
    mean = idx["score_mean"].fillna(idx["mean"])
    idx["sum"] = mean * idx["n"]
    idx["sumsq"] = idx["sd"].fillna(0) ** 2 * (idx["n"] - 1) + idx["n"] * mean**2
    b_mom = idx.groupby(["current", "measure"])[["n", "sum", "sumsq"]].sum().reset_index()
    b = analysis.moments_to_stats(b_mom)
    b["group"] = "u:" + b["current"].astype(str)
    b = b.loc[[(g, m) in shown for g, m in zip(b["group"], b["measure"], strict=True)]]
    a_all = analysis.moments_to_stats(frames.index_moments).rename(columns={"index": "measure"})
    a = b.loc[:, ["group", "measure"]].merge(a_all, on=["group", "measure"], how="left")
    b = b.reset_index(drop=True)
    result = analysis.compare_means(a, b)
    result["group"] = b["group"]
    result["measure"] = b["measure"]
    result["metric"] = "mean"
    result["reference"] = label
    return result


def trends(current: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """``trend`` rows for shown unit cells with three or more rounds of shown means.

    ``current`` and ``history``: ``group, measure, round_order, n, mean, sd``.
    """
    frame = pd.concat([history, current], ignore_index=True)
    frame = frame.loc[frame["sd"].notna() & (frame["n"] >= 2)]
    counts = frame.groupby(["group", "measure"]).size()
    enough = counts[counts >= 3].index
    frame = (
        frame.set_index(["group", "measure"]).loc[enough].reset_index()
        if len(enough)
        else (frame.iloc[0:0])
    )
    if frame.empty:
        return pd.DataFrame(columns=COLUMNS)
    fitted = analysis.trend(frame)
    out = pd.DataFrame(
        {
            "group": fitted["group"],
            "measure": fitted["measure"],
            "metric": "mean",
            "kind": "trend",
            "reference": fitted["n_rounds"].astype(int).astype(str) + " rounds",
            "difference": fitted["slope"],
            "ci_low": fitted["ci_low"],
            "ci_high": fitted["ci_high"],
            "test": "weighted trend",
            "statistic": fitted["statistic"],
            "p_value": fitted["p_value"],
            "note": fitted["direction"].astype(str)
            + np.where(fitted["holds_up"], ":holds", ":uncertain"),
            "n_b": fitted["n_rounds"],
        }
    )
    return _tidy(out)
