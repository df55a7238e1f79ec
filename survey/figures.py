"""Raw figures of one round, before the gate: only :mod:`survey.anonymity` may import this.

The additive figures (answer counts, multiple-choice n, index-score moments) are computed for
every group at once, as dense arrays rolled up the unit tree; the statistics of a cell (mean,
SD, distribution, index value) are computed only for the cells the gate lets through.
Groups are the ids of :mod:`analysis.disclosure`: ``u:<unit>`` (a unit and its descendants)
and ``u:<unit>|<question>=<category>`` (the same, answering a background question so).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import sparse

import analysis
from survey.services.aggregates import RoundData

DISTRIBUTION_KINDS = ("single", "multi")
MAX_VALUE = 99  # answers are stored as 0..99 (a check constraint of the answer table)
MOMENTS = ("n", "sum", "sumsq")

Shown = Mapping[str, np.ndarray]
"""measure → boolean mask over the round's groups (:class:`Groups` order): the shown cells."""


def unit_key(unit: object) -> str:
    return f"u:{unit}"


def category_key(unit: object, question: str, category: object) -> str:
    return f"u:{unit}|{question}={category}"


def measure_questions(data: RoundData) -> pd.DataFrame:
    """Questions whose figures are published (background questions define groups instead)."""
    return data.questions.loc[~data.questions["background"]].reset_index(drop=True)


def breakdowns(data: RoundData) -> dict[str, list[str]]:
    """Background question → its categories (as text codes), for the disclosure structure."""
    bg = data.questions.loc[data.questions["background"]]
    return {row.question: [str(v) for v in row.values] for row in bg.itertuples()}


@dataclass(frozen=True)
class Groups:
    """Every publishable group of a round, numbered: the units (in ``data.units`` order), then
    for each background question its categories, unit by unit (as :mod:`analysis.disclosure`
    lays them out, with the units in another order)."""

    keys: np.ndarray  # group ids (object)
    unit: np.ndarray  # unit id of each group
    question: np.ndarray  # background question of a category group, None for a unit group
    category: np.ndarray  # category value of a category group, -1 for a unit group
    n_units: int

    def __len__(self) -> int:
        return len(self.keys)


def groups_of(data: RoundData) -> Groups:
    units = data.units["unit"].to_numpy()
    unit_text = np.array([str(u) for u in units], dtype=object)
    keys = [np.array(["u:" + u for u in unit_text], dtype=object)]
    unit_ids = [units]
    questions = [np.full(len(units), None, dtype=object)]
    categories = [np.full(len(units), -1, dtype=np.int64)]
    for row in data.questions.loc[data.questions["background"]].itertuples():
        values = np.array([int(v) for v in row.values], dtype=np.int64)
        unit_col = np.repeat(unit_text, len(values))
        value_col = np.tile(values, len(units))
        keys.append(
            np.array(
                [f"u:{u}|{row.question}={v}" for u, v in zip(unit_col, value_col, strict=True)],
                dtype=object,
            )
        )
        unit_ids.append(np.repeat(units, len(values)))
        questions.append(np.full(len(unit_col), row.question, dtype=object))
        categories.append(value_col)
    return Groups(
        keys=np.concatenate(keys),
        unit=np.concatenate(unit_ids),
        question=np.concatenate(questions),
        category=np.concatenate(categories),
        n_units=len(units),
    )


def _subtree(data: RoundData) -> sparse.csr_matrix:
    """(units × units), 1 where the column unit lies in the row unit's subtree (itself too)."""
    tree = data.units.loc[:, ["unit", "parent"]]
    pairs = analysis.ancestors(tree)
    index = pd.Index(data.units["unit"])
    rows = index.get_indexer(pairs["ancestor"])
    cols = index.get_indexer(pairs["unit"])
    n = len(index)
    return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))


