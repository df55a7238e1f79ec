"""Comparisons between two groups: difference, 95 % CI, test, p-value and effect size.

Three tests, each suited to one kind of figure:

* **means** (indices, item means) – Welch's t-test from summary statistics, Welch–Satterthwaite
  degrees of freedom, effect size Hedges' g (:func:`welch_t_test`, :func:`compare_means`);
* **ordinal distributions** (items) – Mann–Whitney U from the two count vectors with the
  tie-corrected normal approximation, effect size the rank-biserial correlation; the reported
  difference is the difference in means with Welch's CI (:func:`mann_whitney_counts`,
  :func:`compare_ordinal`);
* **proportions** (% positive) – two-proportion z-test with the pooled SE, Newcombe's hybrid
  score CI for the difference, effect size Cohen's h (:func:`two_proportion_test`,
  :func:`compare_proportions`).

Every difference is *a − b*. The scalar functions return one row (a Series); the ``compare_*``
functions take two aligned frames (one row per comparison, same index) and return a frame with
the same columns, which is what the app calls for thousands of comparisons at once.
:func:`compare_items` does all item comparisons of a counts frame in one go. Then
:func:`analysis.multiplicity.adjust_fdr` (Benjamini–Hochberg) and
:func:`analysis.multiplicity.mark_significant` decide what is marked.

Result columns
--------------
``n_a, n_b, value_a, value_b, difference, ci_low, ci_high, statistic, df, p_value, effect_size,
test, effect_size_name`` (``df`` only for Welch's t; :func:`compare_ordinal` adds ``z``).
Results are NaN where the data cannot support them (n = 0, or n < 2 for anything needing an SD).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis._counts import mean_sd, wide_counts
from analysis._kernels import Arrays, mann_whitney, proportions, welch
from analysis._validation import (
    as_float,
    check_confidence,
    check_nonnegative,
    require_columns,
    scale_lookup,
)

__all__ = [
    "RESULT_COLUMNS",
    "compare_items",
    "compare_means",
    "compare_ordinal",
    "compare_proportions",
    "mann_whitney_counts",
    "two_proportion_test",
    "welch_t_test",
]

RESULT_COLUMNS = [
    "n_a",
    "n_b",
    "value_a",
    "value_b",
    "difference",
    "ci_low",
    "ci_high",
    "statistic",
    "df",
    "p_value",
    "effect_size",
    "test",
    "effect_size_name",
]

WELCH = "Welch t-test"
MANN_WHITNEY = "Mann-Whitney U (normal approximation, tie-corrected)"
PROPORTIONS = "two-proportion z-test (pooled SE)"
HEDGES_G = "Hedges' g"
RANK_BISERIAL = "rank-biserial correlation"
COHENS_H = "Cohen's h"

# --------------------------------------------------------------------------- frame helpers


def _aligned(a: object, b: object, columns: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    fa = require_columns(a, columns, "a")
    fb = require_columns(b, columns, "b")
    if len(fa) != len(fb) or not fa.index.equals(fb.index):
        raise ValueError(
            "a and b must be aligned: same length and the same index "
            "(e.g. reset_index(drop=True) on both after building them row by row)"
        )
    return fa, fb


def _counts_column(frame: pd.DataFrame, column: str, name: str) -> np.ndarray:
    values = as_float(frame[column], f"{name}.{column}")
    check_nonnegative(values, f"{name}.{column}")
    return values


def _result(index: pd.Index, parts: Arrays, test: str, effect: str) -> pd.DataFrame:
    out = pd.DataFrame(parts, index=index)
    out["test"] = test
    out["effect_size_name"] = effect
    extra = [c for c in out.columns if c not in RESULT_COLUMNS]
    return out[[*RESULT_COLUMNS, *extra]]


# --------------------------------------------------------------------------- means


def compare_means(
    a: pd.DataFrame,
    b: pd.DataFrame,
    *,
    n: str = "n",
    mean: str = "mean",
    sd: str = "sd",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Welch's t-test of mean a − mean b for each row of two aligned frames.

    Parameters
    ----------
    a, b : DataFrame
        Summary statistics with the columns named by ``n``, ``mean`` and ``sd`` (sample SD), one
        row per comparison; same length and index.
    n, mean, sd : str
        Column names.
    confidence : float, default 0.95

    Returns
    -------
    DataFrame
        :data:`RESULT_COLUMNS` with the index of ``a``. ``difference`` = mean a − mean b;
        ``ci_low``/``ci_high`` = difference ± t(df)·SE with ``SE = sqrt(sd_a²/n_a + sd_b²/n_b)``
        and the Welch–Satterthwaite ``df``; ``statistic`` = t; two-sided ``p_value``;
        ``effect_size`` = Hedges' g, Cohen's d with the pooled SD times the small-sample
        correction ``J = 1 − 3 / (4(n_a + n_b) − 9)`` (Hedges & Olkin 1985).

    Examples
    --------
    >>> a = pd.DataFrame({"n": [30], "mean": [70.0], "sd": [15.0]})
    >>> b = pd.DataFrame({"n": [40], "mean": [60.0], "sd": [20.0]})
    >>> r = compare_means(a, b).iloc[0]
    >>> round(float(r["statistic"]), 3), round(float(r["df"]), 2)
    (2.39, 68.0)
    """
    check_confidence(confidence)
    fa, fb = _aligned(a, b, [n, mean, sd])
    n1, n2 = _counts_column(fa, n, "a"), _counts_column(fb, n, "b")
    s1, s2 = _counts_column(fa, sd, "a"), _counts_column(fb, sd, "b")
    m1, m2 = as_float(fa[mean], "a." + mean), as_float(fb[mean], "b." + mean)
    parts = welch(n1, m1, s1, n2, m2, s2, confidence)
    parts = {"n_a": n1, "n_b": n2, "value_a": m1, "value_b": m2, **parts}
    return _result(fa.index, parts, WELCH, HEDGES_G)


