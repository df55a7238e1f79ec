"""Multiple comparisons: Benjamini–Hochberg q-values and the honest significance mark.

A page or report shows many comparisons at once; :func:`adjust_fdr` turns their p-values into
q-values that control the false discovery rate across them, and :func:`mark_significant`
decides which comparisons get a mark, never one where either side is hidden or too small.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
import pandas as pd

from analysis._validation import as_float, check_alpha, require_columns

__all__ = ["adjust_fdr", "mark_significant"]

FamilyLabels: TypeAlias = pd.Series | Sequence[object] | np.ndarray | None


def adjust_fdr(
    p_values: pd.Series | Sequence[float] | np.ndarray,
    *,
    by: FamilyLabels = None,
) -> pd.Series | np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values), optionally within families.

    Use it across the comparisons shown together (one report, one table). Missing p-values
    stay missing and do not count towards the number of tests ``m``. The result equals
    ``scipy.stats.false_discovery_control(p, method="bh")`` on the non-missing values of each
    family.

    Parameters
    ----------
    p_values : Series or array-like
        p-values in [0, 1] or NaN.
    by : array-like, optional
        A family label per p-value (e.g. report or comparison kind); each family is adjusted
        on its own. Default: one family.

    Returns
    -------
    Series or ndarray
        q-values, a Series with the input's index when given a Series.

    Examples
    --------
    >>> adjust_fdr([0.01, 0.04, np.nan, 0.03]).round(3).tolist()
    [0.03, 0.04, nan, 0.04]
    """
    p = as_float(p_values, "p_values")
    with np.errstate(invalid="ignore"):
        if ((p < 0) | (p > 1)).any():
            raise ValueError("p-values must lie in [0, 1]")
    if by is None:
        family = np.zeros(len(p), dtype=np.int64)
    else:
        labels = np.asarray(by, dtype=object).ravel()
        if len(labels) != len(p):
            raise ValueError("by must have one label per p-value")
        family, _ = pd.factorize(pd.Series(labels), use_na_sentinel=False)
    q = np.full(len(p), np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    if len(valid):
        fam, pv = family[valid], p[valid]
        order = np.lexsort((pv, fam))
        fam_sorted, p_sorted = fam[order], pv[order]
        starts = np.r_[0, np.flatnonzero(np.diff(fam_sorted)) + 1]
        sizes = np.diff(np.r_[starts, len(order)])
        m = np.repeat(sizes, sizes)
        rank = np.arange(len(order)) - np.repeat(starts, sizes) + 1
        raw = p_sorted * m / rank
        # Step-up: q_(i) = min over j >= i of p_(j) m / j, within each family.
        stepped = pd.Series(raw[::-1]).groupby(fam_sorted[::-1]).cummin().to_numpy()[::-1]
        q[valid[order]] = np.minimum(stepped, 1.0)
    if isinstance(p_values, pd.Series):
        return pd.Series(q, index=p_values.index, name=p_values.name)
    return q


def mark_significant(
    frame: pd.DataFrame,
    *,
    q: str = "q_value",
    alpha: float = 0.05,
    hidden: str | Sequence[bool] | np.ndarray | pd.Series | None = None,
    k: int | None = None,
    n: Sequence[str] = ("n_a", "n_b"),
) -> pd.DataFrame:
    """Add a boolean ``significant`` column: ``q < alpha`` and both sides shown.

    A comparison is never marked when its q-value is missing, when it is flagged ``hidden``
    (a missing flag counts as hidden), or when ``k`` is given and either ``n`` column is below
    ``k`` or missing.

    Parameters
    ----------
    frame : DataFrame
        Comparison results with a q-value column (see :func:`adjust_fdr`).
    q : str, default "q_value"
    alpha : float, default 0.05
    hidden : str or boolean array-like, optional
        A column name, or a mask aligned with ``frame``: True where either side is hidden.
    k : int, optional
        Minimum group size; needs the ``n`` columns.
    n : pair of str, default ("n_a", "n_b")
        The group-size columns checked against ``k``.

    Returns
    -------
    DataFrame
        A copy of ``frame`` with ``significant``.

    Examples
    --------
    >>> f = pd.DataFrame({"q_value": [0.01, 0.01, np.nan], "n_a": [12, 4, 30], "n_b": 50})
    >>> mark_significant(f, k=5)["significant"].tolist()
    [True, False, False]
    """
    check_alpha(alpha)
    df = require_columns(frame, [q], "frame")
    qv = as_float(df[q], f"frame.{q}")
    with np.errstate(invalid="ignore"):
        significant = ~np.isnan(qv) & (qv < alpha)
    if hidden is not None:
        mask = df[hidden] if isinstance(hidden, str) else pd.Series(np.asarray(hidden).ravel())
        if len(mask) != len(df):
            raise ValueError("hidden must have one flag per row of frame")
        try:
            flags = mask.astype("boolean")
        except (TypeError, ValueError) as exc:
            raise ValueError("hidden must hold booleans (missing counts as hidden)") from exc
        significant &= ~flags.fillna(True).to_numpy(dtype=bool)
    if k is not None:
        cols = list(n)
        require_columns(df, cols, "frame")
        for col in cols:
            size = as_float(df[col], f"frame.{col}")
            with np.errstate(invalid="ignore"):
                significant &= ~np.isnan(size) & (size >= k)
    return df.assign(significant=significant)
