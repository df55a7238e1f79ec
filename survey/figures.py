"""Raw figures of one round, before the gate: only :mod:`survey.anonymity` may import this.

Everything here is computed for every group, hidden or not; the gate decides what leaves.
Groups are the ids of :mod:`analysis.disclosure`: ``u:<unit>`` (a unit and its descendants)
and ``u:<unit>|<question>=<category>`` (the same, answering a background question so).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

import analysis
from survey.services.aggregates import RoundData

DISTRIBUTION_KINDS = ("single", "multi")


def unit_key(unit: object) -> str:
    return f"u:{unit}"


def category_key(unit: object, question: str, category: object) -> str:
    return f"u:{unit}|{question}={category}"


@dataclass(frozen=True)
class Frames:
    """The additive frames every figure and comparison is computed from."""

    counts: pd.DataFrame  # group, question, value, count (numeric answers, incl. 0 = don't know)
    multi_n: pd.DataFrame  # group, question, n (respondents who chose anything, multi only)
    index_moments: pd.DataFrame  # group, index, n, sum, sumsq (counted respondents' scores)
    scores: pd.DataFrame  # respondent, index, counted, score


def measure_questions(data: RoundData) -> pd.DataFrame:
    """Questions whose figures are published (background questions define groups instead)."""
    return data.questions.loc[~data.questions["background"]].reset_index(drop=True)


def breakdowns(data: RoundData) -> dict[str, list[str]]:
    """Background question → its categories (as text codes), for the disclosure structure."""
    bg = data.questions.loc[data.questions["background"]]
    return {row.question: [str(v) for v in row.values] for row in bg.itertuples()}


def _tree(data: RoundData) -> pd.DataFrame:
    return data.units.loc[:, ["unit", "parent"]]


def _rolled_counts(
    answers: pd.DataFrame, tree: pd.DataFrame, extra: Sequence[str] = ()
) -> pd.DataFrame:
    keys = ["unit", *extra, "question", "value"]
    direct = answers.groupby(keys, observed=True, sort=False).size().rename("count").reset_index()
    direct["question"] = direct["question"].astype(str)
    return analysis.rollup(direct, tree, columns="count")


def _with_groups(frame: pd.DataFrame, question: str | None) -> pd.DataFrame:
    if question is None:
        group = "u:" + frame["unit"].astype(str)
        return frame.drop(columns=["unit"]).assign(group=group)
    group = "u:" + frame["unit"].astype(str) + f"|{question}=" + frame["category"].astype(str)
    return frame.drop(columns=["unit", "category"]).assign(group=group)


def _each_grouping(
    data: RoundData, frame: pd.DataFrame, respondent: str = "respondent"
) -> list[tuple[str | None, pd.DataFrame]]:
    """``frame`` (keyed by respondent) with ``unit``, and once more per background question
    with its ``category`` (respondents who gave no category are in no category group)."""
    units = data.respondents["unit"].to_numpy(dtype=np.int64)
    index = frame[respondent].to_numpy(dtype=np.int64)
    base = frame.assign(unit=units[index])
    out: list[tuple[str | None, pd.DataFrame]] = [(None, base)]
    for question in breakdowns(data):
        category = data.respondents[question].to_numpy()[index]
        with_cat = base.assign(category=category)
        out.append((question, with_cat.loc[with_cat["category"].notna()]))
    return out


def compute_frames(data: RoundData) -> Frames:
    tree = _tree(data)
    measures = measure_questions(data)
    answers = data.answers.loc[data.answers["question"].isin(measures["question"])]
    counts, multi = [], []
    multi_keys = set(measures.loc[measures["kind"] == "multi", "question"])
    for question, frame in _each_grouping(data, answers):
        extra: tuple[str, ...] = () if question is None else ("category",)
        counts.append(_with_groups(_rolled_counts(frame, tree, extra), question))
        if multi_keys:
            chose = frame.loc[frame["question"].isin(multi_keys) & (frame["value"] > 0)]
            chose = chose.drop_duplicates(["respondent", "question"])
            keys = ["unit", *extra, "question"]
            n = chose.groupby(keys, observed=True).size().rename("n").reset_index()
            n["question"] = n["question"].astype(str)
            multi.append(_with_groups(analysis.rollup(n, tree, columns="n"), question))
    scores = index_scores(data)
    moments = []
    counted = scores.loc[scores["counted"]]
    for question, frame in _each_grouping(data, counted):
        by = ["unit", "category", "index"] if question is not None else ["unit", "index"]
        m = analysis.moments(frame, value="score", by=by)
        moments.append(
            _with_groups(analysis.rollup(m, tree, columns=["n", "sum", "sumsq"]), question)
        )
    return Frames(
        counts=pd.concat(counts, ignore_index=True),
        multi_n=pd.concat(multi, ignore_index=True)
        if multi
        else pd.DataFrame(columns=["question", "n", "group"]),
        index_moments=pd.concat(moments, ignore_index=True),
        scores=scores,
    )


def index_scores(data: RoundData) -> pd.DataFrame:
    """Every respondent's score on every index (``counted`` when enough items were answered).

    For item-mean indices (HME) a respondent counts once they answered any item: their
    scores give the n and SD used in tests, while the shown value follows Kolada's rule.
    """
    if data.indices.empty:
        return pd.DataFrame(columns=["respondent", "index", "counted", "score"])
    questions = data.questions.loc[:, ["question", "scale_points"]]
    items = data.answers.loc[data.answers["question"].isin(data.indices["question"])].copy()
    items["question"] = items["question"].astype(str)
    items["group"] = 0
    parts = []
    for rule, defs in data.indices.groupby("rule"):
        share = 1e-9 if rule == "item_mean" else None
        scored = analysis.respondent_scores(
            items, questions, defs.drop(columns=["rule"]), min_answered_share=share
        )
        parts.append(scored.loc[:, ["respondent", "index", "counted", "score"]])
    return pd.concat(parts, ignore_index=True)


def item_figures(frames: Frames, data: RoundData) -> pd.DataFrame:
    """``group, measure, kind, n, mean, sd, median, pct_positive, pct_negative, distribution``."""
    measures = measure_questions(data)
    qframe = measures.loc[:, ["question", "scale_points"]]
    likert = set(measures.loc[measures["kind"] == "likert", "question"])
    counts = frames.counts
    stats = analysis.item_stats(counts.loc[counts["question"].isin(likert)], qframe)
    dist = analysis.distribution(counts.loc[counts["question"].isin(likert)], qframe)
    lists = (
        dist.sort_values(["group", "question", "value"])
        .groupby(["group", "question"], sort=False)["count"]
        .agg(list)
        .rename("distribution")
        .reset_index()
    )
    out = stats.merge(lists, on=["group", "question"], how="left")
    out = out.loc[
        :,
        [
            "group",
            "question",
            "n",
            "mean",
            "sd",
            "median",
            "pct_positive",
            "pct_negative",
            "distribution",
        ],
    ]
    nominal = _nominal_figures(frames, measures)
    result = pd.concat([out, nominal], ignore_index=True).rename(columns={"question": "measure"})
    result["kind"] = "item"
    return result


def _nominal_figures(frames: Frames, measures: pd.DataFrame) -> pd.DataFrame:
    """Single and multiple choice: n and the count of every option, in option order."""
    rows = []
    nominal = measures.loc[measures["kind"].isin(DISTRIBUTION_KINDS)]
    if nominal.empty:
        return pd.DataFrame(columns=["group", "question", "n", "distribution"])
    counts = frames.counts.loc[frames.counts["question"].isin(nominal["question"])]
    counts = counts.loc[counts["value"] > 0]
    by_key = dict(list(counts.groupby(["group", "question"], sort=False)))
    multi_n = {(r.group, r.question): int(r.n) for r in frames.multi_n.itertuples(index=False)}
    values = dict(zip(nominal["question"], nominal["values"], strict=True))
    kinds = dict(zip(nominal["question"], nominal["kind"], strict=True))
    for (group, question), frame in by_key.items():
        per_value = dict(zip(frame["value"], frame["count"], strict=True))
        distribution = [int(per_value.get(v, 0)) for v in values[question]]
        n = multi_n.get((group, question), 0) if kinds[question] == "multi" else sum(distribution)
        rows.append({"group": group, "question": question, "n": n, "distribution": distribution})
    return pd.DataFrame(rows, columns=["group", "question", "n", "distribution"])


def index_figures(frames: Frames, data: RoundData) -> pd.DataFrame:
    """Index value per group: Kolada's item mean or the respondents' mean; n and SD of scores."""
    moments = analysis.moments_to_stats(frames.index_moments)
    rules = data.indices.drop_duplicates("index").set_index("index")["rule"]
    out = moments.rename(columns={"index": "measure"}).loc[
        :, ["group", "measure", "n", "mean", "sd"]
    ]
    item_mean_keys = [i for i, r in rules.items() if r == "item_mean"]
    if item_mean_keys:
        defs = data.indices.loc[data.indices["index"].isin(item_mean_keys)].drop(columns=["rule"])
        qframe = data.questions.loc[:, ["question", "scale_points"]]
        counts = frames.counts.loc[frames.counts["question"].isin(defs["question"])]
        kolada = analysis.item_mean(counts, qframe, defs).groups
        kolada = kolada.rename(columns={"index": "measure", "mean": "kolada"})
        out = out.merge(
            kolada.loc[:, ["group", "measure", "kolada"]], on=["group", "measure"], how="left"
        )
        use = out["kolada"].notna()
        out.loc[use, "mean"] = out.loc[use, "kolada"]
        out = out.drop(columns=["kolada"])
    out["kind"] = "index"
    for column in ("median", "pct_positive", "pct_negative"):
        out[column] = np.nan
    out["distribution"] = None
    return out


def measure_thresholds(data: RoundData, k: int, k_sensitive: int) -> dict[str, int]:
    """The k of every measure: sensitive questions, and indices with a sensitive item, use
    the higher threshold."""
    measures = measure_questions(data)
    sensitive = set(measures.loc[measures["sensitive"], "question"])
    result = {q: (k_sensitive if q in sensitive else k) for q in measures["question"]}
    for index, defs in data.indices.groupby("index"):
        result[str(index)] = k_sensitive if set(defs["question"]) & sensitive else k
    return result


def answered_respondents(data: RoundData) -> dict[str, np.ndarray]:
    """For every measure, the respondents it counts (a real answer, or a counted score)."""
    measures = set(measure_questions(data)["question"])
    answered = data.answers.loc[
        (data.answers["value"] > 0) & data.answers["question"].isin(measures)
    ]
    result = {
        str(q): frame["respondent"].unique()
        for q, frame in answered.groupby("question", observed=True)
    }
    scores = index_scores(data)
    for index, frame in scores.loc[scores["counted"]].groupby("index"):
        result[str(index)] = frame["respondent"].unique()
    return result
