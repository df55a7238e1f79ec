"""Index scoring: item mean (HME/Kolada) and respondent mean (COPSOQ) (analysis.indices).

The scoring rules are those of /work/shared/domain.md: answers are mapped to 0–100 with
(x − 1)/(p − 1)·100 (reversed: (p − x)/(p − 1)·100); HME's index (Kolada KPI U00200–U00203) is
the mean of the item indices; COPSOQ III's scale score is a respondent's mean item score, counted
when at least half of the scale's items are answered, and a group's score is the mean over its
respondents. All reference values below are worked out by hand in the comments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import (
    IndexDefinition,
    definitions_frame,
    item_mean,
    item_score,
    moments,
    moments_to_stats,
    respondent_mean,
    respondent_scores,
    rollup,
    subtract,
    validate_definitions,
)

Q5 = pd.DataFrame({"question": ["q1", "q2", "q3"], "scale_points": [5, 5, 5]})

# Three respondents, three 5-point items; R3 answered "vet ej" (0) to q2.
#        q1  q2  q3
#   R1    5   4   3
#   R2    4   4   2
#   R3    3   0   1
ANSWERS = pd.DataFrame(
    {
        "respondent": ["R1"] * 3 + ["R2"] * 3 + ["R3"] * 3,
        "group": "unit",
        "question": ["q1", "q2", "q3"] * 3,
        "value": [5, 4, 3, 4, 4, 2, 3, 0, 1],
    }
)


def to_counts(answers: pd.DataFrame) -> pd.DataFrame:
    """What the app's GROUP BY group, question, value produces."""
    return answers.groupby(["group", "question", "value"]).size().rename("count").reset_index()


def test_item_score_mapping_for_five_and_four_points() -> None:
    assert item_score([1, 2, 3, 4, 5], 5).tolist() == [0.0, 25.0, 50.0, 75.0, 100.0]
    np.testing.assert_allclose(item_score([1, 2, 3, 4], 4), [0, 100 / 3, 200 / 3, 100])
    assert item_score([1, 2, 3, 4, 5], 5, reverse=True).tolist() == [100.0, 75.0, 50.0, 25.0, 0.0]
    with pytest.raises(ValueError, match=r"within 1\.\.scale_points"):
        item_score([0], 5)  # don't know is not scored
    with pytest.raises(ValueError, match=r"within 1\.\.scale_points"):
        item_score([5], 4)


def test_item_mean_reproduces_kolada_rule_by_hand() -> None:
    # Item scores (x − 1)·25:
    #   q1: 100, 75, 50 → item index (100 + 75 + 50)/3 = 75
    #   q2: 75, 75 (R3 don't know, left out) → 75
    #   q3: 50, 25, 0 → 25
    # HME-style index = mean of the item indices = (75 + 75 + 25)/3 = 58.333…
    defs = pd.DataFrame({"index": "hme", "question": ["q1", "q2", "q3"]})
    result = item_mean(to_counts(ANSWERS), Q5, defs, group="group")
    items = result.items.set_index("question")
    assert items["mean"].tolist() == [75.0, 75.0, 25.0]
    assert items.loc["q2", "n"] == 2
    g = result.groups.iloc[0]
    assert g["mean"] == pytest.approx(175 / 3)
    assert (g["n_items"], g["n_items_defined"], g["n_min"], g["n_max"]) == (3, 3, 2, 3)


def test_item_mean_with_a_reverse_scored_item() -> None:
    # q3 reversed, (5 − x)·25: 3 → 50, 2 → 75, 1 → 100; item index 75.
    # Index = (75 + 75 + 75)/3 = 75.
    defs = pd.DataFrame(
        {"index": "i", "question": ["q1", "q2", "q3"], "reverse": [False, False, True]}
    )
    result = item_mean(to_counts(ANSWERS), Q5, defs)
    assert result.items["mean"].tolist() == [75.0, 75.0, 75.0]
    assert result.groups["mean"].iloc[0] == pytest.approx(75.0)


