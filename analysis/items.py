"""Item statistics from counts, additive moments, and subtraction of count/moment frames.

Data conventions
----------------
A *counts frame* has one row per group × question × observed value, with columns
``group, question, value, count``. Values are the integers ``1..p`` of a ``p``-point scale;
``0`` is "vet ej / ej aktuellt" (don't know), which is not a value: it is left out of ``n``,
means and distributions and only shows up in ``pct_dont_know``. A *questions frame* has columns
``question, scale_points``.

A *moments frame* holds ``n, sum, sumsq`` per key. Moments (like counts) are additive, so they
can be rolled up the organisation tree (:func:`analysis.rollup.rollup`) and subtracted (the rest
of the organisation = root − unit, see :func:`subtract` and :func:`complement`) before being
turned into ``n, mean, sd`` with :func:`moments_to_stats`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis._counts import mean_sd, summarise, wide_counts
from analysis._validation import (
    as_column_list,
    as_float,
    check_nonnegative,
    require_columns,
)

__all__ = [
    "complement",
    "distribution",
    "item_stats",
    "moments",
    "moments_from_counts",
    "moments_to_stats",
    "subtract",
]


def item_stats(
    counts: pd.DataFrame, questions: pd.DataFrame, *, group: str = "group"
) -> pd.DataFrame:
    """Descriptive statistics per group × question, from a counts frame.

    Parameters
    ----------
    counts : DataFrame
        Columns ``group, question, value, count``; value 0 = don't know. Repeated
        group/question/value rows are added together.
    questions : DataFrame
        Columns ``question, scale_points``; every question in ``counts`` must be listed.
    group : str, default "group"
        Name of the group column in ``counts`` (and in the result).

    Returns
    -------
    DataFrame
        One row per group × question present in ``counts``, sorted, with columns
        ``group, question, scale_points, n, n_dont_know, mean, sd, median, pct_positive,
        pct_negative, pct_dont_know``.

        * ``n`` – answers with a value (don't know excluded); ``n_dont_know`` – don't knows.
        * ``mean``, ``sd`` – on the 1..p scale; ``sd`` is the sample SD (ddof=1), NaN when n < 2.
        * ``median`` – of the ordinal values; the mean of the two middle values when n is even
          (as :func:`numpy.median` on the raw answers).
        * ``pct_positive`` / ``pct_negative`` – per cent (0–100) of the ``n`` answers above /
          below the scale midpoint ``(p + 1) / 2``: 4–5 and 1–2 on a 5-point scale, 3–4 and 1–2 on
          a 4-point scale. NaN when n = 0.
        * ``pct_dont_know`` – per cent of all answers, don't knows included.

    Examples
    --------
    >>> counts = pd.DataFrame({"group": "A", "question": "q1",
    ...                        "value": [0, 2, 4, 5], "count": [1, 1, 2, 1]})
    >>> questions = pd.DataFrame({"question": ["q1"], "scale_points": [5]})
    >>> row = item_stats(counts, questions).iloc[0]
    >>> int(row["n"]), float(row["mean"]), float(row["median"]), float(row["pct_positive"])
    (4, 3.75, 4.0, 75.0)
    >>> round(float(row["pct_dont_know"]), 1)
    20.0
    """
    wide = wide_counts(counts, questions, group)
    stats = summarise(wide.matrix, wide.scale_points)
    n, dont_know = stats["n"], stats["n_dont_know"]
    groups, question_keys = wide.keys
    with np.errstate(divide="ignore", invalid="ignore"):
        pct_pos = np.where(n > 0, 100.0 * stats["positive"] / n, np.nan)
        pct_neg = np.where(n > 0, 100.0 * stats["negative"] / n, np.nan)
        all_answers = n + dont_know
        pct_dk = np.where(all_answers > 0, 100.0 * dont_know / all_answers, np.nan)
    return pd.DataFrame(
        {
            group: groups,
            "question": question_keys,
            "scale_points": wide.scale_points.astype(np.int64),
            "n": n.astype(np.int64),
            "n_dont_know": dont_know.astype(np.int64),
            "mean": stats["mean"],
            "sd": stats["sd"],
            "median": stats["median"],
            "pct_positive": pct_pos,
            "pct_negative": pct_neg,
            "pct_dont_know": pct_dk,
        }
    )


def distribution(
    counts: pd.DataFrame, questions: pd.DataFrame, *, group: str = "group"
) -> pd.DataFrame:
    """Answer distribution per group × question over every value ``1..p``.

    Values nobody chose get ``count`` 0; don't know (value 0) is left out.

    Returns
    -------
    DataFrame
        Columns ``group, question, value, count, share``; ``share`` is the fraction (0–1) of the
        group's ``n`` answers to the question (NaN if everyone answered don't know).

    Examples
    --------
    >>> counts = pd.DataFrame({"group": "A", "question": "q1",
    ...                        "value": [0, 1, 4], "count": [3, 1, 3]})
    >>> questions = pd.DataFrame({"question": ["q1"], "scale_points": [4]})
    >>> d = distribution(counts, questions)
    >>> d["count"].tolist(), d["share"].tolist()
    ([1, 0, 0, 3], [0.25, 0.0, 0.0, 0.75])
    """
    wide = wide_counts(counts, questions, group)
    answers = wide.matrix[:, 1:]
    values = np.arange(1, answers.shape[1] + 1)
    valid = values[None, :] <= wide.scale_points[:, None]
    row, col = np.nonzero(valid)
    n = answers.sum(axis=1)
    count = answers[row, col]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(n[row] > 0, count / n[row], np.nan)
    groups, question_keys = wide.keys
    return pd.DataFrame(
        {
            group: groups.take(row),
            "question": question_keys.take(row),
            "value": values[col].astype(np.int64),
            "count": count.astype(np.int64),
            "share": share,
        }
    )


def moments_from_counts(
    counts: pd.DataFrame, questions: pd.DataFrame, *, group: str = "group"
) -> pd.DataFrame:
    """Additive moments ``n, sum, sumsq`` of the 1..p answers per group × question.

    Returns
    -------
    DataFrame
        Columns ``group, question, n, sum, sumsq`` (don't know excluded).

    Examples
    --------
    >>> counts = pd.DataFrame({"group": "A", "question": "q1",
    ...                        "value": [0, 2, 5], "count": [4, 1, 2]})
    >>> questions = pd.DataFrame({"question": ["q1"], "scale_points": [5]})
    >>> moments_from_counts(counts, questions)[["n", "sum", "sumsq"]].iloc[0].tolist()
    [3.0, 12.0, 54.0]
    """
    wide = wide_counts(counts, questions, group)
    stats = summarise(wide.matrix, wide.scale_points)
    groups, question_keys = wide.keys
    return pd.DataFrame(
        {
            group: groups,
            "question": question_keys,
            "n": stats["n"],
            "sum": stats["sum"],
            "sumsq": stats["sumsq"],
        }
    )


def moments(frame: pd.DataFrame, *, value: str, by: str | Sequence[str]) -> pd.DataFrame:
    """Additive moments ``n, sum, sumsq`` of a numeric column, per key.

    Missing values (NaN) are skipped, so respondent scores that did not count (e.g. a COPSOQ
    respondent who answered too few items) can be passed as they are.

    Parameters
    ----------
    frame : DataFrame
        Holds ``value`` and the ``by`` columns, e.g. respondent-level index scores.
    value : str
        The numeric column.
    by : str or sequence of str
        Key columns, e.g. ``["group", "index"]``.

    Returns
    -------
    DataFrame
        ``by`` columns plus ``n, sum, sumsq``; keys whose values are all NaN get ``n`` 0.

    Examples
    --------
    >>> scores = pd.DataFrame({"unit": [1, 1, 1, 2], "score": [50.0, 100.0, np.nan, 25.0]})
    >>> moments(scores, value="score", by="unit").to_dict("list")
    {'unit': [1, 2], 'n': [2.0, 1.0], 'sum': [150.0, 25.0], 'sumsq': [12500.0, 625.0]}
    """
    keys = as_column_list(by)
    if set(keys) & {"n", "sum", "sumsq"}:
        raise ValueError("key columns must not be called n, sum or sumsq")
    df = require_columns(frame, [*keys, value], "frame")
    x = as_float(df[value], f"frame.{value}")
    if np.isinf(x).any():
        raise ValueError(f"frame.{value} must be finite")
    present = ~np.isnan(x)
    work = df[keys].assign(
        n=present.astype(np.float64),
        sum=np.where(present, x, 0.0),
        sumsq=np.where(present, x * x, 0.0),
    )
    return work.groupby(keys, sort=True, dropna=False).sum().reset_index()


def moments_to_stats(
    frame: pd.DataFrame, *, n: str = "n", sum: str = "sum", sumsq: str = "sumsq"
) -> pd.DataFrame:
    """Add ``mean`` and ``sd`` (sample SD, ddof=1) to a moments frame.

    ``mean`` is NaN when n = 0 and ``sd`` NaN when n < 2. Negative ``n`` and moments that cannot
    come from real data (sumsq < sum²/n beyond rounding) raise ``ValueError``.

    Examples
    --------
    >>> m = pd.DataFrame({"group": ["A"], "n": [3.0], "sum": [9.0], "sumsq": [29.0]})
    >>> out = moments_to_stats(m)
    >>> float(out["mean"].iloc[0]), float(out["sd"].iloc[0])
    (3.0, 1.0)
    """
    df = require_columns(frame, [n, sum, sumsq], "moments")
    count = as_float(df[n], f"moments.{n}")
    check_nonnegative(count, f"moments.{n}", allow_nan=False)
    mean, sd = mean_sd(count, as_float(df[sum], "moments.sum"), as_float(df[sumsq], "sumsq"))
    return df.assign(mean=mean, sd=sd)


def subtract(
    minuend: pd.DataFrame,
    subtrahend: pd.DataFrame,
    *,
    on: str | Sequence[str],
    columns: str | Sequence[str],
) -> pd.DataFrame:
    """Subtract one additive frame (counts or moments) from another, key by key.

    Keys absent from ``subtrahend`` count as zero. Use it for "the rest": root − unit, parent −
    child, all − women.

    Parameters
    ----------
    minuend, subtrahend : DataFrame
        Both hold the ``on`` key columns and the additive ``columns``; keys must be unique.
    on : str or sequence of str
        Key columns to align on, e.g. ``["question", "value"]``.
    columns : str or sequence of str
        Additive columns, e.g. ``"count"`` or ``["n", "sum", "sumsq"]``.

    Returns
    -------
    DataFrame
        The keys of ``minuend`` (in its order) and the differences of ``columns``.

    Raises
    ------
    ValueError
        If a key of ``subtrahend`` is missing from ``minuend`` while carrying non-zero figures,
        if keys repeat, or if any difference becomes negative beyond rounding (the subtrahend is
        not part of the minuend).

    Examples
    --------
    >>> root = pd.DataFrame({"question": "q1", "value": [1, 2], "count": [5, 7]})
    >>> unit = pd.DataFrame({"question": "q1", "value": [2], "count": [3]})
    >>> subtract(root, unit, on=["question", "value"], columns="count")["count"].tolist()
    [5, 4]
    """
    keys, cols = as_column_list(on), as_column_list(columns)
    a = require_columns(minuend, [*keys, *cols], "minuend")
    b = require_columns(subtrahend, [*keys, *cols], "subtrahend")
    for frame, name in ((a, "minuend"), (b, "subtrahend")):
        if frame.duplicated(keys).any():
            raise ValueError(f"{name} repeats some key {keys}; aggregate it first")
    merged = a[keys].merge(
        b[[*keys, *cols]], on=keys, how="left", sort=False, validate="one_to_one"
    )
    orphan = b[keys].merge(a[keys], on=keys, how="left", indicator=True)["_merge"] == "left_only"
    if orphan.any():
        orphan_values = b.loc[orphan.to_numpy(), cols].to_numpy(dtype=np.float64)
        if np.any(orphan_values != 0):
            raise ValueError("subtrahend has figures for keys that the minuend does not have")
    out = a.copy()
    for col in cols:
        diff = as_float(a[col], f"minuend.{col}") - np.nan_to_num(
            as_float(merged[col], f"subtrahend.{col}")
        )
        scale = np.maximum(np.abs(as_float(a[col], col)), 1.0)
        if np.any(diff < -1e-9 * scale):
            raise ValueError(
                f"subtracting makes {col} negative: the subtrahend is not part of the minuend"
            )
        diff = np.where(diff < 0, 0.0, diff)
        out[col] = np.rint(diff).astype(a[col].dtype) if a[col].dtype.kind in "iu" else diff
    return out


def complement(
    total: pd.DataFrame,
    parts: pd.DataFrame,
    *,
    columns: str | Sequence[str],
    group: str = "group",
) -> pd.DataFrame:
    """For every group in ``parts``, ``total`` minus that group ("the rest of the organisation").

    Parameters
    ----------
    total : DataFrame
        One additive frame without the ``group`` column, e.g. the root's counts with columns
        ``question, value, count``. Its key columns are all columns except ``columns``.
    parts : DataFrame
        The same keys plus ``group``, e.g. each unit's rolled-up counts.
    columns : str or sequence of str
        The additive columns.
    group : str, default "group"

    Returns
    -------
    DataFrame
        ``group`` plus the columns of ``total``: one block per group holding every key of
        ``total`` (size = number of groups × rows of ``total``).

    Examples
    --------
    >>> root = pd.DataFrame({"question": "q1", "value": [1, 2], "count": [5, 7]})
    >>> units = pd.DataFrame({"group": ["a", "b"], "question": "q1", "value": [1, 2],
    ...                       "count": [2, 3]})
    >>> rest = complement(root, units, columns="count")
    >>> rest["count"].tolist()
    [3, 7, 5, 4]
    """
    cols = as_column_list(columns)
    t = require_columns(total, cols, "total")
    if group in t.columns:
        raise ValueError(f"total must not have the column {group!r}: it is one frame for all")
    keys = [c for c in t.columns if c not in cols]
    p = require_columns(parts, [group, *keys, *cols], "parts")
    if t.duplicated(keys).any():
        raise ValueError(f"total repeats some key {keys}; aggregate it first")
    if p.duplicated([group, *keys]).any():
        raise ValueError(f"parts repeats some key {[group, *keys]}; aggregate it first")
    groups = pd.DataFrame({group: pd.unique(p[group])})
    minuend = groups.merge(t, how="cross")
    return subtract(minuend, p[[group, *keys, *cols]], on=[group, *keys], columns=cols)
