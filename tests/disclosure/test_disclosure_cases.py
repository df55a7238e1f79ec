"""Hand-made suppression cases: each relation an attacker would use, worked out in the comments.

Every case checks three things: the engine's pattern (which groups it hides, and why), that the
exact audit (rank tests + MILP over all atoms) finds nothing in it, and that the naive
primary-only pattern *is* unsafe, with the derivation the exact audit reports.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.disclosure import (
    audit,
    build_structure,
    exact_audit,
    protect,
    protection_intervals,
    suppress,
)
from tests.disclosure.strategies import Case, frame, respondents, tree, unit_case


def primary_only(case: Case) -> np.ndarray:
    n = case.n[: case.structure.n_publishable]
    return n >= case.k


def assert_safe(case: Case, out: pd.DataFrame) -> None:
    exact = exact_audit(case.structure, case.counts, out, case.k)
    fast = audit(case.structure, case.counts, out, case.k, method="fast")
    assert exact.safe, exact.findings
    assert fast.safe, fast.findings
    assert fast.min_n == exact.min_n


def test_parent_with_one_hidden_child_hides_a_second_child() -> None:
    # R = A + B + C with A = 3 < 5: R − B − C = 3 would give A away.
    case = unit_case({"R": None, "A": "R", "B": "R", "C": "R"}, {"A": 3, "B": 6, "C": 7})
    out = suppress(case.structure, case.counts, case.k)
    rules = dict(zip(out["group"], out["rule"], strict=True))
    assert case.published(out)["u:R"]
    assert case.published(out)["u:C"]
    assert rules["u:A"] == "primary"
    assert rules["u:B"] == "secondary"  # the smallest sibling that helps (6 < 7 < 16)
    assert_safe(case, out)
    naive = exact_audit(case.structure, case.counts, primary_only(case), case.k)
    assert naive.findings.loc[0, ["n", "expression"]].tolist() == [3, "+u:R -u:B -u:C"]


def test_two_hidden_siblings_below_k_need_a_third() -> None:
    # A = 2 and B = 2 are both hidden, but R − C − D = 4 < 5 is their union.
    case = unit_case(
        {"R": None, "A": "R", "B": "R", "C": "R", "D": "R"}, {"A": 2, "B": 2, "C": 10, "D": 12}
    )
    out = suppress(case.structure, case.counts, case.k)
    pub = case.published(out)
    assert not pub["u:A"]
    assert not pub["u:B"]
    assert not pub["u:C"]
    assert pub["u:R"]
    assert pub["u:D"]
    assert_safe(case, out)
    naive = exact_audit(case.structure, case.counts, primary_only(case), case.k)
    assert naive.min_n == 4


def test_parent_own_respondents_below_k_hide_a_child() -> None:
    # R has 2 respondents of its own; with A and B published, R − A − B = 2.
    case = unit_case({"R": None, "A": "R", "B": "R"}, {"R": 2, "A": 10, "B": 12})
    out = suppress(case.structure, case.counts, case.k)
    rules = dict(zip(out["group"], out["rule"], strict=True))
    assert rules["own:R"] == "remainder"
    assert rules["u:A"] == "secondary"
    assert case.published(out)["u:B"]
    assert_safe(case, out)
    naive = audit(case.structure, case.counts, primary_only(case), case.k)
    assert naive.findings.loc[0, ["relation", "n", "expression"]].tolist() == [
        "block",
        2,
        "+u:R -u:A -u:B",
    ]


def test_no_answer_remainder_below_k_hides_a_category() -> None:
    # One unit: 10 women, 8 men, 2 without an answer. Total − women − men = 2.
    s = build_structure(tree({"U": None}), {"gender": ["w", "m"]})
    rows = respondents("U", 10, gender=["w"]) + respondents("U", 8, gender=["m"])
    rows += respondents("U", 2, gender=[None])
    case = Case(s, frame(rows, ["gender"]), 5)
    out = suppress(s, case.counts, 5)
    pub = case.published(out)
    assert pub["u:U"]
    assert pub["u:U|gender=w"]
    assert not pub["u:U|gender=m"]
    assert dict(zip(out["group"], out["rule"], strict=True))["rest:U|gender"] == "remainder"
    assert_safe(case, out)
    naive = exact_audit(s, case.counts, primary_only(case), 5)
    assert naive.findings.loc[0, ["relation", "n", "cells"]].tolist() == [
        "group",
        2,
        "rest:U|gender",
    ]


def test_category_hidden_in_child_is_protected_in_the_parent_column() -> None:
    # R|w = A|w + B|w (R has nobody of its own). A|w = 3 is hidden, so B|w must go too,
    # otherwise R|w − B|w = 3. And A − A|m = A|w + A's no-answers = 3 hides A|m as well.
    s = build_structure(tree({"R": None, "A": "R", "B": "R"}), {"gender": ["w", "m"]})
    rows = respondents("A", 3, gender=["w"]) + respondents("A", 7, gender=["m"])
    rows += respondents("B", 6, gender=["w"]) + respondents("B", 6, gender=["m"])
    case = Case(s, frame(rows, ["gender"]), 5)
    out = suppress(s, case.counts, 5)
    rules = dict(zip(out["group"], out["rule"], strict=True))
    assert rules["u:A|gender=w"] == "primary"
    assert rules["u:B|gender=w"] == "secondary"
    assert rules["u:A|gender=m"] == "secondary"
    assert case.published(out)["u:R|gender=w"]
    assert_safe(case, out)
    naive = audit(s, case.counts, primary_only(case), 5)
    assert naive.findings[["relation", "n", "cells"]].values.tolist() == [
        ["column", 3, "A|gender=w: 3"]
    ]


def test_a_zero_group_is_no_protection() -> None:
    # B is empty and an attacker may know it: R − C = A + B = 3, so hiding B protects nothing.
    case = unit_case({"R": None, "A": "R", "B": "R", "C": "R"}, {"A": 3, "C": 7})
    out = suppress(case.structure, case.counts, case.k)
    rules = dict(zip(out["group"], out["rule"], strict=True))
    assert rules["u:B"] == "empty"
    assert not (case.published(out)["u:R"] and case.published(out)["u:C"])
    assert_safe(case, out)
    mask = primary_only(case)
    assert not mask[case.structure.group_positions(["u:B"])].any()
    for method in ("fast", "exact"):
        assert audit(case.structure, case.counts, mask, case.k, method=method).min_n == 3


def test_two_dimensional_parent_category_minus_children() -> None:
    # R|w = R's own women + A|w + B|w. With R|w, A|w published and B|w hidden (4),
    # R|w − A|w = R's own women (0) + B|w = 4: hidden in the child, derived in the parent.
    s = build_structure(tree({"R": None, "A": "R", "B": "R"}), {"gender": ["w", "m"]})
    rows = respondents("A", 8, gender=["w"]) + respondents("A", 8, gender=["m"])
    rows += respondents("B", 4, gender=["w"]) + respondents("B", 9, gender=["m"])
    case = Case(s, frame(rows, ["gender"]), 5)
    naive = audit(s, case.counts, primary_only(case), 5)
    column = naive.findings[naive.findings["relation"] == "column"]
    assert column["expression"].tolist() == ["+u:R|gender=w -u:A|gender=w"]
    assert column["cells"].tolist() == ["B|gender=w: 4"]
    out = suppress(s, case.counts, 5)
    assert_safe(case, out)


def test_hidden_unit_hides_its_breakdown() -> None:
    case = unit_case({"R": None, "A": "R", "B": "R", "C": "R"}, {"A": 3, "B": 6, "C": 7})
    s = build_structure(tree({"R": None, "A": "R", "B": "R", "C": "R"}), {"g": ["x"]})
    data = case.data.assign(g="x")
    out = suppress(s, data, 5)
    rules = dict(zip(out["group"], out["rule"], strict=True))
    assert rules["u:B"] == "secondary"
    assert rules["u:B|g=x"] == "secondary"
    assert rules["u:A|g=x"] == "primary"


def test_question_pass_inherits_the_group_level_pattern() -> None:
    case = unit_case({"R": None, "A": "R", "B": "R", "C": "R"}, {"A": 3, "B": 6, "C": 7})
    level = suppress(case.structure, case.data, 5)
    answered = case.data.drop(index=[0, 3])  # one of A and one of B skipped the question
    out, proof = protect(case.structure, answered, 5, initially_hidden=level)
    rules = dict(zip(out["group"], out["rule"], strict=True))
    assert rules["u:A"] == "primary"
    assert rules["u:B"] == "inherited"
    assert proof.safe
    assert proof.min_n == 7
    assert not (
        set(level.loc[~level["published"], "group"]) & set(out.loc[out["published"], "group"])
    )


def test_sensitive_question_uses_its_own_k() -> None:
    case = unit_case({"R": None, "A": "R", "B": "R", "C": "R"}, {"A": 6, "B": 8, "C": 12})
    out = suppress(case.structure, case.data, 10)
    pub = case.published(out)
    assert [pub[g] for g in ("u:R", "u:A", "u:B", "u:C")] == [True, False, False, True]
    assert exact_audit(case.structure, case.data, out, 10).safe


def test_forest_and_empty_structure_parts() -> None:
    # Two roots; one root is empty, the other has a small unit of its own.
    case = unit_case({"X": None, "Y": None, "Y1": "Y", "Y2": "Y"}, {"Y": 1, "Y1": 6, "Y2": 9})
    out = suppress(case.structure, case.data, case.k)
    assert dict(zip(out["group"], out["rule"], strict=True))["u:X"] == "empty"
    assert_safe(case, out)


def test_protection_intervals_of_hidden_units() -> None:
    case = unit_case({"R": None, "A": "R", "B": "R", "C": "R"}, {"A": 3, "B": 6, "C": 7})
    out = suppress(case.structure, case.data, case.k)
    intervals = protection_intervals(case.structure, case.data, out).set_index("group")
    # Only A + B = 9 is known: each of them can be anything from 0 to 9.
    assert intervals.loc["u:A", ["n", "lower", "upper"]].tolist() == [3, 0.0, 9.0]
    assert intervals.loc["u:B", ["lower", "upper"]].tolist() == [0.0, 9.0]
    # Publishing B: A + R's own respondents = 3, so A can hold no more than 3.
    naive = protection_intervals(case.structure, case.data, primary_only(case), groups=["u:A"])
    assert naive[["lower", "upper"]].iloc[0].tolist() == [0.0, 3.0]


def test_fast_audit_needs_the_breakdown_rule() -> None:
    s = build_structure(tree({"R": None, "A": "R", "B": "R"}), {"g": ["x"]})
    data = frame(respondents("A", 6, g=["x"]) + respondents("B", 6, g=["x"]), ["g"])
    mask = ["u:R", "u:B", "u:A|g=x"]
    with pytest.raises(ValueError, match=r"needs every published category group"):
        audit(s, data, mask, 5, method="fast")
    result = audit(s, data, mask, 5)
    assert result.method == "exact"
    assert result.min_n == exact_audit(s, data, mask, 5).min_n == 6


def test_engine_is_deterministic() -> None:
    s = build_structure(
        tree({"R": None, "A": "R", "B": "R", "A1": "A", "A2": "A"}), {"g": ["x", "y"]}
    )
    rows = respondents("A1", 7, g=["x", "y", None]) + respondents("A2", 4, g=["x"])
    rows += respondents("B", 9, g=["y", "x"]) + respondents("A", 2, g=["y"])
    data = frame(rows, ["g"])
    first = suppress(s, data, 5)
    second = suppress(s, data.sample(frac=1.0, random_state=3), 5)
    pd.testing.assert_frame_equal(first, second)
