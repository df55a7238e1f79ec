"""Trends over survey rounds: a weighted linear trend per group × measure.

Each round contributes its mean with the sampling variance ``se² = sd² / n``. The trend is the
inverse-variance weighted least-squares line through the round means (a fixed-effect
meta-regression on ``round_order``), so a round answered by 8 people counts for less than one
answered by 80. All series are fitted at once from grouped weighted sums.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis._validation import (
    as_column_list,
    as_float,
    check_alpha,
    check_confidence,
    require_columns,
)

__all__ = ["trend"]

_OUTPUT = [
    "n_rounds", "first_round", "last_round", "slope", "se", "ci_low", "ci_high", "statistic",
    "df", "p_value", "heterogeneity_q", "heterogeneity_p", "direction", "holds_up",
]  # fmt: skip
_RESERVED = ["k", "w", "wx", "wy", "wxx", "wxy", "wyy", "__series"]


def trend(
    frame: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = ("group", "measure"),
    round_order: str = "round_order",
    n: str = "n",
    mean: str = "mean",
    sd: str = "sd",
    alpha: float = 0.05,
    confidence: float = 0.95,
    min_rounds: int = 3,
    dispersion: bool = False,
    min_slope: float = 0.0,
) -> pd.DataFrame:
    """Weighted linear trend of round means, for each series in ``frame``.

    With weights ``w_i = n_i / sd_i²`` the slope is
    ``b = Σ w (x − x̄_w)(y − ȳ_w) / Σ w (x − x̄_w)²`` and, the round variances being known,
    ``SE(b) = 1 / sqrt(Σ w (x − x̄_w)²)`` with a z-test (fixed-effect meta-regression; e.g.
    Borenstein et al. 2009, *Introduction to Meta-Analysis*, ch. 20). With ``dispersion=True``
    the SE is multiplied by ``sqrt(max(1, Q / (k − 2)))``, ``Q`` being the weighted residual sum
    of squares, and tested with t on ``k − 2`` degrees of freedom (Thompson & Sharp 1999): more
    cautious when the round means scatter around the line more than sampling error explains.
    ``heterogeneity_q``/``heterogeneity_p`` report that scatter (χ² on k − 2 df) either way.

    Parameters
    ----------
    frame : DataFrame
        One row per series × round with ``round_order`` (numeric; the slope is per unit of it,
        i.e. per round when rounds are numbered 1, 2, 3, …), ``n``, ``mean`` and ``sd``.
    by : str, sequence of str or None, default ("group", "measure")
        Columns identifying a series; None or ``[]`` for a single series.
    round_order, n, mean, sd : str
        Column names.
    alpha : float, default 0.05
        Level for ``holds_up``.
    confidence : float, default 0.95
        Level of the CI of the slope.
    min_rounds : int, default 3
        Fewest usable rounds for a trend to hold up.
    dispersion : bool, default False
        Allow for extra between-round variation (see above).
    min_slope : float, default 0.0
        ``direction`` is "flat" when ``|slope| <= min_slope``.

    Returns
    -------
    DataFrame
        ``by`` columns plus ``n_rounds, first_round, last_round, slope, se, ci_low, ci_high,
        statistic, df, p_value, heterogeneity_q, heterogeneity_p, direction, holds_up``.
        Rounds with n < 2 or a missing or zero SD carry no usable variance and are left out
        (``n_rounds`` counts the rounds used). ``statistic`` is z (``df`` NaN) or, with
        ``dispersion``, t. ``direction`` ("up", "down", "flat"; missing without a slope)
        describes the estimate only; ``holds_up`` is ``p_value < alpha`` with at least
        ``min_rounds`` rounds, and is what should decide whether a trend is reported as real.

    Examples
    --------
    >>> rounds = pd.DataFrame({"round_order": [1, 2, 3], "n": [25, 25, 25],
    ...                        "mean": [60.0, 65.0, 70.0], "sd": [10.0, 10.0, 10.0]})
    >>> r = trend(rounds, by=None).iloc[0]
    >>> float(r["slope"]), round(float(r["se"]), 4), r["direction"], bool(r["holds_up"])
    (5.0, 1.4142, 'up', True)
    """
    check_alpha(alpha)
    check_confidence(confidence)
    if min_rounds < 2:
        raise ValueError("min_rounds must be at least 2")
    keys = [] if by is None else as_column_list(by)
    clash = set(keys) & {*_RESERVED, *_OUTPUT}
    if clash:
        raise ValueError(f"series keys must not use the names {sorted(clash)}")
    df = require_columns(frame, [*keys, round_order, n, mean, sd], "frame")
    if df.duplicated([*keys, round_order]).any():
        raise ValueError(f"frame has more than one row per series and {round_order}")
    x = as_float(df[round_order], f"frame.{round_order}")
    y = as_float(df[mean], f"frame.{mean}")
    count = as_float(df[n], f"frame.{n}")
    spread = as_float(df[sd], f"frame.{sd}")
    if np.isnan(x).any() or np.isinf(x).any():
        raise ValueError(f"frame.{round_order} must be given on every row")
    with np.errstate(invalid="ignore"):
        if (count < 0).any() or (spread < 0).any():
            raise ValueError(f"frame.{n} and frame.{sd} must not be negative")
        usable = (count >= 2) & (spread > 0) & np.isfinite(spread) & np.isfinite(y)
    key_frame = df[keys].reset_index(drop=True) if keys else pd.DataFrame(index=range(len(df)))
    series = key_frame.assign(__series=0) if not keys else key_frame
    group_keys = keys or ["__series"]
    # Shift x per series so that the weighted sums below do not cancel catastrophically.
    x_shift = (
        x
        - pd.Series(x)
        .groupby([series[c] for c in group_keys], sort=False)
        .transform("min")
        .to_numpy()
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(usable, count / spread**2, 0.0)
    xs, ys = np.where(usable, x_shift, 0.0), np.where(usable, y, 0.0)
    sums = series[group_keys].assign(
        k=usable.astype(np.int64),
        w=w,
        wx=w * xs,
        wy=w * ys,
        wxx=w * xs * xs,
        wxy=w * xs * ys,
        wyy=w * ys * ys,
        first_round=np.where(usable, x, np.nan),
        last_round=np.where(usable, x, np.nan),
    )
    agg = sums.groupby(group_keys, sort=True, dropna=False).agg(
        k=("k", "sum"),
        w=("w", "sum"),
        wx=("wx", "sum"),
        wy=("wy", "sum"),
        wxx=("wxx", "sum"),
        wxy=("wxy", "sum"),
        wyy=("wyy", "sum"),
        first_round=("first_round", "min"),
        last_round=("last_round", "max"),
    )
    fit = _fit(agg, confidence, dispersion)
    fit["holds_up"] = (fit["p_value"] < alpha).to_numpy() & (agg["k"].to_numpy() >= min_rounds)
    slope = fit["slope"].to_numpy()
    direction = np.where(slope > min_slope, "up", np.where(slope < -min_slope, "down", "flat"))
    fit["direction"] = pd.Series(direction, index=fit.index).where(~np.isnan(slope))
    out = pd.concat([agg[["k", "first_round", "last_round"]], fit], axis=1)
    out = out.rename(columns={"k": "n_rounds"}).reset_index()
    return out[[*keys, *_OUTPUT]]


def _fit(agg: pd.DataFrame, confidence: float, dispersion: bool) -> pd.DataFrame:
    """Slope, SE, test and heterogeneity from the grouped weighted sums."""
    k = agg["k"].to_numpy().astype(np.float64)
    w, wx, wy = agg["w"].to_numpy(), agg["wx"].to_numpy(), agg["wy"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        cxx = agg["wxx"].to_numpy() - wx * wx / w
        cxy = agg["wxy"].to_numpy() - wx * wy / w
        cyy = agg["wyy"].to_numpy() - wy * wy / w
        fitted = (k >= 2) & (cxx > 1e-12 * np.maximum(agg["wxx"].to_numpy(), 1e-300))
        slope = np.where(fitted, cxy / cxx, np.nan)
        se = np.where(fitted, 1.0 / np.sqrt(cxx), np.nan)
        residual_df = k - 2
        q = np.where(fitted & (residual_df > 0), np.clip(cyy - slope * cxy, 0.0, None), np.nan)
        q_p = stats.chi2.sf(q, residual_df)
        if dispersion:
            phi = np.maximum(1.0, q / residual_df)
            se = np.where(residual_df > 0, se * np.sqrt(phi), np.nan)
            df = np.where(residual_df > 0, residual_df, np.nan)
            statistic = slope / se
            p = 2.0 * stats.t.sf(np.abs(statistic), df)
            crit = stats.t.ppf(0.5 + confidence / 2.0, df)
        else:
            df = np.full(len(k), np.nan)
            statistic = slope / se
            p = 2.0 * stats.norm.sf(np.abs(statistic))
            crit = np.full(len(k), stats.norm.ppf(0.5 + confidence / 2.0))
    return pd.DataFrame(
        {
            "slope": slope,
            "se": se,
            "ci_low": slope - crit * se,
            "ci_high": slope + crit * se,
            "statistic": statistic,
            "df": df,
            "p_value": p,
            "heterogeneity_q": q,
            "heterogeneity_p": np.where(np.isnan(q), np.nan, q_p),
        },
        index=agg.index,
    )
