"""Comparisons, FDR and the significance mark (analysis.compare).

References:
* Welch: ``scipy.stats.ttest_ind_from_stats(equal_var=False)`` and ``ttest_ind`` with its
  ``confidence_interval()``, plus the arithmetic written out below.
* Mann–Whitney: ``scipy.stats.mannwhitneyu(method="asymptotic")`` on the counts expanded to raw
  answers must give the same U and p.
* Proportions: Newcombe R.G. (1998), "Interval estimation for the difference between
  independent proportions: comparison of eleven methods", Statistics in Medicine 17:873–890,
  Table II, method 10 (hybrid score) for his eight examples; the z-test by hand and through the
  identity z² = Pearson χ² (``scipy.stats.chi2_contingency(correction=False)``).
* Benjamini–Hochberg: ``scipy.stats.false_discovery_control(method="bh")``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from analysis import (
    RESULT_COLUMNS,
    adjust_fdr,
    compare_items,
    compare_means,
    compare_ordinal,
    compare_proportions,
    mann_whitney_counts,
    mark_significant,
    two_proportion_test,
    welch_t_test,
)

# --------------------------------------------------------------------------- Welch


def test_welch_by_hand_and_against_scipy() -> None:
    # a: n 30, mean 70, sd 15; b: n 40, mean 60, sd 20.
    # v_a = 15²/30 = 7.5, v_b = 20²/40 = 10, SE = sqrt(17.5) = 4.18330
    # t = 10 / 4.18330 = 2.39046
    # df = 17.5² / (7.5²/29 + 10²/39) = 306.25 / (1.939655 + 2.564103) = 67.9988
    # pooled SD = sqrt((29·225 + 39·400)/68) = sqrt(325.3676) = 18.03795
    # d = 10 / 18.03795 = 0.554387; J = 1 − 3/(4·70 − 9) = 0.988930; g = 0.548250
    r = welch_t_test(30, 70.0, 15.0, 40, 60.0, 20.0)
    assert r["difference"] == pytest.approx(10.0)
    assert r["statistic"] == pytest.approx(10 / np.sqrt(17.5))
    assert r["df"] == pytest.approx(306.25 / (7.5**2 / 29 + 10**2 / 39))
    assert r["effect_size"] == pytest.approx(10 / np.sqrt(22125 / 68) * (1 - 3 / 271))
    ref = stats.ttest_ind_from_stats(70.0, 15.0, 30, 60.0, 20.0, 40, equal_var=False)
    assert r["statistic"] == pytest.approx(ref.statistic, rel=1e-12)
    assert r["p_value"] == pytest.approx(ref.pvalue, rel=1e-10)
    half = stats.t.ppf(0.975, r["df"]) * np.sqrt(17.5)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((10 - half, 10 + half))
    assert r["test"] == "Welch t-test"
    assert r["effect_size_name"] == "Hedges' g"


@settings(max_examples=40, deadline=None)
@given(
    a=st.lists(st.integers(1, 5), min_size=2, max_size=40),
    b=st.lists(st.integers(1, 5), min_size=2, max_size=40),
)
def test_welch_matches_scipy_on_raw_data(a: list[int], b: list[int]) -> None:
    xa, xb = np.array(a, dtype=float), np.array(b, dtype=float)
    if xa.std() == 0 or xb.std() == 0:
        return  # scipy warns on a constant sample; zero SDs have their own test below
    r = welch_t_test(len(xa), xa.mean(), xa.std(ddof=1), len(xb), xb.mean(), xb.std(ddof=1))
    ref = stats.ttest_ind(xa, xb, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert r["statistic"] == pytest.approx(ref.statistic, rel=1e-9, abs=1e-12)
    assert r["p_value"] == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-12)
    assert r["ci_low"] == pytest.approx(ci.low, rel=1e-9, abs=1e-9)
    assert r["ci_high"] == pytest.approx(ci.high, rel=1e-9, abs=1e-9)


def test_welch_undefined_cases_are_missing_not_errors() -> None:
    a = pd.DataFrame({"n": [1, 5, 5, 0], "mean": [3.0, 4.0, 4.0, np.nan], "sd": [np.nan, 0, 0, 0]})
    b = pd.DataFrame({"n": [9, 5, 9, 9], "mean": [3.0, 3.0, 3.0, 3.0], "sd": [1.0, 0, 1.0, 1.0]})
    out = compare_means(a, b)
    assert np.isnan(out["p_value"].iloc[0])  # n_a < 2
    assert np.isnan(out["p_value"].iloc[1])  # both SDs 0
    assert out["difference"].iloc[1] == 1.0  # the difference itself is still known
    assert out["p_value"].iloc[2] < 0.05  # one SD 0 is fine: df = n_b − 1
    assert out["df"].iloc[2] == pytest.approx(8.0)
    assert np.isnan(out["difference"].iloc[3])  # n_a = 0


def test_compare_means_keeps_index_and_requires_alignment() -> None:
    a = pd.DataFrame({"n": [10, 20], "mean": [1.0, 2.0], "sd": [1.0, 1.0]}, index=[5, 6])
    out = compare_means(a, a.copy())
    assert out.index.tolist() == [5, 6]
    assert list(out.columns) == RESULT_COLUMNS
    assert out["difference"].tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="aligned"):
        compare_means(a, a.reset_index(drop=True))
    with pytest.raises(ValueError, match="negative"):
        compare_means(a, a.assign(sd=[-1.0, 1.0]))
    with pytest.raises(ValueError, match="confidence"):
        compare_means(a, a, confidence=95)


# --------------------------------------------------------------------------- Mann–Whitney


def expand(counts: list[int]) -> np.ndarray:
    return np.repeat(np.arange(1, len(counts) + 1), counts)


@pytest.mark.parametrize("use_continuity", [True, False])
@pytest.mark.parametrize(
    ("ca", "cb"),
    [
        ([0, 1, 2, 4, 3], [2, 3, 3, 2, 0]),
        ([10, 0, 0, 0, 1], [0, 0, 5, 5, 5]),
        ([3, 3, 3, 3], [1, 2, 8, 1]),
        ([0, 0, 0, 0, 7], [0, 0, 0, 1, 6]),
    ],
)
def test_mann_whitney_equals_scipy_on_expanded_counts(
    ca: list[int], cb: list[int], use_continuity: bool
) -> None:
    r = mann_whitney_counts(ca, cb, use_continuity=use_continuity)
    ref = stats.mannwhitneyu(
        expand(ca), expand(cb), method="asymptotic", use_continuity=use_continuity
    )
    assert r["statistic"] == pytest.approx(ref.statistic)
    assert r["p_value"] == pytest.approx(ref.pvalue, rel=1e-10)
    assert r["test"].startswith("Mann-Whitney U")


@settings(max_examples=60, deadline=None)
@given(
    ca=st.lists(st.integers(0, 8), min_size=5, max_size=5),
    cb=st.lists(st.integers(0, 8), min_size=5, max_size=5),
)
def test_mann_whitney_property_against_scipy(ca: list[int], cb: list[int]) -> None:
    xa, xb = expand(ca), expand(cb)
    if len(xa) == 0 or len(xb) == 0 or len(np.unique(np.r_[xa, xb])) < 2:
        return  # empty side or no variation: scipy has nothing to compare either
    r = mann_whitney_counts(ca, cb)
    ref = stats.mannwhitneyu(xa, xb, method="asymptotic")
    assert r["statistic"] == pytest.approx(ref.statistic)
    assert r["p_value"] == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-15)
    # Rank-biserial r = 2·U1/(n_a n_b) − 1 equals P(a > b) − P(a < b) over all pairs.
    greater = (xa[:, None] > xb[None, :]).mean()
    less = (xa[:, None] < xb[None, :]).mean()
    assert r["effect_size"] == pytest.approx(greater - less)
    # The reported difference is the difference in means with Welch's CI.
    assert r["difference"] == pytest.approx(xa.mean() - xb.mean())


def test_rank_biserial_by_hand() -> None:
    # a = {1, 2}, b = {2, 3}: pairs (1,2) <, (1,3) <, (2,2) tie, (2,3) <.
    # U1 = 0 + 0.5 = 0.5; r = 2·0.5/(2·2) − 1 = −0.75 = P(a > b) − P(a < b) = 0 − 3/4.
    r = mann_whitney_counts([1, 1, 0], [0, 1, 1])
    assert r["statistic"] == 0.5
    assert r["effect_size"] == pytest.approx(-0.75)
    assert r["z"] < 0
    assert r["effect_size_name"] == "rank-biserial correlation"


def test_mann_whitney_without_variation_or_data() -> None:
    same = mann_whitney_counts([0, 0, 0, 4, 0], [0, 0, 0, 9, 0])
    assert same["p_value"] == 1.0
    assert same["z"] == 0.0
    empty = mann_whitney_counts([0, 0, 0, 0, 0], [0, 0, 1, 9, 0])
    assert np.isnan(empty["p_value"])
    with pytest.raises(ValueError, match="one count per scale value"):
        mann_whitney_counts([1, 2], [1, 2, 3])


def test_compare_ordinal_frame_matches_scalar_rows() -> None:
    a = pd.DataFrame({"1": [0, 10], "2": [1, 0], "3": [2, 0], "4": [4, 0], "5": [3, 1]})
    b = pd.DataFrame({"1": [2, 0], "2": [3, 0], "3": [3, 5], "4": [2, 5], "5": [0, 5]})
    out = compare_ordinal(a, b)
    for i in range(2):
        single = mann_whitney_counts(a.iloc[i].to_numpy(), b.iloc[i].to_numpy())
        assert out["statistic"].iloc[i] == single["statistic"]
        assert out["p_value"].iloc[i] == pytest.approx(single["p_value"])
    with pytest.raises(ValueError, match="missing"):
        compare_ordinal(a.astype(float).assign(**{"1": [np.nan, 1.0]}), b)


# --------------------------------------------------------------------------- proportions

# Newcombe (1998), Table II, method 10: (x1, n1, x2, n2, lower, upper).
NEWCOMBE_TABLE_II = [
    (56, 70, 48, 80, 0.0524, 0.3339),
    (9, 10, 3, 10, 0.1705, 0.8090),
    (6, 7, 2, 7, 0.0582, 0.8062),
    (5, 56, 0, 29, -0.0381, 0.1926),
    (0, 10, 0, 20, -0.1611, 0.2775),
    (0, 10, 0, 10, -0.2775, 0.2775),
    (10, 10, 0, 20, 0.6791, 1.0000),
    (10, 10, 0, 10, 0.6075, 1.0000),
]


@pytest.mark.parametrize(("x1", "n1", "x2", "n2", "low", "high"), NEWCOMBE_TABLE_II)
def test_newcombe_interval_reproduces_published_table(
    x1: int, n1: int, x2: int, n2: int, low: float, high: float
) -> None:
    r = two_proportion_test(x1, n1, x2, n2)
    assert round(r["ci_low"], 4) == pytest.approx(low)
    assert round(r["ci_high"], 4) == pytest.approx(high)


def test_two_proportion_z_test_by_hand() -> None:
    # 56/70 = 0.8 vs 48/80 = 0.6. Pooled p = 104/150 = 0.693333.
    # SE0 = sqrt(0.693333 · 0.306667 · (1/70 + 1/80)) = sqrt(0.0056953) = 0.0754672
    # z = 0.2 / 0.0754672 = 2.65017; p = 2·(1 − Φ(2.65017)) = 0.008046
    # Cohen's h = 2·asin(√0.8) − 2·asin(√0.6) = 2.214297 − 1.772154 = 0.442144
    r = two_proportion_test(56, 70, 48, 80)
    se0 = np.sqrt(104 / 150 * 46 / 150 * (1 / 70 + 1 / 80))
    assert r["statistic"] == pytest.approx(0.2 / se0)
    assert r["p_value"] == pytest.approx(2 * stats.norm.sf(0.2 / se0))
    assert r["effect_size"] == pytest.approx(
        2 * np.arcsin(np.sqrt(0.8)) - 2 * np.arcsin(np.sqrt(0.6))
    )
    # The pooled z-test is the Pearson χ² test without continuity correction: z² = χ².
    chi2, p, _, _ = stats.chi2_contingency([[56, 14], [48, 32]], correction=False)
    assert r["statistic"] ** 2 == pytest.approx(chi2)
    assert r["p_value"] == pytest.approx(p)
    assert r["effect_size_name"] == "Cohen's h"


def test_proportions_at_the_boundary() -> None:
    r = two_proportion_test(0, 10, 0, 12)
    assert r["statistic"] == 0.0
    assert r["p_value"] == 1.0
    assert r["ci_low"] < 0 < r["ci_high"]
    empty = two_proportion_test(0, 0, 3, 12)
    assert np.isnan(empty["p_value"])
    assert np.isnan(empty["difference"])
    with pytest.raises(ValueError, match="must not exceed"):
        two_proportion_test(11, 10, 3, 12)


def test_compare_proportions_frame() -> None:
    a = pd.DataFrame({"pos": [56, 9], "total": [70, 10]})
    b = pd.DataFrame({"pos": [48, 3], "total": [80, 10]})
    out = compare_proportions(a, b, successes="pos", n="total")
    assert out["value_a"].tolist() == [0.8, 0.9]
    assert out["ci_low"].round(4).tolist() == [0.0524, 0.1705]


# --------------------------------------------------------------------------- items in bulk

QUESTIONS = pd.DataFrame({"question": ["q5", "q4"], "scale_points": [5, 4]})


def counts_of(group: str, question: str, tally: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {"group": group, "question": question, "value": range(len(tally)), "count": tally}
    )


def test_compare_items_agrees_with_the_single_comparisons() -> None:
    counts = pd.concat(
        [
            counts_of("A", "q5", [2, 0, 1, 2, 4, 3]),  # first entry: don't know
            counts_of("B", "q5", [0, 2, 3, 3, 2, 0]),
            counts_of("A", "q4", [0, 1, 1, 5, 3]),
            counts_of("B", "q4", [1, 4, 3, 2, 1]),
        ]
    )
    pairs = pd.DataFrame(
        {"group_a": ["A", "A"], "group_b": ["B", "B"], "question": ["q5", "q4"], "kind": "x"}
    )
    out = compare_items(counts, QUESTIONS, pairs)
    assert out["measure"].tolist() == ["mean", "pct_positive", "mean", "pct_positive"]
    assert out["kind"].tolist() == ["x"] * 4
    mw = mann_whitney_counts([0, 1, 2, 4, 3], [2, 3, 3, 2, 0])
    row = out.iloc[0]
    for col in ("statistic", "p_value", "effect_size", "difference", "ci_low", "ci_high"):
        assert row[col] == pytest.approx(mw[col])
    # q5 positive = 4–5: A 7 of 10, B 2 of 10; in per cent / percentage points.
    prop = two_proportion_test(7, 10, 2, 10)
    row = out.iloc[1]
    assert (row["value_a"], row["value_b"]) == pytest.approx((70.0, 20.0))
    assert row["difference"] == pytest.approx(50.0)
    assert row["ci_low"] == pytest.approx(100 * prop["ci_low"])
    assert row["p_value"] == pytest.approx(prop["p_value"])
    # q4 positive = 3–4: A 8 of 10, B 3 of 10.
    assert (out.iloc[3]["value_a"], out.iloc[3]["value_b"]) == pytest.approx((80.0, 30.0))
    assert (out.iloc[2]["n_a"], out.iloc[2]["n_b"]) == (10, 10)


def test_compare_items_with_a_second_counts_frame_and_missing_groups() -> None:
    now = counts_of("unit", "q5", [0, 0, 0, 2, 4, 4])
    before = counts_of("unit", "q5", [0, 1, 3, 4, 2, 0])
    pairs = pd.DataFrame(
        {"group_a": ["unit", "unit"], "group_b": ["unit", "gone"], "question": "q5"}
    )
    out = compare_items(now, QUESTIONS, pairs, counts_b=before, measures=["mean"])
    ref = mann_whitney_counts([0, 0, 2, 4, 4], [1, 3, 4, 2, 0])
    assert out["statistic"].iloc[0] == ref["statistic"]
    assert out["n_b"].iloc[1] == 0
    assert np.isnan(out["p_value"].iloc[1])


def test_compare_items_validates() -> None:
    counts = counts_of("A", "q5", [0, 1, 1, 1, 1, 1])
    with pytest.raises(ValueError, match="measures"):
        compare_items(counts, QUESTIONS, pd.DataFrame(), measures=["median"])
    with pytest.raises(ValueError, match="group_a"):
        compare_items(counts, QUESTIONS, pd.DataFrame({"question": ["q5"]}))
    pairs = pd.DataFrame({"group_a": ["A"], "group_b": ["A"], "question": ["q9"]})
    with pytest.raises(ValueError, match="not in questions"):
        compare_items(counts, QUESTIONS, pairs)
    clash = pd.DataFrame({"group_a": ["A"], "group_b": ["A"], "question": ["q5"], "test": 1})
    with pytest.raises(ValueError, match="result column"):
        compare_items(counts, QUESTIONS, clash)


def test_compare_items_with_integer_ids_and_mismatched_id_types() -> None:
    counts = pd.DataFrame(
        {"group": [1, 1, 2, 2], "question": 10, "value": [4, 5, 2, 4], "count": [5, 5, 6, 4]}
    )
    questions = pd.DataFrame({"question": [10], "scale_points": [5]})
    pairs = pd.DataFrame({"group_a": [1], "group_b": [2], "question": [10]})
    out = compare_items(counts, questions, pairs, measures=["mean"])
    # A: 5 × 4, 5 × 5 (mean 4.5); B: 6 × 2, 4 × 4 (mean 2.8).
    assert out["difference"].iloc[0] == pytest.approx(1.7)
    # Text ids never equal integer ids: an error, not a silent "no counts".
    with pytest.raises(ValueError, match="cannot match"):
        compare_items(counts, questions, pairs.astype({"group_a": "str"}))


# --------------------------------------------------------------------------- FDR and marks


def test_adjust_fdr_matches_scipy() -> None:
    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216])
    np.testing.assert_allclose(adjust_fdr(p), stats.false_discovery_control(p, method="bh"))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=30))
def test_adjust_fdr_property_against_scipy(p: list[float]) -> None:
    arr = np.array(p)
    np.testing.assert_allclose(adjust_fdr(arr), stats.false_discovery_control(arr), rtol=1e-12)


def test_adjust_fdr_leaves_missing_out_and_works_per_family() -> None:
    p = pd.Series([0.01, np.nan, 0.04, 0.03, 0.5], index=list("abcde"))
    q = adjust_fdr(p)
    assert isinstance(q, pd.Series)
    assert q.index.tolist() == list("abcde")
    assert np.isnan(q["b"])
    expected = stats.false_discovery_control([0.01, 0.04, 0.03, 0.5])  # m = 4, not 5
    np.testing.assert_allclose(q.drop("b"), expected)

    family = ["x", "x", "y", "y", "y"]
    q_fam = pd.Series(adjust_fdr(p, by=family))
    np.testing.assert_allclose(q_fam[["a"]], [0.01])  # family x: one valid p-value
    np.testing.assert_allclose(
        q_fam[["c", "d", "e"]], stats.false_discovery_control([0.04, 0.03, 0.5])
    )
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        adjust_fdr([1.2])
    with pytest.raises(ValueError, match="one label"):
        adjust_fdr([0.1, 0.2], by=["x"])


def test_mark_significant_never_marks_hidden_or_small_groups() -> None:
    frame = pd.DataFrame(
        {
            "q_value": [0.01, 0.01, 0.01, 0.2, np.nan, 0.01],
            "n_a": [10, 4, 10, 10, 10, np.nan],
            "n_b": [10, 10, 10, 10, 10, 10],
            "hidden": [False, False, True, False, False, False],
        }
    )
    by_k = mark_significant(frame, k=5)["significant"].tolist()
    assert by_k == [True, False, True, False, False, False]
    by_mask = mark_significant(frame, hidden="hidden")["significant"].tolist()
    assert by_mask == [True, True, False, False, False, True]
    both = mark_significant(frame, hidden=frame["hidden"].to_numpy(), k=5)["significant"]
    assert both.tolist() == [True, False, False, False, False, False]
    unknown = mark_significant(frame, hidden=[None, False, False, False, False, False])
    assert not unknown["significant"].iloc[0]  # a missing hidden flag counts as hidden
    with pytest.raises(ValueError, match="one flag per row"):
        mark_significant(frame, hidden=[True])
    with pytest.raises(ValueError, match="alpha"):
        mark_significant(frame, alpha=5)
