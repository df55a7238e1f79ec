"""Item statistics, distributions, moments and subtraction (analysis.items).

Reference numbers are computed by hand in each test, or by numpy on the counts expanded back to
raw answers (``np.repeat``), which is the definition the count-based formulas must agree with.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import (
    complement,
    distribution,
    item_stats,
    moments,
    moments_from_counts,
    moments_to_stats,
    subtract,
)

QUESTIONS = pd.DataFrame({"question": ["q5", "q4"], "scale_points": [5, 4]})


def counts_frame(group: str, question: str, tally: dict[int, int]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "group": group,
            "question": question,
            "value": list(tally.keys()),
            "count": list(tally.values()),
        }
    )


def test_item_stats_hand_computed_five_point() -> None:
    # Answers 2, 4, 4, 5 plus one "vet ej" (value 0).
    # n = 4 (don't know left out); mean = 15 / 4 = 3.75
    # squared deviations: 1.75² + 0.25² + 0.25² + 1.25² = 3.0625 + 0.0625 + 0.0625 + 1.5625 = 4.75
    # sd = sqrt(4.75 / 3) = 1.258305739...
    # median of 2, 4, 4, 5 = (4 + 4) / 2 = 4
    # % positive (4–5) = 3/4 = 75 %; % negative (1–2) = 1/4 = 25 %; don't know 1/5 = 20 %.
    counts = counts_frame("A", "q5", {0: 1, 2: 1, 4: 2, 5: 1})
    row = item_stats(counts, QUESTIONS).iloc[0]
    assert row["n"] == 4
    assert row["n_dont_know"] == 1
    assert row["mean"] == pytest.approx(3.75)
    assert row["sd"] == pytest.approx(np.sqrt(4.75 / 3))
    assert row["median"] == 4.0
    assert row["pct_positive"] == pytest.approx(75.0)
    assert row["pct_negative"] == pytest.approx(25.0)
    assert row["pct_dont_know"] == pytest.approx(20.0)
    assert row["scale_points"] == 5


def test_item_stats_four_point_scale_positive_is_three_and_four() -> None:
    # Values 1:1, 2:2, 3:3, 4:4 → positive (3–4) = 7/10, negative (1–2) = 3/10: no neutral middle.
    counts = counts_frame("A", "q4", {1: 1, 2: 2, 3: 3, 4: 4})
    row = item_stats(counts, QUESTIONS).iloc[0]
    assert row["pct_positive"] == pytest.approx(70.0)
    assert row["pct_negative"] == pytest.approx(30.0)
    assert row["pct_positive"] + row["pct_negative"] == pytest.approx(100.0)


def test_item_stats_five_point_middle_value_is_neither() -> None:
    counts = counts_frame("A", "q5", {3: 4, 5: 1})
    row = item_stats(counts, QUESTIONS).iloc[0]
    assert row["pct_positive"] == pytest.approx(20.0)
    assert row["pct_negative"] == pytest.approx(0.0)


def test_median_even_n_between_categories_matches_numpy() -> None:
    # Answers 1, 1, 2, 3: numpy.median gives (1 + 2) / 2 = 1.5.
    counts = counts_frame("A", "q5", {1: 2, 2: 1, 3: 1})
    assert item_stats(counts, QUESTIONS)["median"].iloc[0] == 1.5
    assert np.median([1, 1, 2, 3]) == 1.5


def test_only_dont_know_gives_n_zero_and_missing_statistics() -> None:
    counts = counts_frame("A", "q5", {0: 3})
    row = item_stats(counts, QUESTIONS).iloc[0]
    assert row["n"] == 0
    assert np.isnan(row["mean"])
    assert np.isnan(row["sd"])
    assert np.isnan(row["median"])
    assert np.isnan(row["pct_positive"])
    assert row["pct_dont_know"] == 100.0


def test_single_answer_has_mean_but_no_sd() -> None:
    row = item_stats(counts_frame("A", "q5", {4: 1}), QUESTIONS).iloc[0]
    assert row["mean"] == 4.0
    assert np.isnan(row["sd"])


def test_rows_repeating_a_key_are_added() -> None:
    counts = pd.concat([counts_frame("A", "q5", {4: 2}), counts_frame("A", "q5", {4: 3, 2: 5})])
    row = item_stats(counts, QUESTIONS).iloc[0]
    assert row["n"] == 10
    assert row["mean"] == pytest.approx((5 * 4 + 5 * 2) / 10)


def test_several_groups_and_questions_sorted_and_keyed() -> None:
    counts = pd.concat(
        [
            counts_frame("B", "q5", {5: 2}),
            counts_frame("A", "q4", {1: 1}),
            counts_frame("A", "q5", {3: 1}),
        ]
    )
    out = item_stats(counts, QUESTIONS)
    assert list(zip(out["group"], out["question"], strict=True)) == [
        ("A", "q4"),
        ("A", "q5"),
        ("B", "q5"),
    ]
    assert out["mean"].tolist() == [1.0, 3.0, 5.0]


def test_custom_group_column_name_and_integer_ids() -> None:
    counts = pd.DataFrame({"unit": [7, 7], "question": [1, 1], "value": [2, 4], "count": [1, 1]})
    questions = pd.DataFrame({"question": [1], "scale_points": [5]})
    out = item_stats(counts, questions, group="unit")
    assert out.columns[0] == "unit"
    assert out["unit"].tolist() == [7]
    assert out["mean"].tolist() == [3.0]


@settings(max_examples=60, deadline=None)
@given(
    tally=st.lists(st.integers(min_value=0, max_value=6), min_size=6, max_size=6),
    points=st.sampled_from([4, 5]),
)
def test_item_stats_agree_with_numpy_on_raw_answers(tally: list[int], points: int) -> None:
    # Reference: expand counts to the raw answers and use numpy's mean, std(ddof=1), median.
    tally = tally[: points + 1]
    counts = counts_frame("A", f"q{points}", dict(enumerate(tally)))
    row = item_stats(counts, QUESTIONS).iloc[0]
    raw = np.repeat(np.arange(1, points + 1), tally[1:])
    assert row["n"] == len(raw)
    if len(raw) == 0:
        assert np.isnan(row["mean"])
        return
    assert row["mean"] == pytest.approx(raw.mean())
    assert row["median"] == pytest.approx(np.median(raw))
    if len(raw) > 1:
        assert row["sd"] == pytest.approx(raw.std(ddof=1), abs=1e-12)
    midpoint = (points + 1) / 2
    assert row["pct_positive"] == pytest.approx(100 * np.mean(raw > midpoint))
    assert row["pct_negative"] == pytest.approx(100 * np.mean(raw < midpoint))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"count": [-1, 2]}, "negative"),
        ({"count": [1.5, 2]}, "whole"),
        ({"value": [6, 2]}, "above"),
        ({"value": [-1, 2]}, "negatives"),
        ({"question": ["q5", "q9"]}, "not in questions"),
        ({"group": ["A", None]}, "missing"),
    ],
)
def test_bad_counts_raise_value_error(change: dict[str, list[object]], message: str) -> None:
    counts = pd.DataFrame({"group": ["A", "A"], "question": "q5", "value": [1, 2], "count": [1, 2]})
    bad = counts.assign(**change)
    with pytest.raises(ValueError, match=message):
        item_stats(bad, QUESTIONS)


def test_missing_column_is_named() -> None:
    with pytest.raises(ValueError, match=r"missing column\(s\) \['count'\]"):
        item_stats(pd.DataFrame({"group": [], "question": [], "value": []}), QUESTIONS)


def test_questions_frame_is_validated() -> None:
    counts = counts_frame("A", "q5", {1: 1})
    with pytest.raises(ValueError, match="more than once"):
        item_stats(counts, pd.concat([QUESTIONS, QUESTIONS]))
    with pytest.raises(ValueError, match="at least 2"):
        item_stats(counts, pd.DataFrame({"question": ["q5"], "scale_points": [1]}))


def test_distribution_fills_unchosen_values_with_zero() -> None:
    counts = pd.concat(
        [counts_frame("A", "q4", {0: 3, 1: 1, 4: 3}), counts_frame("A", "q5", {5: 2})]
    )
    d = distribution(counts, QUESTIONS)
    four = d[d["question"] == "q4"]
    assert four["value"].tolist() == [1, 2, 3, 4]
    assert four["count"].tolist() == [1, 0, 0, 3]  # the 3 don't knows are left out
    assert four["share"].tolist() == [0.25, 0.0, 0.0, 0.75]
    five = d[d["question"] == "q5"]
    assert five["value"].tolist() == [1, 2, 3, 4, 5]
    assert five["share"].sum() == pytest.approx(1.0)


def test_distribution_all_dont_know_has_missing_shares() -> None:
    d = distribution(counts_frame("A", "q4", {0: 2}), QUESTIONS)
    assert d["count"].tolist() == [0, 0, 0, 0]
    assert d["share"].isna().all()


def test_moments_from_counts_reproduce_item_stats() -> None:
    counts = pd.concat(
        [counts_frame("A", "q5", {0: 1, 1: 3, 2: 1, 5: 4}), counts_frame("B", "q4", {2: 2, 3: 5})]
    )
    m = moments_to_stats(moments_from_counts(counts, QUESTIONS))
    s = item_stats(counts, QUESTIONS)
    np.testing.assert_allclose(m["mean"], s["mean"])
    np.testing.assert_allclose(m["sd"], s["sd"])
    # Group A q5 by hand: n = 8, sum = 3·1 + 1·2 + 4·5 = 25, sumsq = 3·1 + 1·4 + 4·25 = 107.
    assert m[["n", "sum", "sumsq"]].iloc[0].tolist() == [8.0, 25.0, 107.0]


def test_moments_of_values_skip_missing_and_match_numpy() -> None:
    scores = pd.DataFrame(
        {"unit": ["a", "a", "a", "b", "b"], "score": [50.0, 75.0, np.nan, 100.0, 0.0]}
    )
    m = moments_to_stats(moments(scores, value="score", by="unit"))
    assert m["n"].tolist() == [2.0, 2.0]
    np.testing.assert_allclose(m["mean"], [62.5, 50.0])
    np.testing.assert_allclose(m["sd"], [np.std([50, 75], ddof=1), np.std([100, 0], ddof=1)])


def test_moments_reject_infinite_values() -> None:
    with pytest.raises(ValueError, match="finite"):
        moments(pd.DataFrame({"g": [1], "x": [np.inf]}), value="x", by="g")


def test_moments_to_stats_rejects_inconsistent_moments() -> None:
    # n = 2, sum = 10 → sum²/n = 50 > sumsq = 20: no real data have these moments.
    bad = pd.DataFrame({"n": [2.0], "sum": [10.0], "sumsq": [20.0]})
    with pytest.raises(ValueError, match="inconsistent"):
        moments_to_stats(bad)
    with pytest.raises(ValueError, match="negative"):
        moments_to_stats(pd.DataFrame({"n": [-1.0], "sum": [0.0], "sumsq": [0.0]}))


def test_subtract_counts_gives_the_rest() -> None:
    root = pd.DataFrame({"question": "q5", "value": [1, 2, 3], "count": [5, 7, 2]})
    unit = pd.DataFrame({"question": "q5", "value": [2, 3], "count": [3, 2]})
    rest = subtract(root, unit, on=["question", "value"], columns="count")
    assert rest["count"].tolist() == [5, 4, 0]
    assert rest["count"].dtype == root["count"].dtype


def test_subtract_moments_equals_moments_of_the_remaining_answers() -> None:
    # Organisation: answers 1, 2, 4, 5, 5; the unit holds 4 and 5. The rest is 1, 2, 5:
    # mean = 8/3; squared deviations (5/3)² + (2/3)² + (7/3)² = (25 + 4 + 49)/9 = 26/3,
    # sd = sqrt((26/3) / 2) = sqrt(13/3).
    whole = moments(pd.DataFrame({"k": 1, "x": [1.0, 2.0, 4.0, 5.0, 5.0]}), value="x", by="k")
    unit = moments(pd.DataFrame({"k": 1, "x": [4.0, 5.0]}), value="x", by="k")
    rest = moments_to_stats(subtract(whole, unit, on="k", columns=["n", "sum", "sumsq"]))
    assert rest["n"].iloc[0] == 3
    assert rest["mean"].iloc[0] == pytest.approx(8 / 3)
    assert rest["sd"].iloc[0] == pytest.approx(np.sqrt(13 / 3))


def test_subtract_refuses_to_go_negative_or_invent_keys() -> None:
    root = pd.DataFrame({"value": [1, 2], "count": [1, 1]})
    with pytest.raises(ValueError, match="negative"):
        subtract(root, pd.DataFrame({"value": [1], "count": [2]}), on="value", columns="count")
    with pytest.raises(ValueError, match="does not have"):
        subtract(root, pd.DataFrame({"value": [3], "count": [1]}), on="value", columns="count")
    with pytest.raises(ValueError, match="repeats"):
        subtract(root, pd.concat([root, root]), on="value", columns="count")
    # A zero row for an unknown key is harmless.
    out = subtract(root, pd.DataFrame({"value": [3], "count": [0]}), on="value", columns="count")
    assert out["count"].tolist() == [1, 1]


def test_complement_subtracts_each_part_from_the_total() -> None:
    total = pd.DataFrame({"question": "q5", "value": [1, 2], "count": [5, 7]})
    parts = pd.DataFrame(
        {"group": ["a", "b", "b"], "question": "q5", "value": [1, 1, 2], "count": [2, 1, 3]}
    )
    rest = complement(total, parts, columns="count")
    # a: (5 - 2, 7 - 0); b: (5 - 1, 7 - 3)
    assert rest.to_dict("list") == {
        "group": ["a", "a", "b", "b"],
        "question": ["q5"] * 4,
        "value": [1, 2, 1, 2],
        "count": [3, 7, 4, 4],
    }


def test_complement_validates_its_frames() -> None:
    total = pd.DataFrame({"value": [1], "count": [5]})
    with pytest.raises(ValueError, match="must not have the column"):
        complement(total.assign(group="x"), total.assign(group="a"), columns="count")
    with pytest.raises(ValueError, match="negative"):
        complement(
            total, pd.DataFrame({"group": ["a"], "value": [1], "count": [6]}), columns="count"
        )