def welch_t_test(
    n_a: float,
    mean_a: float,
    sd_a: float,
    n_b: float,
    mean_b: float,
    sd_b: float,
    *,
    confidence: float = 0.95,
) -> pd.Series:
    """Welch's t-test from summary statistics; one row of :func:`compare_means`.

    Examples
    --------
    >>> r = welch_t_test(30, 70.0, 15.0, 40, 60.0, 20.0)
    >>> round(float(r["p_value"]), 4), round(float(r["effect_size"]), 3)
    (0.0196, 0.548)
    """
    a = pd.DataFrame({"n": [n_a], "mean": [mean_a], "sd": [sd_a]})
    b = pd.DataFrame({"n": [n_b], "mean": [mean_b], "sd": [sd_b]})
    return compare_means(a, b, confidence=confidence).iloc[0]


# --------------------------------------------------------------------------- ordinal


def _ordinal_parts(
    ca: np.ndarray, cb: np.ndarray, use_continuity: bool, confidence: float
) -> Arrays:
    values = np.arange(1, ca.shape[1] + 1, dtype=np.float64)
    n1, n2 = ca.sum(axis=1), cb.sum(axis=1)
    m1, s1 = mean_sd(n1, ca @ values, ca @ values**2)
    m2, s2 = mean_sd(n2, cb @ values, cb @ values**2)
    means = welch(n1, m1, s1, n2, m2, s2, confidence, test=False)
    mw = mann_whitney(ca, cb, use_continuity)
    parts = {
        "n_a": n1,
        "n_b": n2,
        "value_a": m1,
        "value_b": m2,
        "difference": means["difference"],
        "ci_low": means["ci_low"],
        "ci_high": means["ci_high"],
        "statistic": mw["statistic"],
        "df": np.full(len(n1), np.nan),
        "p_value": mw["p_value"],
        "effect_size": mw["effect_size"],
        "z": mw["z"],
    }
    return parts


