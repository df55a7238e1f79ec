"""Driver analysis: which items go together with an outcome (HME, intention to stay, …).

For every item, Spearman's rank correlation with the outcome over the respondents who answered
both (pairwise complete), its p-value, a confidence interval, the Benjamini–Hochberg q-value
across the items, and a rank by strength. All items are computed at once on rank matrices.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from analysis._validation import (
    as_float,
    check_confidence,
    require_columns,
)
from analysis.multiplicity import adjust_fdr

__all__ = ["DriverResult", "driver_analysis"]


class DriverResult(NamedTuple):
    """Result of :func:`driver_analysis`: the table and the caveats to print beside it."""

    table: pd.DataFrame
    caveats: list[str]


def driver_analysis(
    frame: pd.DataFrame,
    *,
    items: Sequence[str],
    outcome: str,
    min_n: int,
    confidence: float = 0.95,
) -> DriverResult:
    """Spearman's rho of each item with the outcome, with CI, p, q and rank.

    Parameters
    ----------
    frame : DataFrame
        Respondent level, wide: one row per respondent, one numeric column per item and the
        outcome column; NaN where a respondent did not answer or answered don't know.
    items : sequence of str
        The item columns.
    outcome : str
        The outcome column (e.g. the respondent's HME score).
    min_n : int
        Fewest respondents to analyse (the app passes ``max(k, 30)``); at least 4.
    confidence : float, default 0.95

    Returns
    -------
    DriverResult
        ``table`` with one row per item: ``item, n, rho, ci_low, ci_high, p_value, q_value,
        rank``. ``rho`` is Spearman's rho over the respondents who answered both the item and
        the outcome (``n``). ``p_value`` is two-sided from ``t = rho·sqrt((n − 2)/(1 − rho²))``
        on n − 2 df, as :func:`scipy.stats.spearmanr`. The CI uses Fisher's z with the
        Bonett & Wright (2000) standard error for Spearman's rho,
        ``sqrt((1 + rho²/2) / (n − 3))``, which is wider than the Pearson ``1/sqrt(n − 3)``.
        ``q_value`` is Benjamini–Hochberg across the items; ``rank`` 1 is the strongest
        association by ``|rho|`` (ties share the best rank). Items answered by fewer than
        ``min_n`` respondents together with the outcome, or without variation, get NaN and no
        rank. ``caveats`` are plain-English sentences to show with the table.

    Raises
    ------
    ValueError
        If fewer than ``min_n`` respondents have an outcome, columns are missing or not
        numeric, or ``min_n`` < 4.

    Examples
    --------
    >>> df = pd.DataFrame({"q1": [1, 2, 3, 4, 5, 2, 4], "q2": [5, 4, 3, 2, 2, 4, 1],
    ...                    "hme": [10.0, 30.0, 45.0, 70.0, 90.0, 20.0, 80.0]})
    >>> res = driver_analysis(df, items=["q1", "q2"], outcome="hme", min_n=5)
    >>> res.table[["item", "rank"]].to_dict("list")
    {'item': ['q1', 'q2'], 'rank': [1, 2]}
    >>> res.table["rho"].round(3).tolist()
    [0.982, -0.927]
    """
    check_confidence(confidence)
    item_list = list(items)
    if not item_list:
        raise ValueError("items must name at least one column")
    if outcome in item_list:
        raise ValueError("the outcome must not also be one of the items")
    if len(set(item_list)) != len(item_list):
        raise ValueError("items lists some column twice")
    if min_n < 4:
        raise ValueError("min_n must be at least 4 (the confidence interval needs n > 3)")
    df = require_columns(frame, [*item_list, outcome], "frame")
    y = as_float(df[outcome], f"frame.{outcome}")
    x = np.column_stack([as_float(df[c], f"frame.{c}") for c in item_list])
    if np.isinf(x).any() or np.isinf(y).any():
        raise ValueError("items and outcome must be finite (NaN for not answered)")
    n_outcome = int((~np.isnan(y)).sum())
    if n_outcome < min_n:
        raise ValueError(
            f"driver analysis needs at least {min_n} respondents with an outcome, got {n_outcome}"
        )

    both = ~np.isnan(x) & ~np.isnan(y)[:, None]
    rank_x = masked_ranks(x, both)
    rank_y = masked_ranks(y, both)
    n = both.sum(axis=0).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        dx = rank_x - np.nanmean(rank_x, axis=0)
        dy = rank_y - np.nanmean(rank_y, axis=0)
        rho = np.nansum(dx * dy, axis=0) / np.sqrt(
            np.nansum(dx * dx, axis=0) * np.nansum(dy * dy, axis=0)
        )
    rho = np.clip(rho, -1.0, 1.0)
    enough = (n >= min_n) & np.isfinite(rho)
    rho = np.where(enough, rho, np.nan)
    p, low, high = _inference(rho, n, confidence)
    q = np.asarray(adjust_fdr(p), dtype=np.float64)
    rank = pd.Series(np.abs(rho)).rank(ascending=False, method="min").astype("Int64")
    table = pd.DataFrame(
        {
            "item": pd.Series(item_list, dtype="str"),
            "n": n.astype(np.int64),
            "rho": rho,
            "ci_low": low,
            "ci_high": high,
            "p_value": p,
            "q_value": q,
            "rank": rank,
        }
    )
    return DriverResult(table=table, caveats=_caveats(item_list, n, enough, n_outcome, min_n))


FEW_VALUES = 32  # up to this many distinct item values, ranks are counted, not sorted


def masked_ranks(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Average ranks (tied values share the mean of their ranks) down each column of ``mask``
    over the rows it marks, NaN elsewhere: ``DataFrame.rank(axis=0)`` of the masked values.

    ``values`` is (n, p), or (n,) for one column shared by every column of ``mask``. Values on
    a short scale (Likert answers) are ranked by counting each value, others by one sort per
    column (one in all for a shared column).
    """
    mask = np.asarray(mask, dtype=bool)
    if values.ndim == 1:
        return _ranks_by_sorting(values, mask)
    distinct = np.unique(values[mask])
    if len(distinct) > FEW_VALUES:
        columns = [_ranks_by_sorting(values[:, j], mask[:, [j]]) for j in range(mask.shape[1])]
        return np.hstack(columns) if columns else np.full(mask.shape, np.nan)
    ranks = np.full(mask.shape, np.nan)
    below = np.zeros(mask.shape[1])
    for value in distinct:
        hit = mask & (values == value)
        count = hit.sum(axis=0)
        ranks = np.where(hit, below + (count + 1) / 2.0, ranks)
        below += count
    return ranks


def _ranks_by_sorting(column: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``masked_ranks`` of one column of values for each column of ``mask``."""
    order = np.argsort(column, kind="stable")
    ordered = column[order]
    new = np.ones(len(ordered), dtype=bool)
    new[1:] = ordered[1:] != ordered[:-1]  # NaN != NaN: each its own (never masked) tie
    tie = np.cumsum(new) - 1
    marked = mask[order]
    if not len(ordered):
        return np.full(mask.shape, np.nan)
    count = np.add.reduceat(marked.astype(np.int64), np.flatnonzero(new), axis=0)
    mean_rank = np.cumsum(count, axis=0) - count + (count + 1) / 2.0
    ranks = np.empty(mask.shape)
    ranks[order] = np.where(marked, mean_rank[tie], np.nan)
    return ranks


def _inference(
    rho: np.ndarray, n: np.ndarray, confidence: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """p-value (t on n − 2 df) and Fisher-z CI with the Bonett–Wright SE."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = rho * np.sqrt((n - 2.0) / ((1.0 - rho) * (1.0 + rho)))
        p = 2.0 * stats.t.sf(np.abs(t), n - 2.0)
        z = np.arctanh(rho)
        se = np.sqrt((1.0 + rho**2 / 2.0) / (n - 3.0))
        crit = stats.norm.ppf(0.5 + confidence / 2.0)
        low, high = np.tanh(z - crit * se), np.tanh(z + crit * se)
    missing = np.isnan(rho)
    return (
        np.where(missing, np.nan, p),
        np.where(missing, np.nan, low),
        np.where(missing, np.nan, high),
    )


def _caveats(
    items: list[str], n: np.ndarray, enough: np.ndarray, n_outcome: int, min_n: int
) -> list[str]:
    tested = int(enough.sum())
    caveats = [
        "Correlation is not causation: an item that goes together with the outcome need not "
        "drive it. Both may follow from something else, such as workload or a change of "
        "manager, and the influence may run the other way.",
        "The correlations are between individual respondents across the whole selection. They "
        "need not hold within each unit, and differences between units need not hold for "
        "individuals (the ecological fallacy).",
        f"Only people who answered are included ({n_outcome} with an outcome; the number per "
        f"item varies from {int(n.min())} to {int(n.max())}). If those who did not answer or "
        "answered 'don't know' see things differently, the results are biased.",
        f"Only groups of at least {min_n} respondents are analysed; "
        f"{len(items) - tested} of {len(items)} items had too few answers or no variation "
        "and were left out.",
        f"{tested} items were tested at once, so some correlations look strong by chance; "
        "the q-value (Benjamini–Hochberg) controls the share of false discoveries and should "
        "be read instead of the p-value.",
        "Spearman's rho measures how consistently two answers rise together. When nearly "
        "everyone gives the same answer (for example 4 or 5), an item can matter and still "
        "show a weak correlation.",
    ]
    return caveats