def question_codes(values: pd.Series, keys: list[str]) -> np.ndarray:
    """Position of each value in ``keys`` (-1 if absent); cheap for categoricals."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        lookup = np.append(pd.Index(keys).get_indexer(values.cat.categories.astype(str)), -1)
        return np.asarray(lookup[values.cat.codes.to_numpy()], dtype=np.int64)
    return np.asarray(pd.Index(keys).get_indexer(values.astype(str)), dtype=np.int64)


@dataclass(frozen=True)
class Respondents:
    """Each respondent's unit position and background category positions (-1: none)."""

    unit: np.ndarray
    categories: list[tuple[str, int, np.ndarray]]  # question, number of categories, positions


def _respondents(data: RoundData) -> Respondents:
    unit = pd.Index(data.units["unit"]).get_indexer(data.respondents["unit"])
    if (unit < 0).any():
        raise ValueError("respondents of units that are not in the round")
    categories = []
    for row in data.questions.loc[data.questions["background"]].itertuples():
        values = [int(v) for v in row.values]
        answered = data.respondents[row.question]
        present = answered.notna().to_numpy()
        raw = answered.to_numpy(dtype=np.float64, na_value=np.nan)
        position = np.full(len(answered), -1, dtype=np.int64)
        position[present] = pd.Index(values).get_indexer(raw[present].astype(np.int64))
        categories.append((row.question, len(values), position))
    return Respondents(unit=unit.astype(np.int64), categories=categories)


