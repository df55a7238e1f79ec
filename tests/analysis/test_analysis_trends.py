"""Weighted linear trends over rounds (analysis.trends).

Reference: ``numpy.polyfit(x, y, 1, w=1/se, cov=...)``. numpy documents that the weights are
``1/sigma`` and that ``cov="unscaled"`` gives the covariance for known sigmas (the fixed-effect
meta-regression), while ``cov=True`` scales it by ``chi²/(N − deg − 1)``, i.e. ``Q/(k − 2)`` for a
line, which is the multiplicative-dispersion variant (Thompson & Sharp 1999) whenever Q/(k−2) > 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import trend

ROUNDS = pd.DataFrame(
    {
        "group": "u1",
        "measure": "hme",
        "round_order": [1, 2, 3, 4],
        "n": [20, 35, 28, 40],
        "mean": [61.0, 64.5, 63.0, 69.0],
        "sd": [18.0, 15.0, 20.0, 16.0],
    }
)


def polyfit_reference(frame: pd.DataFrame, cov: bool | str) -> tuple[float, float]:
    x = frame["round_order"].to_numpy(dtype=float)
    y = frame["mean"].to_numpy(dtype=float)
    se = frame["sd"].to_numpy(dtype=float) / np.sqrt(frame["n"].to_numpy(dtype=float))
    coef, covariance = np.polyfit(x, y, 1, w=1 / se, cov=cov)  # type: ignore[call-overload]
    return float(coef[0]), float(np.sqrt(covariance[0, 0]))


def test_slope_and_se_equal_weighted_polyfit_with_known_variances() -> None:
    slope, se = polyfit_reference(ROUNDS, cov="unscaled")
    r = trend(ROUNDS).iloc[0]
    assert r["slope"] == pytest.approx(slope, rel=1e-10)
    assert r["se"] == pytest.approx(se, rel=1e-10)
    assert r["statistic"] == pytest.approx(slope / se)
    assert r["p_value"] == pytest.approx(2 * stats.norm.sf(abs(slope / se)))
    assert (r["ci_low"], r["ci_high"]) == pytest.approx(
        (slope - 1.959964 * se, slope + 1.959964 * se)
    )
    assert np.isnan(r["df"])
    assert r["n_rounds"] == 4
    assert (r["first_round"], r["last_round"]) == (1, 4)


def test_hand_computed_equal_weights() -> None:
    # Three rounds, n = 25, sd = 10 → se² = 100/25 = 4, w = 0.25 each; x = 1, 2, 3; y = 60, 65, 70.
    # Σw(x − x̄)² = 0.25·(1 + 0 + 1) = 0.5; slope = Σw(x − x̄)(y − ȳ)/0.5 = 0.25·(5 + 0 + 5)/0.5 = 5
    # SE = 1/sqrt(0.5) = 1.41421; z = 3.5355; p = 0.000407; the points lie on the line: Q = 0.
    rounds = pd.DataFrame(
        {"round_order": [1, 2, 3], "n": 25, "mean": [60.0, 65.0, 70.0], "sd": 10.0}
    )
    r = trend(rounds, by=None).iloc[0]
    assert r["slope"] == pytest.approx(5.0)
    assert r["se"] == pytest.approx(np.sqrt(2))
    assert r["p_value"] == pytest.approx(2 * stats.norm.sf(5 / np.sqrt(2)))
    assert r["heterogeneity_q"] == pytest.approx(0.0, abs=1e-9)
    assert r["direction"] == "up"
    assert r["holds_up"]


def test_dispersion_variant_matches_scaled_polyfit_covariance() -> None:
    # These round means scatter far more than their sampling error: Q/(k − 2) > 1.
    noisy = ROUNDS.assign(mean=[61.0, 72.0, 58.0, 70.0], n=[200, 300, 250, 400])
    slope, se_scaled = polyfit_reference(noisy, cov=True)
    r = trend(noisy, dispersion=True).iloc[0]
    assert r["heterogeneity_q"] / 2 > 1
    assert r["slope"] == pytest.approx(slope)
    assert r["se"] == pytest.approx(se_scaled, rel=1e-10)
    assert r["df"] == 2
    assert r["p_value"] == pytest.approx(2 * stats.t.sf(abs(slope / se_scaled), 2))
    assert r["heterogeneity_p"] == pytest.approx(stats.chi2.sf(r["heterogeneity_q"], 2))
    # Less scatter than sampling error would suggest: the SE is not shrunk below the known one.
    smooth = ROUNDS.assign(mean=[60.0, 62.0, 64.1, 66.0])
    _, se_known = polyfit_reference(smooth, cov="unscaled")
    assert trend(smooth, dispersion=True)["se"].iloc[0] == pytest.approx(se_known)


def test_many_series_at_once_equal_one_by_one() -> None:
    rng = np.random.default_rng(7)
    frames = []
    for g in range(30):
        for m in ("hme", "osa"):
            frames.append(
                pd.DataFrame(
                    {
                        "group": g,
                        "measure": m,
                        "round_order": [2021, 2022, 2023, 2024],
                        "n": rng.integers(5, 80, 4),
                        "mean": rng.uniform(40, 90, 4),
                        "sd": rng.uniform(5, 25, 4),
                    }
                )
            )
    data = pd.concat(frames, ignore_index=True).sample(frac=1.0, random_state=1)
    out = trend(data).set_index(["group", "measure"])
    assert len(out) == 60
    for (g, m), row in out.sample(5, random_state=2).iterrows():
        series = data[(data["group"] == g) & (data["measure"] == m)]
        slope, se = polyfit_reference(series.sort_values("round_order"), cov="unscaled")
        assert row["slope"] == pytest.approx(slope, rel=1e-8)
        assert row["se"] == pytest.approx(se, rel=1e-8)


def test_two_rounds_never_hold_up_and_direction_down() -> None:
    two = pd.DataFrame(
        {"round_order": [1, 2], "n": [500, 500], "mean": [80.0, 60.0], "sd": [10.0, 10.0]}
    )
    r = trend(two, by=None).iloc[0]
    assert r["p_value"] < 1e-10
    assert r["direction"] == "down"
    assert not r["holds_up"]
    assert np.isnan(r["heterogeneity_q"])


def test_unusable_rounds_are_left_out_and_flat_slopes() -> None:
    rounds = pd.DataFrame(
        {
            "round_order": [1, 2, 3, 4],
            "n": [1, 30, 30, 30],  # round 1: n < 2, no variance
            "mean": [10.0, 70.0, 70.0, 70.0],
            "sd": [np.nan, 12.0, 12.0, 12.0],
        }
    )
    r = trend(rounds, by=None).iloc[0]
    assert r["n_rounds"] == 3
    assert r["first_round"] == 2
    assert r["slope"] == pytest.approx(0.0, abs=1e-12)
    assert trend(rounds, by=None, min_slope=1e-9)["direction"].iloc[0] == "flat"
    tolerant = trend(rounds.assign(mean=[10.0, 70.0, 70.2, 70.4]), by=None, min_slope=0.5)
    assert tolerant["direction"].iloc[0] == "flat"
    single = trend(rounds.iloc[:2], by=None).iloc[0]
    assert np.isnan(single["slope"])
    assert pd.isna(single["direction"])
    assert not single["holds_up"]


def test_trend_validation() -> None:
    with pytest.raises(ValueError, match="more than one row"):
        trend(pd.concat([ROUNDS, ROUNDS]))
    with pytest.raises(ValueError, match="negative"):
        trend(ROUNDS.assign(sd=-1.0))
    with pytest.raises(ValueError, match="missing column"):
        trend(ROUNDS.drop(columns="sd"))
    with pytest.raises(ValueError, match="min_rounds"):
        trend(ROUNDS, min_rounds=1)


def test_series_keys_must_not_shadow_result_columns() -> None:
    with pytest.raises(ValueError, match="must not use the names"):
        trend(ROUNDS.rename(columns={"group": "slope"}), by=["slope", "measure"])