def test_item_mean_matches_enkoping_2017_published_hme() -> None:
    # Kolada, Enköping 2017 (domain.md): Motivation 82, Ledarskap 79, Styrning 84, HME 82.
    # With 25 answers per item, mean answers 4.28, 4.16 and 4.36 give item indices
    # (4.28 − 1)·25 = 82, (4.16 − 1)·25 = 79, (4.36 − 1)·25 = 84 for the three sub-indices'
    # items. The total HME is the mean of the nine item indices:
    # (3·82 + 3·79 + 3·84)/9 = 81.67, published rounded as 82.
    def item(question: str, total: int) -> pd.DataFrame:
        # 25 answers of 4 and 5 summing to ``total``: (total − 100) fives.
        fives = total - 100
        return pd.DataFrame(
            {"group": "Enköping", "question": question, "value": [4, 5],
             "count": [25 - fives, fives]}
        )  # fmt: skip

    sums = {"motivation": 107, "ledarskap": 104, "styrning": 109}
    counts = pd.concat([item(f"{sub}{i}", total) for sub, total in sums.items() for i in (1, 2, 3)])
    questions = pd.DataFrame({"question": counts["question"].unique(), "scale_points": 5})
    defs = pd.concat(
        [pd.DataFrame({"index": sub, "question": [f"{sub}{i}" for i in (1, 2, 3)]}) for sub in sums]
        + [pd.DataFrame({"index": "hme", "question": counts["question"].unique()})]
    )
    g = item_mean(counts, questions, defs).groups.set_index("index")["mean"]
    assert g["motivation"] == pytest.approx(82.0)
    assert g["ledarskap"] == pytest.approx(79.0)
    assert g["styrning"] == pytest.approx(84.0)
    assert g["hme"] == pytest.approx(245 / 3)
    assert round(g["hme"]) == 82


def test_item_mean_reports_items_without_answers() -> None:
    counts = to_counts(ANSWERS[ANSWERS["question"] != "q3"])
    counts = pd.concat(
        [counts, pd.DataFrame({"group": ["unit"], "question": ["q3"], "value": [0], "count": [2]})]
    )
    defs = pd.DataFrame({"index": "i", "question": ["q1", "q2", "q3"]})
    g = item_mean(counts, Q5, defs).groups.iloc[0]
    assert g["n_items"] == 2  # q3 has only don't know
    assert g["mean"] == pytest.approx(75.0)
    # Drop q3 entirely: the defined item has no row at all, n_min becomes 0.
    g2 = item_mean(to_counts(ANSWERS[ANSWERS["question"] != "q3"]), Q5, defs).groups.iloc[0]
    assert (g2["n_items"], g2["n_min"]) == (2, 0)


def test_respondent_mean_by_hand_copsoq_rule() -> None:
    # Respondent scores (mean of answered item scores):
    #   R1: (100 + 75 + 50)/3 = 75
    #   R2: (75 + 75 + 25)/3 = 58.333…
    #   R3: answered 2 of 3 (≥ half): (50 + 0)/2 = 25
    # Group: mean = (75 + 58.333 + 25)/3 = 52.777…; it differs from the item mean (58.333)
    # because R3's missing q2 no longer drops out of one item only.
    defs = pd.DataFrame({"index": "i", "question": ["q1", "q2", "q3"]})
    result = respondent_mean(ANSWERS, Q5, defs)
    scores = result.respondents.set_index("respondent")
    assert scores["score"].tolist() == pytest.approx([75.0, 175 / 3, 25.0])
    assert scores["n_answered"].tolist() == [3, 3, 2]
    assert scores["counted"].all()
    g = result.groups.iloc[0]
    assert g["n"] == 3
    assert g["mean"] == pytest.approx((75 + 175 / 3 + 25) / 3)
    assert g["sd"] == pytest.approx(np.std([75, 175 / 3, 25], ddof=1))


