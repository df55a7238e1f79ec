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

import itertools
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

TREND_TEST = "weighted trend"  # a weighted least-squares slope over the rounds (analysis.trend)


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


def _shown_matrix(shown: pd.DataFrame, groups: pd.Index, measures: list[str]) -> np.ndarray:
    """(groups × measures): whether the cell is shown."""
    out = np.zeros((len(groups), len(measures)), dtype=bool)
    g = groups.get_indexer(shown["group"])
    m = pd.Index(measures).get_indexer(shown["measure"])
    keep = (g >= 0) & (m >= 0)
    out[g[keep], m[keep]] = True
    return out


def within_round(
    frames: Frames,
    questions: pd.DataFrame,
    tree: pd.DataFrame,
    shown: pd.DataFrame,
) -> pd.DataFrame:
    """``parent`` and ``rest`` comparisons of shown unit groups × measures.

    ``shown``: ``group, measure`` for every shown cell (unit and category groups). ``tree``
    lists the units in the order of ``frames.groups``. The rest of a reference (reference
    minus the unit, ``rest:<unit>@<reference>``) is a difference of shown groups.
    """
    pairs = _pairs(shown, tree)
    if pairs.empty:
        return pd.DataFrame(columns=COLUMNS)
    units = pd.Index(tree["unit"])
    unit_keys = frames.groups.keys[: len(units)]
    a = units.get_indexer(pairs["unit"])
    ref = units.get_indexer(pairs["reference"])
    kind = pairs["kind"].to_numpy()
    likert = questions.loc[questions["kind"] == "likert", ["question", "scale_points"]]
    keys = likert["question"].tolist()
    visible = _shown_matrix(shown, pd.Index(unit_keys), keys)
    # Items: a unit's counts (by position) against reference − unit (by pair number).
    counts_a = frames.counts_frame(frames.unit_positions, keys, keys=False)
    rest = []
    for question in keys:
        first, width = frames.block(question)
        block = frames.counts[ref, first : first + width] - frames.counts[a, first : first + width]
        pair, value = np.nonzero(block)
        rest.append(
            pd.DataFrame(
                {
                    "group": pair,
                    "question": question,
                    "value": frames.columns["value"].to_numpy()[first + value],
                    "count": block[pair, value].astype(np.int64),
                }
            )
        )
    counts_b = pd.concat(rest, ignore_index=True)
    pair_of, question_of = np.nonzero(visible[a] & visible[ref])
    item_pairs = pd.DataFrame(
        {
            "group_a": a[pair_of],
            "group_b": pair_of,
            "question": np.array(keys, dtype=object)[question_of],
            "kind": kind[pair_of],
            "reference_group": ref[pair_of],
        }
    )
    items = analysis.compare_items(counts_a, likert, item_pairs, counts_b=counts_b)
    items["group_a"] = unit_keys[items["group_a"].to_numpy()]
    items["reference_group"] = unit_keys[items["reference_group"].to_numpy()]
    items = items.rename(columns={"group_a": "group", "question": "measure", "measure": "metric"})
    indices = _compare_index_moments(frames, a, ref, kind, shown, unit_keys)
    out = pd.concat(
        [items.rename(columns={"reference_group": "reference"}), indices], ignore_index=True
    )
    out["note"] = None
    return _tidy(out)


def _compare_index_moments(
    frames: Frames,
    a: np.ndarray,
    ref: np.ndarray,
    kind: np.ndarray,
    shown: pd.DataFrame,
    unit_keys: np.ndarray,
) -> pd.DataFrame:
    visible = _shown_matrix(shown, pd.Index(unit_keys), frames.indices)
    pair_of, index_of = np.nonzero(visible[a] & visible[ref])
    own = frames.index_moments[a[pair_of], index_of]
    rest = frames.index_moments[ref[pair_of], index_of] - own
    columns = ["n", "sum", "sumsq"]
    stats_a = analysis.moments_to_stats(pd.DataFrame(own, columns=columns))
    stats_b = analysis.moments_to_stats(pd.DataFrame(rest, columns=columns))
    result = analysis.compare_means(stats_a, stats_b)
    result["group"] = unit_keys[a[pair_of]]
    result["measure"] = np.array(frames.indices, dtype=object)[index_of]
    result["metric"] = "mean"
    result["kind"] = kind[pair_of]
    result["reference"] = unit_keys[ref[pair_of]]
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
    distributions = items["distribution"].tolist()
    lengths = np.fromiter((len(d) for d in distributions), dtype=np.int64, count=len(items))
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    rows = pd.DataFrame(
        {
            "current": np.repeat(items["current"].to_numpy(), lengths),
            "measure": np.repeat(items["measure"].to_numpy(), lengths),
            "value": np.arange(int(lengths.sum())) - starts + 1,
            "count": np.fromiter(
                itertools.chain.from_iterable(distributions), dtype=np.int64, count=lengths.sum()
            ),
        }
    )
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
    counts = frames.counts_frame(frames.unit_positions, likert["question"].tolist())
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
    a_all = analysis.moments_to_stats(frames.moments_frame(frames.unit_positions)).rename(
        columns={"index": "measure"}
    )
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
    rounds = frame.groupby(["group", "measure"])["round_order"].transform("size")
    frame = frame.loc[rounds.to_numpy() >= 3].reset_index(drop=True)
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
            "test": TREND_TEST,
            "statistic": fitted["statistic"],
            "p_value": fitted["p_value"],
            "note": fitted["direction"].astype(str)
            + np.where(fitted["holds_up"], ":holds", ":uncertain"),
            "n_b": fitted["n_rounds"],
        }
    )
    return _tidy(out)
