"""Driver analysis (analysis.drivers).

References: ``scipy.stats.spearmanr`` on the pairwise-complete rows of each item (rho and its
p-value), the Fisher-z interval with the Bonett & Wright (2000, Psychometrika 65:23–28) standard
error ``sqrt((1 + rho²/2)/(n − 3))`` written out below, and
``scipy.stats.false_discovery_control`` for the q-values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from analysis import driver_analysis
from analysis.drivers import masked_ranks


def survey(n: int = 120, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=n)
    frame = pd.DataFrame(
        {
            "strong": np.clip(np.round(3 + 1.2 * latent + rng.normal(0, 0.6, n)), 1, 5),
            "weak": np.clip(np.round(3 + 0.3 * latent + rng.normal(0, 1.0, n)), 1, 5),
            "negative": np.clip(np.round(3 - 0.9 * latent + rng.normal(0, 0.8, n)), 1, 5),
            "noise": rng.integers(1, 6, n).astype(float),
            "hme": np.clip(60 + 15 * latent + rng.normal(0, 8, n), 0, 100),
        }
    )
    # Not answered / don't know, differently per column, so that pairs differ by item.
    for col, share in (("strong", 0.1), ("weak", 0.2), ("negative", 0.05), ("hme", 0.08)):
        frame.loc[rng.random(n) < share, col] = np.nan
    return frame


ITEMS = ["strong", "weak", "negative", "noise"]


def test_rho_and_p_equal_scipy_spearman_on_pairwise_complete_rows() -> None:
    data = survey()
    table = driver_analysis(data, items=ITEMS, outcome="hme", min_n=30).table.set_index("item")
    for item in ITEMS:
        pair = data[[item, "hme"]].dropna()
        ref = stats.spearmanr(pair[item], pair["hme"])
        assert table.loc[item, "n"] == len(pair)
        assert table.loc[item, "rho"] == pytest.approx(ref.statistic, rel=1e-12)
        assert table.loc[item, "p_value"] == pytest.approx(ref.pvalue, rel=1e-9)


def test_confidence_interval_fisher_z_with_bonett_wright_se() -> None:
    data = survey()
    table = driver_analysis(data, items=ITEMS, outcome="hme", min_n=30).table.set_index("item")
    rho, n = table.loc["strong", "rho"], table.loc["strong", "n"]
    # z = atanh(rho); SE = sqrt((1 + rho²/2)/(n − 3)); CI = tanh(z ± 1.959964·SE)
    z, se = np.arctanh(rho), np.sqrt((1 + rho**2 / 2) / (n - 3))
    assert table.loc["strong", "ci_low"] == pytest.approx(np.tanh(z - 1.959964 * se), rel=1e-6)
    assert table.loc["strong", "ci_high"] == pytest.approx(np.tanh(z + 1.959964 * se), rel=1e-6)
    assert table.loc["strong", "ci_low"] < rho < table.loc["strong", "ci_high"]


def test_q_values_and_ranks() -> None:
    data = survey()
    table = driver_analysis(data, items=ITEMS, outcome="hme", min_n=30).table
    np.testing.assert_allclose(
        table["q_value"], stats.false_discovery_control(table["p_value"]), rtol=1e-12
    )
    ranked = table.sort_values("rank")["item"].tolist()
    assert ranked[0] == "strong"
    assert ranked[1] == "negative"  # a strong negative association ranks by |rho|
    assert table.set_index("item").loc["negative", "rho"] < 0
    assert table["rank"].tolist() == (
        table["rho"].abs().rank(ascending=False, method="min").astype(int).tolist()
    )


def test_refuses_too_few_respondents_and_suppresses_thin_items() -> None:
    data = survey(n=40)
    with pytest.raises(ValueError, match="at least 60 respondents"):
        driver_analysis(data, items=ITEMS, outcome="hme", min_n=60)
    thin = data.assign(rare=np.where(np.arange(40) < 10, 3.0, np.nan))
    result = driver_analysis(thin, items=[*ITEMS, "rare"], outcome="hme", min_n=30)
    rare = result.table.set_index("item").loc["rare"]
    assert rare["n"] < 30
    assert pd.isna(rare["rho"])
    assert pd.isna(rare["p_value"])
    assert pd.isna(rare["rank"])
    assert any("1 of 5 items" in c for c in result.caveats)


def test_constant_item_has_no_correlation() -> None:
    data = survey().assign(constant=4.0)
    table = driver_analysis(data, items=["strong", "constant"], outcome="hme", min_n=30).table
    assert np.isnan(table.set_index("item").loc["constant", "rho"])


def test_caveats_are_plain_sentences_covering_the_known_pitfalls() -> None:
    caveats = driver_analysis(survey(), items=ITEMS, outcome="hme", min_n=30).caveats
    text = " ".join(caveats).lower()
    for phrase in ("not causation", "ecological", "answered", "at least 30", "false discoveries"):
        assert phrase in text
    assert all(c.endswith(".") for c in caveats)


def test_input_validation() -> None:
    data = survey()
    with pytest.raises(ValueError, match="at least 4"):
        driver_analysis(data, items=ITEMS, outcome="hme", min_n=3)
    with pytest.raises(ValueError, match="missing column"):
        driver_analysis(data, items=["nope"], outcome="hme", min_n=30)
    with pytest.raises(ValueError, match="outcome"):
        driver_analysis(data, items=["hme"], outcome="hme", min_n=30)
    with pytest.raises(ValueError, match="numeric"):
        driver_analysis(data.assign(strong="x"), items=ITEMS, outcome="hme", min_n=30)
    with pytest.raises(ValueError, match="at least one"):
        driver_analysis(data, items=[], outcome="hme", min_n=30)


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    n=st.integers(0, 60),
    p=st.integers(1, 6),
    scale=st.sampled_from([3, 5, 100]),  # counted (few values) or sorted
)
def test_masked_ranks_are_pandas_average_ranks(data: st.DataObject, n: int, p: int, scale: int):
    """Reference: pandas' DataFrame.rank (average method) of the masked values."""
    values = np.array(
        data.draw(st.lists(st.integers(1, scale), min_size=n * p, max_size=n * p)), dtype=float
    ).reshape(n, p)
    mask = np.array(
        data.draw(st.lists(st.booleans(), min_size=n * p, max_size=n * p)), dtype=bool
    ).reshape(n, p)
    expected = pd.DataFrame(np.where(mask, values, np.nan)).rank(axis=0).to_numpy()
    np.testing.assert_array_equal(masked_ranks(values, mask), expected)
    shared = values[:, 0]
    expected = pd.DataFrame(np.where(mask, shared[:, None], np.nan)).rank(axis=0).to_numpy()
    np.testing.assert_array_equal(masked_ranks(shared, mask), expected)
