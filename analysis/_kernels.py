"""Vectorised test kernels on numpy arrays (private; see :mod:`analysis.compare`).

Each kernel takes one array element per comparison and returns a dict of result arrays, NaN
where the data cannot support a result. They use ``scipy.special``'s distribution functions
directly (``stdtr``, ``stdtrit``, ``ndtr``): the same numbers as ``scipy.stats.t``/``norm``
without per-call argument checking, which matters for a million comparisons.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

Arrays = dict[str, np.ndarray]


def welch(
    n1: np.ndarray,
    m1: np.ndarray,
    s1: np.ndarray,
    n2: np.ndarray,
    m2: np.ndarray,
    s2: np.ndarray,
    confidence: float,
    *,
    test: bool = True,
) -> Arrays:
    """Welch's t-test, its CI and Hedges' g; NaN where either n < 2 or both SDs are 0.

    With ``test=False`` only the difference and its CI are computed (the p-value is NaN).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        v1, v2 = s1**2 / n1, s2**2 / n2
        ok = (n1 >= 2) & (n2 >= 2) & np.isfinite(v1) & np.isfinite(v2) & ((v1 + v2) > 0)
        se = np.sqrt(v1 + v2)
        df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
        diff = m1 - m2
        t = diff / se
        # scipy.special's t functions directly: the same numbers as scipy.stats.t.sf/ppf
        # without the per-call argument checking, which matters for a million rows.
        p = 2.0 * special.stdtr(df, -np.abs(t)) if test else np.full(len(t), np.nan)
        half = special.stdtrit(df, 0.5 + confidence / 2.0) * se
        pooled = np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / (n1 + n2 - 2))
        # Hedges' small-sample correction J = 1 - 3 / (4 (n1 + n2 - 2) - 1).
        g = diff / pooled * (1.0 - 3.0 / (4.0 * (n1 + n2) - 9.0))
    nan = np.nan
    return {
        "difference": np.where((n1 > 0) & (n2 > 0), diff, nan),
        "ci_low": np.where(ok, diff - half, nan),
        "ci_high": np.where(ok, diff + half, nan),
        "statistic": np.where(ok, t, nan),
        "df": np.where(ok, df, nan),
        "p_value": np.where(ok, p, nan),
        "effect_size": np.where(ok & (pooled > 0), g, nan),
    }


def mann_whitney(a: np.ndarray, b: np.ndarray, use_continuity: bool) -> Arrays:
    """Mann–Whitney U of rows of two count matrices (columns = ordered categories)."""
    n1, n2 = a.sum(axis=1), b.sum(axis=1)
    n = n1 + n2
    both = a + b
    midrank = np.cumsum(both, axis=1) - both + (both + 1.0) / 2.0
    u1 = (a * midrank).sum(axis=1) - n1 * (n1 + 1.0) / 2.0
    mu = n1 * n2 / 2.0
    tie_term = (both**3 - both).sum(axis=1)
    ok = (n1 > 0) & (n2 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = np.sqrt(n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0))))
        distance = np.abs(u1 - mu) - (0.5 if use_continuity else 0.0)
        z = np.sign(u1 - mu) * np.clip(distance, 0.0, None) / sigma
        r = 2.0 * u1 / (n1 * n2) - 1.0
    # All answers in one category: no variation, nothing to test (z = 0, p = 1).
    z = np.where(ok & ~(sigma > 0), 0.0, z)
    p = np.minimum(1.0, 2.0 * special.ndtr(-np.abs(z)))
    nan = np.nan
    return {
        "statistic": np.where(ok, u1, nan),
        "z": np.where(ok, z, nan),
        "p_value": np.where(ok, p, nan),
        "effect_size": np.where(ok, r, nan),
    }


def wilson(x: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval (no continuity correction) for x successes out of n."""
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = (x + z * z / 2.0) / (n + z * z)
        half = z * np.sqrt(x * (n - x) / n + z * z / 4.0) / (n + z * z)
    return centre - half, centre + half


def proportions(
    x1: np.ndarray, n1: np.ndarray, x2: np.ndarray, n2: np.ndarray, confidence: float
) -> Arrays:
    """Pooled two-proportion z-test, Newcombe hybrid score CI and Cohen's h."""
    zc = float(stats.norm.ppf(0.5 + confidence / 2.0))
    ok = (n1 > 0) & (n2 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = x1 / n1, x2 / n2
        diff = p1 - p2
        pooled = (x1 + x2) / (n1 + n2)
        se0 = np.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
        z = np.where(se0 > 0, diff / se0, 0.0)  # se0 = 0: all 0 % or all 100 %, no difference
        l1, u1 = wilson(x1, n1, zc)
        l2, u2 = wilson(x2, n2, zc)
        low = diff - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
        high = diff + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
        h = 2.0 * np.arcsin(np.sqrt(p1)) - 2.0 * np.arcsin(np.sqrt(p2))
    p = 2.0 * special.ndtr(-np.abs(z))
    nan = np.nan
    return {
        "value_a": np.where(n1 > 0, p1, nan),
        "value_b": np.where(n2 > 0, p2, nan),
        "difference": np.where(ok, diff, nan),
        "ci_low": np.where(ok, low, nan),
        "ci_high": np.where(ok, high, nan),
        "statistic": np.where(ok, z, nan),
        "df": np.full(len(diff), nan),
        "p_value": np.where(ok, p, nan),
        "effect_size": np.where(ok, h, nan),
    }