def test_respondent_mean_minimum_share_mixed_scales_and_reverse() -> None:
    # COPSOQ-like scale of four items: two 4-point (a, b), two 5-point (c, d); d reversed.
    questions = pd.DataFrame({"question": ["a", "b", "c", "d"], "scale_points": [4, 4, 5, 5]})
    defs = pd.DataFrame(
        {"index": "s", "question": ["a", "b", "c", "d"], "reverse": [False, False, False, True]}
    )
    answers = pd.DataFrame(
        {
            "respondent": [1, 1, 1, 1, 2, 2, 3, 3, 3],
            "group": "g",
            "question": ["a", "b", "c", "d", "a", "c", "a", "b", "c"],
            "value": [4, 2, 3, 1, 3, 5, 1, 0, 0],
        }
    )
    # R1: a 4 → 100, b 2 → 33.33, c 3 → 50, d 1 reversed → (5 − 1)·25 = 100;
    #     mean = (100 + 33.333 + 50 + 100)/4 = 70.833…
    # R2: answered a, c (2 of 4 = exactly half, counted): a 3 → 66.67, c 5 → 100; mean 83.333…
    # R3: a 1 → 0; b and c don't know → 1 of 4 answered < half: not counted.
    result = respondent_mean(answers, questions, defs)
    scores = result.respondents.set_index("respondent")
    assert scores.loc[1, "score"] == pytest.approx((100 + 100 / 3 + 50 + 100) / 4)
    assert scores.loc[2, "score"] == pytest.approx((200 / 3 + 100) / 2)
    assert not scores.loc[3, "counted"]
    assert np.isnan(scores.loc[3, "score"])
    g = result.groups.iloc[0]
    assert (g["n"], g["n_not_counted"]) == (2, 1)
    # With a stricter share of 0.75, R2 (2 of 4) drops out too.
    strict = respondent_mean(answers, questions, defs, min_answered_share=0.75).groups.iloc[0]
    assert (strict["n"], strict["n_not_counted"]) == (1, 2)
    # The share can come from the definitions, per index.
    per_index = respondent_mean(answers, questions, defs.assign(min_answered_share=0.25))
    assert per_index.groups["n"].iloc[0] == 3


def test_respondent_scores_roll_up_and_subtract_as_moments() -> None:
    # The app aggregates respondent scores to moments per unit, rolls them up the tree and
    # subtracts to get "the rest of the organisation". Check against pooling the raw scores.
    answers = pd.DataFrame(
        {
            "respondent": [1, 2, 3, 4],
            "group": ["a", "a", "b", "root"],
            "question": "q1",
            "value": [5, 3, 2, 4],
        }
    )
    defs = pd.DataFrame({"index": "i", "question": ["q1"]})
    scores = respondent_scores(answers, Q5, defs)  # 100, 50, 25, 75
    m = moments(scores, value="score", by=["group", "index"])
    tree = pd.DataFrame({"unit": ["root", "a", "b"], "parent": [None, "root", "root"]})
    rolled = rollup(m, tree, columns=["n", "sum", "sumsq"], key="group")
    root = rolled[rolled["group"] == "root"].drop(columns="group")
    unit_a = rolled[rolled["group"] == "a"].drop(columns="group")
    rest = moments_to_stats(subtract(root, unit_a, on="index", columns=["n", "sum", "sumsq"]))
    # Rest of the organisation outside a: respondents 3 and 4, scores 25 and 75.
    assert rest["n"].iloc[0] == 2
    assert rest["mean"].iloc[0] == pytest.approx(50.0)
    assert rest["sd"].iloc[0] == pytest.approx(np.std([25, 75], ddof=1))


def test_responses_are_validated() -> None:
    defs = pd.DataFrame({"index": "i", "question": ["q1"]})
    dup = pd.DataFrame({"respondent": [1, 1], "group": "g", "question": "q1", "value": [1, 2]})
    with pytest.raises(ValueError, match="more than one answer"):
        respondent_scores(dup, Q5, defs)
    bad = pd.DataFrame({"respondent": [1], "group": "g", "question": "q1", "value": [6]})
    with pytest.raises(ValueError, match=r"1\.\.scale_points"):
        respondent_scores(bad, Q5, defs)
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        respondent_scores(bad, Q5, defs, min_answered_share=0.0)