def _roll(
    subtree: sparse.csr_matrix,
    people: Respondents,
    who: np.ndarray,
    column: np.ndarray,
    width: int,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Sum ``weights`` (default 1) per group × column, rolled up the tree: (groups, width).

    ``who`` is the respondent of each entry, ``column`` its column (0..width-1).
    """
    n_units = subtree.shape[0]
    unit = people.unit[who]
    direct = np.bincount(unit * width + column, weights=weights, minlength=n_units * width)
    parts = [subtree @ direct.reshape(n_units, width)]
    for _question, n_cat, position in people.categories:
        cat = position[who]
        keep = cat >= 0
        flat = (unit[keep] * n_cat + cat[keep]) * width + column[keep]
        direct = np.bincount(
            flat,
            weights=None if weights is None else weights[keep],
            minlength=n_units * n_cat * width,
        )
        rolled = subtree @ direct.reshape(n_units, n_cat * width)
        parts.append(rolled.reshape(n_units * n_cat, width))
    return np.vstack(parts)


@dataclass(frozen=True)
class Frames:
    """The additive figures every figure and comparison is computed from, for every group.

    ``counts[g, c]``: answers in group ``g`` with the question and value of column ``c``
    (``columns``: ``question, value``; value 0 = don't know). ``multi_n[g, j]``: respondents
    who chose anything in multiple-choice question ``multi[j]``. ``index_moments[g, i]``:
    ``n, sum, sumsq`` of the counted respondents' scores on index ``indices[i]``.
    """

    groups: Groups
    questions: pd.DataFrame  # measure questions with ``first`` (their first column) and ``width``
    columns: pd.DataFrame  # question, value of every counts column
    counts: np.ndarray
    multi: list[str]
    multi_n: np.ndarray
    indices: list[str]
    index_moments: np.ndarray
    scores: pd.DataFrame  # respondent, index, counted, score

    @cached_property
    def _blocks(self) -> dict[str, tuple[int, int]]:
        q = self.questions
        return {
            key: (int(first), int(width))
            for key, first, width in zip(q["question"], q["first"], q["width"], strict=True)
        }

    def block(self, question: str) -> tuple[int, int]:
        """The counts columns of a question: (first, width), value 0 first."""
        return self._blocks[question]

    def counts_frame(
        self, positions: np.ndarray, questions: list[str], *, keys: bool = True
    ) -> pd.DataFrame:
        """``group, question, value, count`` (non-zero counts) of some groups and questions;
        ``group`` holds group ids, or the groups' positions when not ``keys``."""
        parts = []
        for question in questions:
            first, width = self.block(question)
            block = self.counts[positions, first : first + width]
            row, col = np.nonzero(block)
            parts.append(
                pd.DataFrame(
                    {
                        "group": self.groups.keys[positions[row]] if keys else positions[row],
                        "question": question,
                        "value": self.columns["value"].to_numpy()[first + col],
                        "count": block[row, col].astype(np.int64),
                    }
                )
            )
        if not parts:
            return pd.DataFrame(columns=["group", "question", "value", "count"])
        return pd.concat(parts, ignore_index=True)

    def moments_frame(self, positions: np.ndarray) -> pd.DataFrame:
        """``group, index, n, sum, sumsq`` of some groups (rows with counted respondents)."""
        cube = self.index_moments[positions]
        row, col = np.nonzero(cube[:, :, 0] > 0)
        return pd.DataFrame(
            {
                "group": self.groups.keys[positions[row]],
                "index": np.array(self.indices, dtype=object)[col],
                "n": cube[row, col, 0],
                "sum": cube[row, col, 1],
                "sumsq": cube[row, col, 2],
            }
        )

    @cached_property
    def unit_positions(self) -> np.ndarray:
        return np.arange(self.groups.n_units)


def _layout(measures: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Counts columns: for each measure question value 0, then its values (1..p, or options).

    Returns the questions with ``first``/``width``, the columns, and a (question × value)
    lookup of the column (-1: a value the question does not have).
    """
    firsts: list[int] = []
    widths: list[int] = []
    col_q: list[str] = []
    col_v: list[int] = []
    lookup = np.full((len(measures), MAX_VALUE + 1), -1, dtype=np.int64)
    for i, row in enumerate(measures.itertuples()):
        values = [0, *(int(v) for v in row.values)]
        firsts.append(len(col_q))
        widths.append(len(values))
        lookup[i, values] = np.arange(len(col_q), len(col_q) + len(values))
        col_q += [row.question] * len(values)
        col_v += values
    questions = measures.assign(first=firsts, width=widths)
    columns = pd.DataFrame({"question": col_q, "value": np.array(col_v, dtype=np.int64)})
    return questions, columns, lookup


@dataclass(frozen=True)
class Counts:
    """The part of :class:`Frames` that does not need the index scores."""

    groups: Groups
    questions: pd.DataFrame
    columns: pd.DataFrame
    counts: np.ndarray
    multi: list[str]
    multi_n: np.ndarray
    subtree: sparse.csr_matrix
    people: Respondents


def compute_counts(data: RoundData) -> Counts:
    """Answer counts and multiple-choice n of every group."""
    measures = measure_questions(data)
    questions, columns, lookup = _layout(measures)
    subtree = _subtree(data)
    people = _respondents(data)
    answers = data.answers
    q = question_codes(answers["question"], measures["question"].tolist())
    value = answers["value"].to_numpy(dtype=np.int64)
    who = answers["respondent"].to_numpy(dtype=np.int64)
    keep = q >= 0
    q, value, who = q[keep], value[keep], who[keep]
    inside = (value >= 0) & (value <= MAX_VALUE)
    column = np.full(len(q), -1, dtype=np.int64)
    column[inside] = lookup[q[inside], value[inside]]
    likert = (measures["kind"] == "likert").to_numpy()
    if (likert[q] & (column < 0)).any():
        raise ValueError("answers.value lies outside a Likert question's scale")
    known = column >= 0  # an option a choice question no longer has is left out
    counts = _roll(subtree, people, who[known], column[known], len(columns))

    multi = measures.loc[measures["kind"] == "multi", "question"].tolist()
    width = max(len(multi), 1)
    multi_pos = np.full(len(measures), -1, dtype=np.int64)
    multi_pos[(measures["kind"] == "multi").to_numpy()] = np.arange(len(multi))
    chose = (multi_pos[q] >= 0) & (value > 0)
    pairs = np.unique(who[chose] * width + multi_pos[q[chose]])
    multi_n = _roll(subtree, people, pairs // width, pairs % width, width)[:, : len(multi)]
    return Counts(groups_of(data), questions, columns, counts, multi, multi_n, subtree, people)


def compute_frames(
    data: RoundData, scores: pd.DataFrame | None = None, counts: Counts | None = None
) -> Frames:
    """Counts, multiple-choice n and index moments of every group (``scores``: from
    :func:`index_scores`, ``counts``: from :func:`compute_counts`; computed when not given)."""
    if counts is None:
        counts = compute_counts(data)
    if scores is None:
        scores = index_scores(data)
    indices = sorted(set(data.indices["index"]))
    counted = scores.loc[scores["counted"].astype(bool)]
    index_code = pd.Index(indices).get_indexer(counted["index"])
    score = counted["score"].to_numpy(dtype=np.float64)
    resp = counted["respondent"].to_numpy(dtype=np.int64)
    moments = [
        _roll(counts.subtree, counts.people, resp, index_code, max(len(indices), 1), weights)
        for weights in (np.ones(len(score)), score, score * score)
    ]
    index_moments = np.stack(moments, axis=2)[:, : len(indices), :]
    return Frames(
        groups=counts.groups,
        questions=counts.questions,
        columns=counts.columns,
        counts=counts.counts,
        multi=counts.multi,
        multi_n=counts.multi_n,
        indices=indices,
        index_moments=index_moments,
        scores=scores,
    )


SCORE_COLUMNS = ["respondent", "index", "counted", "score"]


def index_scores(data: RoundData, rule: str | None = None) -> pd.DataFrame:
    """Every respondent's score on every index (``counted`` when enough items were answered);
    only the indices of one scoring ``rule`` if given.

    For item-mean indices (HME) a respondent counts once they answered any item: their
    scores give the n and SD used in tests, while the shown value follows Kolada's rule.
    """
    indices = data.indices if rule is None else data.indices.loc[data.indices["rule"] == rule]
    if indices.empty:
        return pd.DataFrame(columns=SCORE_COLUMNS)
    questions = data.questions.loc[:, ["question", "scale_points"]]
    wanted = data.answers["question"].isin(indices["question"]).to_numpy()
    items = data.answers.loc[wanted, ["respondent", "question", "value"]]
    items = items.assign(group=0)
    parts = []
    for rule_, defs in indices.groupby("rule"):
        share = 1e-9 if rule_ == "item_mean" else None
        scored = analysis.respondent_scores(
            items, questions, defs.drop(columns=["rule"]), min_answered_share=share
        )
        parts.append(scored.loc[:, SCORE_COLUMNS])
    return concat_scores(parts)


def concat_scores(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Scores of several rules (in rule order) as one frame."""
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=SCORE_COLUMNS)
    return pd.concat(parts, ignore_index=True)


def _all_groups(frames: Frames) -> np.ndarray:
    return np.ones(len(frames.groups), dtype=bool)


def _mask(shown: Shown | None, measure: str, frames: Frames) -> np.ndarray:
    if shown is None:
        return _all_groups(frames)
    return shown.get(measure, np.zeros(len(frames.groups), dtype=bool))


FIGURE_COLUMNS = [
    "group",
    "measure",
    "kind",
    "n",
    "mean",
    "sd",
    "median",
    "pct_positive",
    "pct_negative",
    "distribution",
]


PART_MEASURES = 8  # measures per part of :func:`figure_parts`


def figure_parts(frames: Frames, data: RoundData, shown: Shown | None) -> Iterator[pd.DataFrame]:
    """The figures of the shown cells (:func:`item_figures`, then :func:`index_figures`, with
    ``score_mean``), a few measures at a time, so that they can be stored as they come."""
    questions = frames.questions["question"].tolist()
    for start in range(0, len(questions), PART_MEASURES):
        part = item_figures(frames, data, shown, questions[start : start + PART_MEASURES])
        if not part.empty:
            yield part.assign(score_mean=np.nan)
    for start in range(0, len(frames.indices), PART_MEASURES):
        part = index_figures(frames, data, shown, frames.indices[start : start + PART_MEASURES])
        if not part.empty:
            yield part


def item_figures(
    frames: Frames,
    data: RoundData,
    shown: Shown | None = None,
    questions: list[str] | None = None,
) -> pd.DataFrame:
    """``group, measure, kind, n, mean, sd, median, pct_positive, pct_negative, distribution``
    for every shown cell of a question (every cell with answers when ``shown`` is None; only
    ``questions``, if given)."""
    measures = frames.questions
    if questions is not None:
        measures = measures.loc[measures["question"].isin(questions)]
    parts = [_likert_figures(frames, measures, shown), _nominal_figures(frames, measures, shown)]
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=FIGURE_COLUMNS)
    result = pd.concat(parts, ignore_index=True)
    result["kind"] = "item"
    return result.loc[:, FIGURE_COLUMNS]


def row_arrays(matrix: np.ndarray) -> np.ndarray:
    """A matrix's rows as an object array of int64 arrays (views of one copy): a frame column
    of distributions without a Python list and int per count (that took most of a second for
    a large round's 600,000 cells); orjson writes them as lists."""
    rows = np.ascontiguousarray(matrix, dtype=np.int64)
    return np.fromiter(iter(rows), dtype=object, count=len(rows))


def _likert_figures(frames: Frames, measures: pd.DataFrame, shown: Shown | None) -> pd.DataFrame:
    likert = measures.loc[measures["kind"] == "likert"]
    parts = []
    for points, same in likert.groupby("scale_points", sort=True):
        keys = same["question"].tolist()
        cells, codes, blocks = [], [], []
        for code, row in enumerate(same.itertuples()):
            block = frames.counts[:, row.first : row.first + row.width]
            g = np.flatnonzero(_mask(shown, row.question, frames) & (block.sum(axis=1) > 0))
            cells.append(g)
            codes.append(np.full(len(g), code, dtype=np.int64))
            blocks.append(block[g])
        group = np.concatenate(cells)
        if not len(group):
            continue
        matrix = np.vstack(blocks)
        question = np.concatenate(codes)
        cell, value = np.nonzero(matrix)
        tidy = pd.DataFrame(
            {
                "group": cell,
                "question": pd.Categorical.from_codes(question[cell], categories=keys),
                "value": value,
                "count": matrix[cell, value],
            }
        )
        # Every cell is its own group, so the statistics come back in cell order.
        stats = analysis.item_stats(tidy, same.loc[:, ["question", "scale_points"]])
        parts.append(
            pd.DataFrame(
                {
                    "group": frames.groups.keys[group],
                    "measure": np.array(keys, dtype=object)[question],
                    "n": stats["n"].to_numpy(),
                    "mean": stats["mean"].to_numpy(),
                    "sd": stats["sd"].to_numpy(),
                    "median": stats["median"].to_numpy(),
                    "pct_positive": stats["pct_positive"].to_numpy(),
                    "pct_negative": stats["pct_negative"].to_numpy(),
                    "distribution": row_arrays(matrix[:, 1 : int(points) + 1]),
                }
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _nominal_figures(frames: Frames, measures: pd.DataFrame, shown: Shown | None) -> pd.DataFrame:
    """Single and multiple choice: n and the count of every option, in option order."""
    nominal = measures.loc[measures["kind"].isin(DISTRIBUTION_KINDS)]
    parts = []
    for row in nominal.itertuples():
        options = frames.counts[:, row.first + 1 : row.first + row.width]
        g = np.flatnonzero(_mask(shown, row.question, frames) & (options.sum(axis=1) > 0))
        block = options[g].astype(np.int64)
        if row.kind == "multi":
            n = frames.multi_n[g, frames.multi.index(row.question)].astype(np.int64)
        else:
            n = block.sum(axis=1)
        parts.append(
            pd.DataFrame(
                {
                    "group": frames.groups.keys[g],
                    "measure": row.question,
                    "n": n,
                    "distribution": row_arrays(block),
                }
            )
        )
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def index_figures(
    frames: Frames,
    data: RoundData,
    shown: Shown | None = None,
    indices: list[str] | None = None,
) -> pd.DataFrame:
    """Index value per shown group: Kolada's item mean or the respondents' mean; n and SD of
    the scores, and their mean (``score_mean``, what the tests use). Only ``indices``, if
    given."""
    rules = data.indices.drop_duplicates("index").set_index("index")["rule"]
    qframe = data.questions.loc[:, ["question", "scale_points"]]
    parts = []
    for i, index in enumerate(frames.indices):
        if indices is not None and index not in indices:
            continue
        cube = frames.index_moments[:, i, :]
        g = np.flatnonzero(_mask(shown, index, frames) & (cube[:, 0] > 0))
        if not len(g):
            continue
        stats = analysis.moments_to_stats(pd.DataFrame(cube[g], columns=list(MOMENTS)))
        mean = stats["mean"].to_numpy()
        shown_mean = mean.copy()
        if rules[index] == "item_mean":
            defs = data.indices.loc[data.indices["index"] == index].drop(columns=["rule"])
            counts = frames.counts_frame(g, defs["question"].tolist(), keys=False)
            kolada = analysis.item_mean(counts, qframe, defs).groups.set_index("group")["mean"]
            kolada = kolada.reindex(g).to_numpy()
            shown_mean = np.where(np.isnan(kolada), mean, kolada)
        parts.append(
            pd.DataFrame(
                {
                    "group": frames.groups.keys[g],
                    "measure": index,
                    "n": cube[g, 0].astype(np.int64),
                    "mean": shown_mean,
                    "sd": stats["sd"].to_numpy(),
                    "score_mean": mean,
                }
            )
        )
    columns = [*FIGURE_COLUMNS, "score_mean"]
    if not parts:
        return pd.DataFrame(columns=columns)
    out = pd.concat(parts, ignore_index=True)
    out["kind"] = "index"
    for column in ("median", "pct_positive", "pct_negative"):
        out[column] = np.nan
    out["distribution"] = None
    return out.loc[:, columns]


def measure_thresholds(data: RoundData, k: int, k_sensitive: int) -> dict[str, int]:
    """The k of every measure: sensitive questions, and indices with a sensitive item, use
    the higher threshold."""
    measures = measure_questions(data)
    sensitive = set(measures.loc[measures["sensitive"], "question"])
    result = {q: (k_sensitive if q in sensitive else k) for q in measures["question"]}
    for index, defs in data.indices.groupby("index"):
        result[str(index)] = k_sensitive if set(defs["question"]) & sensitive else k
    return result


def answered_respondents(
    data: RoundData, scores: pd.DataFrame | None = None
) -> dict[str, np.ndarray]:
    """For every measure, the respondents it counts (a real answer, or a counted score)."""
    result = answered_items(data)
    result.update(answered_indices(index_scores(data) if scores is None else scores))
    return result


def answered_items(data: RoundData) -> dict[str, np.ndarray]:
    """For every question with figures, the respondents who gave it a real answer."""
    measures = measure_questions(data)["question"].tolist()
    q = question_codes(data.answers["question"], measures)
    who = data.answers["respondent"].to_numpy(dtype=np.int64)
    real = (q >= 0) & (data.answers["value"].to_numpy() > 0)
    q, who = q[real], who[real]
    order = np.lexsort((who, q))
    q, who = q[order], who[order]
    first = np.ones(len(q), dtype=bool)
    first[1:] = (q[1:] != q[:-1]) | (who[1:] != who[:-1])
    q, who = q[first], who[first]
    bounds = np.searchsorted(q, np.arange(len(measures) + 1))
    return {
        measures[i]: who[bounds[i] : bounds[i + 1]]
        for i in range(len(measures))
        if bounds[i + 1] > bounds[i]
    }


def answered_indices(scores: pd.DataFrame) -> dict[str, np.ndarray]:
    """For every index, the respondents with a counted score."""
    counted = scores.loc[scores["counted"].astype(bool)]
    return {str(i): frame["respondent"].unique() for i, frame in counted.groupby("index")}
