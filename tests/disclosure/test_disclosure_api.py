"""The public API of analysis.disclosure: structure, counts, result frames, bad input, examples."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.disclosure import (
    FINDING_COLUMNS,
    GROUP_COLUMNS,
    RESULT_COLUMNS,
    RULES,
    audit,
    build_structure,
    count_atoms,
    find_atoms,
    group_counts,
    protect,
    suppress,
)
from tests.disclosure.strategies import Case, cases, frame, respondents, tree

TREE = tree({"R": None, "A": "R", "B": "R", "A1": "A"})


@pytest.mark.parametrize(
    "module",
    ["structure", "engine", "audit", "exact"],
)
def test_docstring_examples_run(module: str) -> None:
    mod = importlib.import_module(f"analysis.disclosure.{module}")
    result = doctest.testmod(mod, extraglobs={"pd": pd}, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_structure_orders_units_parents_first_and_names_groups() -> None:
    s = build_structure(tree({"A1": "A", "R": None, "A": "R"}), {"g": ["x", "y"], "h": [1, 2]})
    assert s.units == ("R", "A", "A1")
    assert s.parent.tolist() == [-1, 0, 1]
    assert list(s.groups.columns) == list(GROUP_COLUMNS)
    kinds = s.groups["kind"].value_counts().to_dict()
    assert kinds == {"unit": 3, "category": 12, "own": 2, "rest": 6}
    assert s.n_publishable == 15
    assert "u:A1|h=2" in set(s.groups["group"])
    assert s.groups.loc[s.groups["group"] == "rest:A|g", "question"].item() == "g"


def test_counts_group_sums_and_unpublished_answers_go_to_rest() -> None:
    s = build_structure(TREE, {"g": ["x", "y"]})
    rows = (
        respondents("A1", 3, g=["x", "z"])
        + respondents("A", 2, g=[None])
        + respondents("B", 4, g=["y"])
    )
    counts = count_atoms(s, frame(rows, ["g"]))
    n = dict(zip(s.groups["group"], group_counts(s, counts).tolist(), strict=True))
    assert n["u:R"] == 9
    assert n["u:A"] == 5
    assert n["own:A"] == 2
    assert n["u:A|g=x"] == 2
    assert n["rest:A|g"] == 3  # "z" is not a published category; None is no answer
    pre = counts.atoms.rename(columns={"n": "count"})
    pre["unit"] = [s.units[u] for u in pre["unit"]]
    pre["g"] = [["x", "y", None][c] for c in pre["g"]]
    again = count_atoms(s, pre, count="count")
    assert (group_counts(s, again) == group_counts(s, counts)).all()


def test_result_frame_columns_and_rules() -> None:
    s = build_structure(TREE, {"g": ["x"]})
    data = frame(respondents("A1", 6, g=["x"]) + respondents("B", 2, g=["x"]), ["g"])
    out = suppress(s, data, 5)
    assert tuple(out.columns) == RESULT_COLUMNS
    assert set(out["rule"].dropna()) <= set(RULES)
    assert out.loc[out["published"], "rule"].isna().all()
    assert not out.loc[out["kind"].isin(["own", "rest"]), "published"].any()
    assert out["n"].dtype == np.int64


def test_audit_findings_frame_is_empty_when_safe() -> None:
    s = build_structure(TREE)
    data = frame(respondents("A1", 6) + respondents("B", 7), [])
    out, proof = protect(s, data, 5)
    result = audit(s, data, out, 5)
    assert tuple(result.findings.columns) == FINDING_COLUMNS
    assert result.safe
    assert result.min_n == proof.min_n
    ids = out.loc[out["published"], "group"]
    assert audit(s, data, ids.tolist(), 5).min_n == result.min_n
    assert audit(s, data, out["published"].to_numpy()[: s.n_publishable], 5).safe


@pytest.mark.parametrize(
    ("units", "breakdowns", "message"),
    [
        (pd.DataFrame({"unit": ["A"]}), None, "columns unit, parent"),
        (tree({"A": None, "B": "X"}), None, "not units"),
        (pd.DataFrame({"unit": ["A", "A"], "parent": [None, None]}), None, "more than once"),
        (tree({"A": "B", "B": "A"}), None, "cycle"),
        (tree({"A|1": None}), None, "must not contain"),
        (tree({"A": None}), {"g": []}, "non-empty list"),
        (tree({"A": None}), {"g": ["x", "x"]}, "distinct"),
        (tree({"A": None}), {"g=1": ["x"]}, "must not contain"),
        (tree({"A": None}), {"g": [str(i) for i in range(9)]}, "more than 8"),
        (pd.DataFrame({"unit": [], "parent": []}), None, "empty"),
    ],
)
def test_bad_structure_input(units: pd.DataFrame, breakdowns: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_structure(units, breakdowns)  # type: ignore[arg-type]


def test_bad_counts_and_arguments() -> None:
    s = build_structure(TREE, {"g": ["x"]})
    other = build_structure(TREE, {"g": ["x"]})
    good = frame(respondents("A1", 6, g=["x"]), ["g"])
    with pytest.raises(ValueError, match="columns"):
        count_atoms(s, good.drop(columns="g"))
    with pytest.raises(ValueError, match="not in the structure"):
        count_atoms(s, good.assign(unit="Q"))
    with pytest.raises(ValueError, match="non-negative whole"):
        count_atoms(s, good.assign(n=-1), count="n")
    with pytest.raises(ValueError, match="for this structure"):
        suppress(s, count_atoms(other, good), 5)
    for k in (0, 2.5, True, "5"):
        with pytest.raises(ValueError, match="k must be"):
            suppress(s, good, k)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown group"):
        suppress(s, good, 5, initially_hidden=["u:nowhere"])
    with pytest.raises(ValueError, match="never published"):
        audit(s, good, ["u:R", "own:R"], 5)
    with pytest.raises(ValueError, match="method"):
        audit(s, good, ["u:R"], 5, method="magic")
    with pytest.raises(ValueError, match="max_atoms"):
        audit(s, good, ["u:R"], 5, method="exact", max_atoms=3)


@given(cases(), st.data())
@settings(max_examples=60, deadline=None)
def test_atoms_found_once_count_any_subset_as_count_atoms_does(
    case: Case, data: st.DataObject
) -> None:
    # A round's passes count the respondents who answered each question: find_atoms reads the
    # frame once, and every subset counted from it must equal counting the subset's rows.
    atoms = find_atoms(case.structure, case.data)
    rows = np.array(
        data.draw(st.lists(st.integers(0, max(len(case.data) - 1, 0)), unique=True))
        if len(case.data)
        else [],
        dtype=np.int64,
    )
    expected = count_atoms(case.structure, case.data.iloc[rows])
    got = atoms.count(rows)
    assert (got.own == expected.own).all()
    assert all((a == b).all() for a, b in zip(got.tables, expected.tables, strict=True))
    pd.testing.assert_frame_equal(got.atoms, expected.atoms, check_dtype=False)
    everyone = atoms.count()
    assert (group_counts(case.structure, everyone) == case.n).all()


def test_groups_kept_hidden_by_mask_or_by_name_alike() -> None:
    s = build_structure(TREE, {"g": ["x"]})
    data = frame(respondents("A1", 6, g=["x"]) + respondents("B", 7, g=["x"]), ["g"])
    names = ["u:B", "u:A1|g=x"]
    mask = s.groups["group"].isin(names).to_numpy()[: s.n_publishable]
    by_name = suppress(s, data, 5, initially_hidden=names)
    by_mask = suppress(s, data, 5, initially_hidden=mask)
    pd.testing.assert_frame_equal(by_name, by_mask)
    assert not by_mask.set_index("group").loc[names, "published"].any()
    with pytest.raises(ValueError, match="entries"):
        suppress(s, data, 5, initially_hidden=mask[:-1])