@pytest.mark.parametrize(
    ("defs", "message"),
    [
        (pd.DataFrame({"index": [], "question": []}), "empty"),
        (pd.DataFrame({"index": ["i"], "question": ["q9"]}), "not in questions"),
        (pd.DataFrame({"index": ["i", "j"], "question": ["q1", None]}), "without items"),
        (pd.DataFrame({"index": ["i", "i"], "question": ["q1", "q1"]}), "twice"),
        (pd.DataFrame({"index": ["i"], "question": ["q1"], "reverse": [None]}), "reverse"),
        (pd.DataFrame({"index": ["i"], "question": ["q1"], "rule": ["median"]}), "rule"),
        (
            pd.DataFrame({"index": ["i"], "question": ["q1"], "min_answered_share": [1.5]}),
            r"\(0, 1\]",
        ),
        (
            pd.DataFrame(
                {"index": ["i", "i"], "question": ["q1", "q2"], "min_answered_share": [0.5, 1]}
            ),
            "same on every row",
        ),
    ],
)
def test_invalid_definitions_raise(defs: pd.DataFrame, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_definitions(defs, Q5)


def test_index_definition_objects() -> None:
    frame = definitions_frame(
        [
            IndexDefinition("hme", ["q1", "q2"]),
            IndexDefinition("copsoq", ["q3"], reverse={"q3"}, rule="respondent_mean"),
        ]
    )
    assert frame.to_dict("list") == {
        "index": ["hme", "hme", "copsoq"],
        "question": ["q1", "q2", "q3"],
        "reverse": [False, False, True],
        "rule": ["item_mean", "item_mean", "respondent_mean"],
        "min_answered_share": [0.5, 0.5, 0.5],
    }
    assert validate_definitions(frame, Q5)["scale_points"].tolist() == [5, 5, 5]
    with pytest.raises(ValueError, match="no items"):
        IndexDefinition("x", [])
    with pytest.raises(ValueError, match="reverse items"):
        IndexDefinition("x", ["q1"], reverse={"q2"})
    with pytest.raises(ValueError, match="rule"):
        IndexDefinition("x", ["q1"], rule="sum")
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        IndexDefinition("x", ["q1"], min_answered_share=0)
    with pytest.raises(ValueError, match="no index definitions"):
        definitions_frame([])


SCALES = {"a": 4, "b": 5, "c": 5, "d": 7}
INDEX_ITEMS = {"x": ["a", "b", "c"], "y": ["c", "d"], "z": ["b"]}  # c and b in two indices


@st.composite
def scored_answers(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """Answers of a few respondents in a few groups (each answers a subset of the questions,
    don't know included), definitions with overlapping indices and reversed items."""
    rows = []
    for person in range(draw(st.integers(0, 12))):
        groups = draw(st.lists(st.sampled_from(["g1", "g2", "g3"]), min_size=1, unique=True))
        for group in groups:
            for question in draw(st.lists(st.sampled_from(sorted(SCALES)), unique=True)):
                value = draw(st.integers(0, SCALES[question]))
                rows.append((f"r{person}", group, question, value))
    answers = pd.DataFrame(rows, columns=["respondent", "group", "question", "value"])
    defs = pd.DataFrame(
        [
            (index, question, draw(st.booleans()))
            for index, items in INDEX_ITEMS.items()
            for question in items
        ],
        columns=["index", "question", "reverse"],
    )
    shares = {index: draw(st.sampled_from([0.25, 0.5, 1.0])) for index in INDEX_ITEMS}
    return answers, defs.assign(min_answered_share=defs["index"].map(shares)), shares


@given(scored_answers())
@settings(max_examples=150, deadline=None)
def test_respondent_scores_match_a_plain_computation(
    case: tuple[pd.DataFrame, pd.DataFrame, dict[str, float]],
) -> None:
    # Reference: each respondent × group × index by hand, in plain Python, straight from the
    # rule: the mean of the answered items' 0–100 scores, counted when at least the share of
    # the index's items is answered.
    answers, defs, shares = case
    questions = pd.DataFrame({"question": list(SCALES), "scale_points": list(SCALES.values())})
    reverse = {(i, q): r for i, q, r in defs[["index", "question", "reverse"]].itertuples(False)}
    expected = {}
    for (person, group), own in answers.groupby(["respondent", "group"]):
        given_ = dict(zip(own["question"], own["value"], strict=True))
        for index, items in INDEX_ITEMS.items():
            mine = [q for q in items if q in given_]
            if not mine:
                continue
            scores = []
            for q in mine:
                x, p = given_[q], SCALES[q]
                if x > 0:
                    scores.append(((p - x) if reverse[index, q] else (x - 1)) / (p - 1) * 100)
            counted = bool(scores) and len(scores) >= shares[index] * len(items)
            mean = sum(scores) / len(scores) if scores else None
            expected[person, group, index] = (len(scores), counted, mean)
    result = respondent_scores(answers, questions, defs)
    assert list(result.columns) == [
        "respondent",
        "group",
        "index",
        "n_answered",
        "n_items",
        "counted",
        "score",
    ]
    keys = list(zip(result["respondent"], result["group"], result["index"], strict=True))
    assert keys == sorted(expected)  # one row per respondent × group × index, sorted
    for row in result.itertuples(index=False):
        n, counted, score = expected[row.respondent, row.group, row.index]
        assert (row.n_answered, row.n_items, row.counted) == (
            n,
            len(INDEX_ITEMS[row.index]),
            counted,
        )
        if counted:
            assert row.score == pytest.approx(score, abs=1e-9)
        else:
            assert np.isnan(row.score)