def compare_ordinal(
    a: pd.DataFrame,
    b: pd.DataFrame,
    *,
    values: Sequence[str] | None = None,
    use_continuity: bool = True,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Mann–Whitney U of two ordinal distributions per row of two aligned count frames.

    Parameters
    ----------
    a, b : DataFrame
        Wide counts, one row per comparison and one column per scale value in ascending order
        (value 1, 2, …; a 4-point item in a 5-column frame has a 0 in the fifth column). Same
        length and index.
    values : sequence of str, optional
        The count columns in scale order; default all columns of ``a``.
    use_continuity : bool, default True
        Continuity correction of the normal approximation (scipy's default).
    confidence : float, default 0.95
        For the CI of the mean difference.

    Returns
    -------
    DataFrame
        :data:`RESULT_COLUMNS` plus ``z``. ``statistic`` = U of ``a`` (scipy's ``U1``: pairs where
        a's answer is higher, ties counting one half); ``z`` is signed (positive when ``a`` is
        higher); ``p_value`` is two-sided from the tie-corrected normal approximation, exactly as
        ``scipy.stats.mannwhitneyu(method="asymptotic")`` on the raw answers; ``effect_size`` =
        rank-biserial ``r = 2·U1/(n_a·n_b) − 1 = P(a > b) − P(a < b)``. ``value_a``/``value_b``
        are the means on the 1..p scale and ``difference``/``ci_low``/``ci_high`` their
        difference with Welch's CI.

    Examples
    --------
    >>> a = pd.DataFrame({"1": [0], "2": [1], "3": [2], "4": [4], "5": [3]})
    >>> b = pd.DataFrame({"1": [2], "2": [3], "3": [3], "4": [2], "5": [0]})
    >>> r = compare_ordinal(a, b).iloc[0]
    >>> float(r["statistic"]), round(float(r["p_value"]), 4), round(float(r["effect_size"]), 2)
    (82.5, 0.0129, 0.65)
    """
    check_confidence(confidence)
    cols = list(a.columns) if values is None else list(values)
    fa, fb = _aligned(a, b, cols)
    if not cols:
        raise ValueError("compare_ordinal needs at least one value column")
    ca = np.column_stack([_counts_column(fa, c, "a") for c in cols])
    cb = np.column_stack([_counts_column(fb, c, "b") for c in cols])
    if np.isnan(ca).any() or np.isnan(cb).any():
        raise ValueError("counts must not be missing; use 0 for values nobody chose")
    parts = _ordinal_parts(ca, cb, use_continuity, confidence)
    return _result(fa.index, parts, MANN_WHITNEY, RANK_BISERIAL)


def mann_whitney_counts(
    counts_a: Sequence[float] | np.ndarray,
    counts_b: Sequence[float] | np.ndarray,
    *,
    use_continuity: bool = True,
    confidence: float = 0.95,
) -> pd.Series:
    """Mann–Whitney U from two count vectors over the values 1..p; one row of
    :func:`compare_ordinal`.

    Examples
    --------
    >>> r = mann_whitney_counts([0, 1, 2, 4, 3], [2, 3, 3, 2, 0])
    >>> float(r["statistic"]), round(float(r["difference"]), 2)
    (82.5, 1.4)
    """
    ca = np.asarray(counts_a, dtype=np.float64).reshape(1, -1)
    cb = np.asarray(counts_b, dtype=np.float64).reshape(1, -1)
    if ca.shape != cb.shape:
        raise ValueError("counts_a and counts_b must have one count per scale value each")
    names = [str(v) for v in range(1, ca.shape[1] + 1)]
    result = compare_ordinal(
        pd.DataFrame(ca, columns=names),
        pd.DataFrame(cb, columns=names),
        use_continuity=use_continuity,
        confidence=confidence,
    )
    return result.iloc[0]


# --------------------------------------------------------------------------- proportions


def compare_proportions(
    a: pd.DataFrame,
    b: pd.DataFrame,
    *,
    successes: str = "positive",
    n: str = "n",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Two-proportion z-test of p_a − p_b per row of two aligned frames.

    The test uses the pooled SE ``sqrt(p̄(1 − p̄)(1/n_a + 1/n_b))`` (the score test, equivalent to
    the Pearson χ² test without continuity correction). The CI of the difference is Newcombe's
    hybrid score interval (Newcombe 1998, method 10), built from the Wilson intervals of the
    two proportions, rather than the Wald interval: the groups here are often 5–30 people with
    % positive near 0 or 100 %, where the Wald interval is too narrow, collapses to a point at
    0 % or 100 % and can leave [−1, 1]; Newcombe's interval keeps close to 95 % coverage and
    stays inside [−1, 1]. Near the 5 % boundary the CI and the test can occasionally disagree
    (they are different approximations); the mark of significance follows the test.

    Parameters
    ----------
    a, b : DataFrame
        Columns ``successes`` (e.g. the number answering 4–5) and ``n``; same length and index.
    successes, n : str
        Column names.
    confidence : float, default 0.95

    Returns
    -------
    DataFrame
        :data:`RESULT_COLUMNS`; ``value_a``/``value_b`` are the proportions (0–1), ``difference``
        and its CI in proportion units, ``statistic`` = z, ``effect_size`` = Cohen's
        ``h = 2·asin(√p_a) − 2·asin(√p_b)``. When both proportions are 0 or both 1 the test has
        no variance: z = 0 and p = 1.

    Examples
    --------
    >>> a = pd.DataFrame({"positive": [56], "n": [70]})
    >>> b = pd.DataFrame({"positive": [48], "n": [80]})
    >>> r = compare_proportions(a, b).iloc[0]
    >>> round(float(r["ci_low"]), 4), round(float(r["ci_high"]), 4)
    (0.0524, 0.3339)
    """
    check_confidence(confidence)
    fa, fb = _aligned(a, b, [successes, n])
    x1, n1 = _counts_column(fa, successes, "a"), _counts_column(fa, n, "a")
    x2, n2 = _counts_column(fb, successes, "b"), _counts_column(fb, n, "b")
    for x, total, name in ((x1, n1, "a"), (x2, n2, "b")):
        if np.isnan(x).any() or np.isnan(total).any():
            raise ValueError(f"{name}: successes and n must not be missing")
        if (x > total).any():
            raise ValueError(f"{name}: {successes} must not exceed {n}")
    parts = {"n_a": n1, "n_b": n2, **proportions(x1, n1, x2, n2, confidence)}
    return _result(fa.index, parts, PROPORTIONS, COHENS_H)


def two_proportion_test(
    successes_a: float,
    n_a: float,
    successes_b: float,
    n_b: float,
    *,
    confidence: float = 0.95,
) -> pd.Series:
    """Two-proportion z-test with Newcombe's CI; one row of :func:`compare_proportions`.

    Examples
    --------
    >>> r = two_proportion_test(9, 10, 3, 10)
    >>> round(float(r["ci_low"]), 4), round(float(r["ci_high"]), 4)
    (0.1705, 0.809)
    """
    a = pd.DataFrame({"positive": [successes_a], "n": [n_a]})
    b = pd.DataFrame({"positive": [successes_b], "n": [n_b]})
    return compare_proportions(a, b, confidence=confidence).iloc[0]


# --------------------------------------------------------------------------- items in bulk


def compare_items(
    counts: pd.DataFrame,
    questions: pd.DataFrame,
    pairs: pd.DataFrame,
    *,
    counts_b: pd.DataFrame | None = None,
    group: str = "group",
    measures: Sequence[str] = ("mean", "pct_positive"),
    use_continuity: bool = True,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """All item comparisons of many group pairs at once, straight from counts.

    Parameters
    ----------
    counts : DataFrame
        ``group, question, value, count`` (value 0 = don't know, left out).
    questions : DataFrame
        ``question, scale_points``.
    pairs : DataFrame
        One row per comparison with columns ``group_a, group_b, question``; further columns
        (e.g. the kind of comparison) are carried into the result.
    counts_b : DataFrame, optional
        Where to look up ``group_b`` (e.g. the previous round's counts, or the complements from
        :func:`analysis.items.complement`); default ``counts``.
    group : str, default "group"
        The group column of the counts frames.
    measures : sequence of {"mean", "pct_positive"}
        ``"mean"``: the distributions compared by Mann–Whitney U (see :func:`compare_ordinal`),
        with the difference in means (1..p scale) and Welch's CI; ``"pct_positive"``: % positive
        compared by the two-proportion z-test (see :func:`compare_proportions`), with
        ``value_a``, ``value_b``, ``difference``, ``ci_low`` and ``ci_high`` in per cent /
        percentage points.
    use_continuity, confidence
        As in :func:`compare_ordinal`.

    Returns
    -------
    DataFrame
        The columns of ``pairs``, ``measure``, :data:`RESULT_COLUMNS` and ``z``; one row per pair
        and measure, in the order of ``pairs``. A group with no counts for the question has
        ``n`` 0 and NaN results.

    Examples
    --------
    >>> counts = pd.DataFrame({"group": ["A", "A", "B", "B"], "question": "q1",
    ...                        "value": [4, 5, 2, 4], "count": [5, 5, 6, 4]})
    >>> questions = pd.DataFrame({"question": ["q1"], "scale_points": [5]})
    >>> pairs = pd.DataFrame({"group_a": ["A"], "group_b": ["B"], "question": ["q1"]})
    >>> out = compare_items(counts, questions, pairs)
    >>> out["measure"].tolist(), out["difference"].round(1).tolist()
    (['mean', 'pct_positive'], [1.7, 60.0])
    """
    check_confidence(confidence)
    unknown = set(measures) - {"mean", "pct_positive"}
    if unknown or not measures:
        raise ValueError(f"measures must be 'mean' and/or 'pct_positive', got {list(measures)}")
    pr = require_columns(pairs, ["group_a", "group_b", "question"], "pairs")
    clash = [c for c in pr.columns if c in ("measure", *RESULT_COLUMNS, "z")]
    if clash:
        raise ValueError(f"pairs must not have result column names: {clash}")
    wide_a = wide_counts(counts, questions, group)
    wide_b = wide_a if counts_b is None else wide_counts(counts_b, questions, group)
    rows_a = wide_a.rows_for(pr["group_a"], pr["question"])
    rows_b = wide_b.rows_for(pr["group_b"], pr["question"])
    width = max(wide_a.matrix.shape[1], wide_b.matrix.shape[1])
    ca = _pad(wide_a.take(rows_a)[:, 1:], width - 1)
    cb = _pad(wide_b.take(rows_b)[:, 1:], width - 1)
    points = _scale_points_for(questions, pr["question"])
    blocks: list[tuple[Arrays, tuple[str, str, str]]] = []
    if "mean" in measures:
        parts = _ordinal_parts(ca, cb, use_continuity, confidence)
        blocks.append((parts, ("mean", MANN_WHITNEY, RANK_BISERIAL)))
    if "pct_positive" in measures:
        values = np.arange(1, width, dtype=np.float64)
        positive = values[None, :] > (points[:, None] + 1.0) / 2.0
        x1, x2 = (ca * positive).sum(axis=1), (cb * positive).sum(axis=1)
        n1, n2 = ca.sum(axis=1), cb.sum(axis=1)
        parts = {"n_a": n1, "n_b": n2, **proportions(x1, n1, x2, n2, confidence)}
        for col in ("value_a", "value_b", "difference", "ci_low", "ci_high"):
            parts[col] = parts[col] * 100.0
        parts["z"] = parts["statistic"]
        blocks.append((parts, ("pct_positive", PROPORTIONS, COHENS_H)))
    return _interleave(pr, blocks)


def _interleave(
    pairs: pd.DataFrame, blocks: list[tuple[Arrays, tuple[str, str, str]]]
) -> pd.DataFrame:
    """Rows pair 0 measure 0, pair 0 measure 1, pair 1 measure 0, … without a sort.

    The label columns (measure, test, effect size name) are categoricals built from codes
    rather than millions of repeated strings.
    """
    k = len(blocks)
    out = pairs.reset_index(drop=True).take(np.repeat(np.arange(len(pairs)), k))
    out = out.reset_index(drop=True)
    codes = np.tile(np.arange(k), len(pairs))
    columns: dict[str, object] = {}
    for position, col in enumerate(("measure", "test", "effect_size_name")):
        labels = pd.Index([labels_[position] for _, labels_ in blocks])
        categories = labels.unique()
        columns[col] = pd.Categorical.from_codes(
            categories.get_indexer(labels)[codes], categories=categories
        )
    numeric = [c for c in [*RESULT_COLUMNS, "z"] if c not in columns]
    # One float block filled in place: building the frame from 13 separate arrays would copy
    # them all into a block again.
    matrix = np.empty((len(pairs), k, len(numeric)))
    for j, (parts, _) in enumerate(blocks):
        for c, col in enumerate(numeric):
            matrix[:, j, c] = parts[col]
    values = pd.DataFrame(matrix.reshape(len(pairs) * k, len(numeric)), columns=numeric, copy=False)
    labels = pd.DataFrame(columns)
    return pd.concat([out, labels, values], axis=1)[
        [*pairs.columns, "measure", *RESULT_COLUMNS, "z"]
    ]


def _pad(matrix: np.ndarray, width: int) -> np.ndarray:
    if matrix.shape[1] >= width:
        return matrix
    return np.pad(matrix, ((0, 0), (0, width - matrix.shape[1])))


def _scale_points_for(questions: pd.DataFrame, question_values: pd.Series) -> np.ndarray:
    return scale_lookup(questions, question_values, name="pairs")
