"""Indices on a 0–100 scale: HME/Kolada's item mean and COPSOQ's respondent mean.

Every answer ``x`` on a ``p``-point scale becomes an item score ``(x − 1) / (p − 1) · 100``, or
``(p − x) / (p − 1) · 100`` for a reverse-scored item: 0/25/50/75/100 on five points,
0/33.3/66.7/100 on four. Don't know (0) is not an answer. Two rules combine item scores:

* **item mean** (:func:`item_mean`; HME as published in Kolada): each item's mean score in the
  group, then the index is the unweighted mean of the item means. Works from counts.
* **respondent mean** (:func:`respondent_mean`; COPSOQ III): each respondent's score is the mean
  of their item scores, counted only if they answered at least ``min_answered_share`` of the
  index's items; the group's index is the mean of its respondents' scores. Works from
  respondent-level answers.

An index definition is a frame ``index, question, reverse`` with optional per-index columns
``rule`` and ``min_answered_share`` (see :func:`validate_definitions`), or a list of
:class:`IndexDefinition` turned into one by :func:`definitions_frame`.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from analysis._counts import summarise, wide_counts
from analysis._validation import (
    as_float,
    check_integer_valued,
    require_columns,
    require_nonempty,
    scale_lookup,
)
from analysis.items import moments, moments_to_stats

__all__ = [
    "RULES",
    "IndexDefinition",
    "ItemMeanResult",
    "RespondentMeanResult",
    "definitions_frame",
    "item_mean",
    "item_score",
    "respondent_mean",
    "respondent_scores",
    "validate_definitions",
]

RULES = ("item_mean", "respondent_mean")
DEFAULT_MIN_ANSWERED_SHARE = 0.5


def _check_share(share: float, where: str) -> None:
    if not (isinstance(share, int | float) and 0.0 < float(share) <= 1.0):
        raise ValueError(f"{where}: min_answered_share must lie in (0, 1], got {share!r}")


@dataclass(frozen=True)
class IndexDefinition:
    """One index: its items, which of them are reverse-scored, its rule and minimum share.

    Examples
    --------
    >>> d = IndexDefinition("motivation", ["q1", "q2", "q3"])
    >>> d.rule, d.min_answered_share, d.reverse
    ('item_mean', 0.5, frozenset())
    """

    index: Hashable
    questions: Iterable[Hashable]
    reverse: Iterable[Hashable] = frozenset()
    rule: str = "item_mean"
    min_answered_share: float = DEFAULT_MIN_ANSWERED_SHARE

    def __post_init__(self) -> None:
        items = tuple(self.questions)
        object.__setattr__(self, "questions", items)
        object.__setattr__(self, "reverse", frozenset(self.reverse))
        if not items:
            raise ValueError(f"index {self.index!r} has no items")
        if len(set(items)) != len(items):
            raise ValueError(f"index {self.index!r} lists some question more than once")
        if not set(self.reverse) <= set(items):
            raise ValueError(f"index {self.index!r}: reverse items must be among its questions")
        if self.rule not in RULES:
            raise ValueError(
                f"index {self.index!r}: rule must be one of {RULES}, got {self.rule!r}"
            )
        _check_share(self.min_answered_share, f"index {self.index!r}")


def definitions_frame(definitions: Iterable[IndexDefinition]) -> pd.DataFrame:
    """Turn :class:`IndexDefinition` objects into a definitions frame.

    Returns
    -------
    DataFrame
        Columns ``index, question, reverse, rule, min_answered_share``, one row per item.

    Examples
    --------
    >>> f = definitions_frame([IndexDefinition("i", ["q1", "q2"], reverse={"q2"})])
    >>> f["reverse"].tolist()
    [False, True]
    """
    rows = [
        (d.index, q, q in d.reverse, d.rule, float(d.min_answered_share))
        for d in definitions
        for q in d.questions
    ]
    if not rows:
        raise ValueError("no index definitions given")
    return pd.DataFrame(
        rows, columns=["index", "question", "reverse", "rule", "min_answered_share"]
    )


def validate_definitions(definitions: pd.DataFrame, questions: pd.DataFrame) -> pd.DataFrame:
    """Check a definitions frame against the questions and return it normalised.

    Parameters
    ----------
    definitions : DataFrame
        Columns ``index, question`` and optionally ``reverse`` (bool, default False), ``rule``
        (one of :data:`RULES`) and ``min_answered_share`` (in (0, 1]), the last two constant
        within an index.
    questions : DataFrame
        Columns ``question, scale_points``.

    Returns
    -------
    DataFrame
        Columns ``index, question, reverse, scale_points`` plus ``rule`` and
        ``min_answered_share`` where given.

    Raises
    ------
    ValueError
        Empty definitions, an index without items (missing question), repeated items, unknown
        questions, a missing or non-boolean ``reverse``, an unknown rule, a share outside (0, 1],
        or a rule/share that differs between the rows of one index.

    Examples
    --------
    >>> q = pd.DataFrame({"question": ["q1"], "scale_points": [5]})
    >>> validate_definitions(pd.DataFrame({"index": ["i"], "question": ["q9"]}), q)
    Traceback (most recent call last):
    ...
    ValueError: definitions: question(s) not in questions: ['q9']
    """
    d = require_columns(definitions, ["index", "question"], "definitions")
    require_nonempty(d, "definitions")
    if d["index"].isna().any():
        raise ValueError("definitions.index must not be missing")
    empty = d["question"].isna()
    if empty.any():
        raise ValueError(f"index(es) without items: {d.loc[empty, 'index'].unique().tolist()}")
    if d.duplicated(["index", "question"]).any():
        raise ValueError("definitions list some question twice in the same index")
    out = d.copy()
    if "reverse" in out.columns:
        rev = out["reverse"]
        if rev.isna().any() or not rev.isin([True, False]).all():
            raise ValueError("definitions.reverse must be True or False on every row")
        out["reverse"] = rev.astype(bool)
    else:
        out["reverse"] = False
    out["scale_points"] = scale_lookup(questions, out["question"], name="definitions")
    if "rule" in out.columns:
        bad_rule = ~out["rule"].isin(RULES)
        if bad_rule.any():
            raise ValueError(f"definitions.rule must be one of {RULES}")
    if "min_answered_share" in out.columns:
        share = as_float(out["min_answered_share"], "definitions.min_answered_share")
        if np.isnan(share).any() or (share <= 0).any() or (share > 1).any():
            raise ValueError("definitions.min_answered_share must lie in (0, 1]")
        out["min_answered_share"] = share
    for col in ("rule", "min_answered_share"):
        if col in out.columns and (out.groupby("index")[col].nunique() > 1).any():
            raise ValueError(f"definitions.{col} must be the same on every row of an index")
    return out


def item_score(values: object, scale_points: object, reverse: object = False) -> np.ndarray:
    """Score answers on 0–100: ``(x − 1)/(p − 1)·100``, reversed ``(p − x)/(p − 1)·100``.

    Works elementwise on arrays (broadcasting). Values must be 1..p (don't know is not scored).
    Non-integer ``values`` are accepted so that item *means* can be scored the same way.

    Examples
    --------
    >>> item_score([1, 2, 3, 4, 5], 5).tolist()
    [0.0, 25.0, 50.0, 75.0, 100.0]
    >>> np.round(item_score([1, 2, 3, 4], 4, reverse=True), 1).tolist()
    [100.0, 66.7, 33.3, 0.0]
    """
    x = np.asarray(values, dtype=np.float64)
    p = np.asarray(scale_points, dtype=np.float64)
    rev = np.asarray(reverse, dtype=bool)
    if np.any(p < 2):
        raise ValueError("scale_points must be at least 2")
    if np.any(np.isnan(x)) or np.any(x < 1) or np.any(x > p):
        raise ValueError("values to score must lie within 1..scale_points")
    return np.where(rev, p - x, x - 1.0) / (p - 1.0) * 100.0


class ItemMeanResult(NamedTuple):
    """Result of :func:`item_mean`: item-level scores and the group-level index."""

    items: pd.DataFrame
    groups: pd.DataFrame


class RespondentMeanResult(NamedTuple):
    """Result of :func:`respondent_mean`: respondent scores and the group-level index."""

    respondents: pd.DataFrame
    groups: pd.DataFrame


def item_mean(
    counts: pd.DataFrame,
    questions: pd.DataFrame,
    definitions: pd.DataFrame,
    *,
    group: str = "group",
) -> ItemMeanResult:
    """Item-mean index (HME/Kolada): the mean of the items' mean 0–100 scores, per group.

    The rule is applied to every index in ``definitions`` whatever their ``rule`` column says;
    select the rows first. An item only don't-know answers (or none) in a group is left out of that
    group's index; ``n_items`` says how many items the index rests on.

    Parameters
    ----------
    counts : DataFrame
        ``group, question, value, count`` (value 0 = don't know).
    questions : DataFrame
        ``question, scale_points``.
    definitions : DataFrame
        ``index, question[, reverse]`` (see :func:`validate_definitions`).
    group : str, default "group"

    Returns
    -------
    ItemMeanResult
        ``items``: ``group, index, question, reverse, n, mean`` – the item's mean score (0–100)
        among its ``n`` answers, for every defined item the group has counts for.
        ``groups``: ``group, index, n_items, n_items_defined, n_min, n_max, mean`` – ``mean`` is
        the index (NaN without any answered item); ``n_min``/``n_max`` are the smallest and
        largest item ``n`` (0 when a defined item has no answers).

    Examples
    --------
    >>> counts = pd.DataFrame({"group": "A", "question": ["q1", "q1", "q2"],
    ...                        "value": [5, 3, 4], "count": [1, 1, 2]})
    >>> questions = pd.DataFrame({"question": ["q1", "q2"], "scale_points": [5, 5]})
    >>> defs = pd.DataFrame({"index": "i", "question": ["q1", "q2"]})
    >>> float(item_mean(counts, questions, defs).groups["mean"].iloc[0])
    75.0
    """
    defs = validate_definitions(definitions, questions)
    c = require_columns(counts, [group, "question", "value", "count"], "counts")
    wanted = c[c["question"].isin(defs["question"])]
    wide = wide_counts(wanted, questions, group)
    stats = summarise(wide.matrix, wide.scale_points)
    groups, question_keys = wide.keys
    per_question = pd.DataFrame(
        {group: groups, "question": question_keys, "n": stats["n"], "raw_mean": stats["mean"]}
    )
    items = per_question.merge(
        defs[["index", "question", "reverse", "scale_points"]], on="question", how="inner"
    )
    answered = items["n"].to_numpy() > 0
    p = items["scale_points"].to_numpy()
    raw = items["raw_mean"].to_numpy()
    score = np.full(len(items), np.nan)
    score[answered] = item_score(raw[answered], p[answered], items["reverse"].to_numpy()[answered])
    items = items.assign(mean=score, n=items["n"].astype(np.int64))
    items = items[[group, "index", "question", "reverse", "n", "mean"]].sort_values(
        [group, "index", "question"], ignore_index=True
    )
    defined = defs.groupby("index").size().rename("n_items_defined")
    summary = (
        items.groupby([group, "index"], sort=True)
        .agg(
            n_items=("mean", "count"),
            n_rows=("n", "size"),
            n_min=("n", "min"),
            n_max=("n", "max"),
            mean=("mean", "mean"),
        )
        .reset_index()
        .join(defined, on="index")
    )
    incomplete = summary["n_rows"] < summary["n_items_defined"]
    summary["n_min"] = summary["n_min"].where(~incomplete, 0)
    summary = summary[[group, "index", "n_items", "n_items_defined", "n_min", "n_max", "mean"]]
    return ItemMeanResult(items=items, groups=summary)


def _resolve_share(defs: pd.DataFrame, override: float | None) -> pd.Series:
    """Minimum answered share per index: the override, else the definitions, else 0.5."""
    if override is not None:
        _check_share(override, "respondent_mean")
        return pd.Series(float(override), index=pd.Index(defs["index"].unique(), name="index"))
    if "min_answered_share" in defs.columns:
        return defs.groupby("index")["min_answered_share"].first()
    return pd.Series(
        DEFAULT_MIN_ANSWERED_SHARE, index=pd.Index(defs["index"].unique(), name="index")
    )


def respondent_scores(
    responses: pd.DataFrame,
    questions: pd.DataFrame,
    definitions: pd.DataFrame,
    *,
    min_answered_share: float | None = None,
    respondent: str = "respondent",
    group: str = "group",
) -> pd.DataFrame:
    """Each respondent's index score: the mean of their 0–100 item scores (COPSOQ).

    Parameters
    ----------
    responses : DataFrame
        Long answers ``respondent, group, question, value``; value 0 = don't know, which counts
        as not answered. Questions outside every index are ignored.
    questions : DataFrame
        ``question, scale_points``.
    definitions : DataFrame
        ``index, question[, reverse, min_answered_share]``.
    min_answered_share : float, optional
        Overrides the definitions' share for every index; default: the definitions' column, or
        0.5 ("at least half of the items") if it has none.
    respondent, group : str
        Column names.

    Returns
    -------
    DataFrame
        ``respondent, group, index, n_answered, n_items, counted, score``: one row per respondent
        × group × index with at least one answer row; ``counted`` is
        ``n_answered >= min_answered_share · n_items``; ``score`` is NaN when not counted.

    Examples
    --------
    >>> responses = pd.DataFrame({"respondent": [1, 1, 2], "group": "A",
    ...                           "question": ["q1", "q2", "q1"], "value": [5, 2, 4]})
    >>> questions = pd.DataFrame({"question": ["q1", "q2", "q3"], "scale_points": [5, 5, 5]})
    >>> defs = pd.DataFrame({"index": "i", "question": ["q1", "q2", "q3"]})
    >>> respondent_scores(responses, questions, defs)[["counted", "score"]].to_dict("list")
    {'counted': [True, False], 'score': [62.5, nan]}
    """
    defs = validate_definitions(definitions, questions)
    share = _resolve_share(defs, min_answered_share)
    r = require_columns(responses, [respondent, group, "question", "value"], "responses")
    # Everything below works on integer codes: the defined questions, the indices (sorted, as
    # the result is), and the respondent × group pairs (sorted too).
    items = pd.Index(pd.unique(defs["question"]))
    item = items.get_indexer(r["question"])
    inside = item >= 0
    r, item = r.loc[inside], item[inside]
    if r[[respondent, group]].isna().any().any():
        raise ValueError(f"responses.{respondent}, .{group} and .question must not be missing")
    who, respondents = pd.factorize(r[respondent], sort=True)
    where, groups = pd.factorize(r[group], sort=True)
    pair = who.astype(np.int64) * max(len(groups), 1) + where
    if pd.Series(pair * len(items) + item).duplicated().any():
        raise ValueError("responses hold more than one answer to a question by one respondent")
    value = as_float(r["value"], "responses.value")
    check_integer_valued(value, "responses.value")
    item_points = defs.drop_duplicates("question").set_index("question")["scale_points"]
    points = item_points.reindex(items).to_numpy(dtype=np.float64)[item]
    if (value < 0).any() or (value > points).any():
        raise ValueError("responses.value must be 0 (don't know) or 1..scale_points")
    # One row per answer and index it belongs to (an item may sit in several indices).
    index_names = np.array(sorted(set(defs["index"])), dtype=object)
    of_item = items.get_indexer(defs["question"])
    order = np.argsort(of_item, kind="stable")
    per_item = np.bincount(of_item, minlength=len(items))
    first = np.concatenate([[0], np.cumsum(per_item)[:-1]])
    repeat = per_item[item]
    source = np.repeat(np.arange(len(item)), repeat)
    step = np.arange(len(source)) - np.repeat(np.cumsum(repeat) - repeat, repeat)
    definition = order[first[item[source]] + step]
    index_code = pd.Index(index_names).get_indexer(defs["index"]).astype(np.int64)[definition]
    reverse = defs["reverse"].to_numpy(dtype=bool)[definition]
    value, points = value[source], points[source]
    answered = value > 0
    score = np.zeros(len(value))
    score[answered] = item_score(value[answered], points[answered], reverse[answered])
    cells, cell = np.unique(pair[source] * len(index_names) + index_code, return_inverse=True)
    n_answered = np.bincount(cell, weights=answered, minlength=len(cells)).astype(np.int64)
    total = np.bincount(cell, weights=score, minlength=len(cells))
    index_of_cell = cells % len(index_names)
    n_items = defs.groupby("index").size().reindex(index_names).to_numpy(dtype=np.int64)
    n_items = n_items[index_of_cell]
    needed = share.reindex(index_names).to_numpy(dtype=np.float64)[index_of_cell] * n_items
    counted = (n_answered > 0) & (n_answered >= needed - 1e-9)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(counted, total / n_answered, np.nan)
    pairs = cells // len(index_names)
    return pd.DataFrame(
        {
            respondent: respondents.take(pairs // max(len(groups), 1)),
            group: groups.take(pairs % max(len(groups), 1)),
            "index": index_names[index_of_cell],
            "n_answered": n_answered,
            "n_items": n_items,
            "counted": counted,
            "score": mean,
        }
    )


def respondent_mean(
    responses: pd.DataFrame,
    questions: pd.DataFrame,
    definitions: pd.DataFrame,
    *,
    min_answered_share: float | None = None,
    respondent: str = "respondent",
    group: str = "group",
) -> RespondentMeanResult:
    """Respondent-mean index (COPSOQ): the mean of the group's counted respondent scores.

    Takes the same arguments as :func:`respondent_scores`. The rule is applied to every index in
    ``definitions`` whatever their ``rule`` column says.

    Returns
    -------
    RespondentMeanResult
        ``respondents``: the frame of :func:`respondent_scores` (aggregate its ``score`` with
        :func:`analysis.items.moments` per unit to roll it up or subtract it).
        ``groups``: ``group, index, n, n_not_counted, mean, sd`` – ``n`` respondents counted,
        ``n_not_counted`` who answered too few items, ``sd`` the sample SD of the scores.

    Examples
    --------
    >>> responses = pd.DataFrame({"respondent": [1, 2, 3], "group": "A",
    ...                           "question": "q1", "value": [5, 3, 4]})
    >>> questions = pd.DataFrame({"question": ["q1"], "scale_points": [5]})
    >>> defs = pd.DataFrame({"index": "i", "question": ["q1"]})
    >>> g = respondent_mean(responses, questions, defs).groups
    >>> float(g["mean"].iloc[0]), float(g["sd"].iloc[0])
    (75.0, 25.0)
    """
    scores = respondent_scores(
        responses,
        questions,
        definitions,
        min_answered_share=min_answered_share,
        respondent=respondent,
        group=group,
    )
    stats = moments_to_stats(moments(scores, value="score", by=[group, "index"]))
    not_counted = (~scores["counted"]).groupby([scores[group], scores["index"]]).sum()
    stats = stats.join(not_counted.rename("n_not_counted"), on=[group, "index"])
    stats = stats.assign(
        n=stats["n"].astype(np.int64), n_not_counted=stats["n_not_counted"].astype(np.int64)
    )
    return RespondentMeanResult(
        respondents=scores, groups=stats[[group, "index", "n", "n_not_counted", "mean", "sd"]]
    )
