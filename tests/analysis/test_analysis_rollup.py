"""Organisation tree: ancestors and roll-up of additive figures (analysis.rollup).

References: sums written out by hand for a small tree, and for a random 1,000-unit tree a plain
recursive walk over children (obviously correct, too slow for the app) as the oracle.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import ancestors, moments, moments_to_stats, rollup, validate_tree

#           root
#          /    \
#         a      b
#        / \
#      a1   a2
TREE = pd.DataFrame(
    {"unit": ["root", "a", "b", "a1", "a2"], "parent": [None, "root", "root", "a", "a"]}
)


def test_ancestors_list_each_unit_upwards() -> None:
    out = ancestors(TREE)
    a1 = out[out["unit"] == "a1"]
    assert a1["ancestor"].tolist() == ["a1", "a", "root"]
    assert a1["distance"].tolist() == [0, 1, 2]
    assert out[out["unit"] == "root"]["ancestor"].tolist() == ["root"]
    assert len(out) == 1 + 2 + 2 + 3 + 3


def test_ancestors_without_self() -> None:
    out = ancestors(TREE, include_self=False)
    assert (out["distance"] > 0).all()
    assert out[out["unit"] == "b"]["ancestor"].tolist() == ["root"]
    assert "root" not in out["unit"].tolist()


def test_rollup_counts_by_hand() -> None:
    counts = pd.DataFrame(
        {
            "unit": ["a1", "a1", "a2", "b", "a", "root"],
            "question": "q1",
            "value": [4, 5, 4, 4, 5, 2],
            "count": [1, 2, 3, 4, 5, 6],
        }
    )
    out = rollup(counts, TREE, columns="count").set_index(["unit", "value"])["count"]
    # a = a's own 5s (5) + a1 (1 four, 2 fives) + a2 (3 fours) → value 4: 1 + 3, value 5: 2 + 5
    assert out[("a", 4)] == 4
    assert out[("a", 5)] == 7
    # root = everything: value 2: 6; value 4: 1 + 3 + 4 = 8; value 5: 2 + 5 = 7
    assert out[("root", 2)] == 6
    assert out[("root", 4)] == 8
    assert out[("root", 5)] == 7
    # leaves unchanged
    assert out[("a1", 5)] == 2
    assert out[("b", 4)] == 4


def test_rollup_keeps_further_keys_and_other_key_name() -> None:
    frame = pd.DataFrame({"group": ["a1", "a2", "a1"], "round": [1, 1, 2], "n": [3.0, 4.0, 5.0]})
    out = rollup(frame, TREE, columns=["n"], key="group")
    assert list(out.columns) == ["group", "round", "n"]
    root = out[out["group"] == "root"].set_index("round")["n"]
    assert root.to_dict() == {1: 7.0, 2: 5.0}


def test_rollup_of_moments_equals_statistics_of_the_pooled_answers() -> None:
    scores = pd.DataFrame({"unit": ["a1", "a1", "a2", "b"], "score": [50.0, 100.0, 25.0, 75.0]})
    m = moments(scores, value="score", by="unit")
    out = moments_to_stats(rollup(m, TREE, columns=["n", "sum", "sumsq"])).set_index("unit")
    # a pools 50, 100, 25; root pools all four.
    assert out.loc["a", "mean"] == pytest.approx(np.mean([50, 100, 25]))
    assert out.loc["a", "sd"] == pytest.approx(np.std([50, 100, 25], ddof=1))
    assert out.loc["root", "mean"] == pytest.approx(62.5)
    assert out.loc["root", "sd"] == pytest.approx(np.std([50, 100, 25, 75], ddof=1))


def test_rollup_of_a_forest_keeps_trees_apart() -> None:
    forest = pd.DataFrame({"unit": [1, 2, 10, 11], "parent": [pd.NA, 1, pd.NA, 10]})
    frame = pd.DataFrame({"unit": [2, 11], "count": [3, 4]})
    out = rollup(frame, forest, columns="count").set_index("unit")["count"]
    assert out.to_dict() == {1: 3, 2: 3, 10: 4, 11: 4}


def test_rollup_random_deep_tree_matches_a_recursive_walk() -> None:
    rng = np.random.default_rng(42)
    n_units = 1000
    # Each unit's parent is an earlier unit: a random tree, here about 8–12 levels deep.
    parents = [None] + [int(rng.integers(max(0, i - 15), i)) for i in range(1, n_units)]
    tree = pd.DataFrame({"unit": range(n_units), "parent": pd.array(parents, dtype="Int64")})
    own = rng.integers(0, 5, size=n_units)
    frame = pd.DataFrame({"unit": range(n_units), "count": own})

    children: dict[int, list[int]] = {}
    for unit, parent in enumerate(parents):
        if parent is not None:
            children.setdefault(parent, []).append(unit)

    def subtree_sum(unit: int) -> int:
        return int(own[unit]) + sum(subtree_sum(c) for c in children.get(unit, []))

    out = rollup(frame, tree, columns="count").set_index("unit")["count"]
    expected = {u: subtree_sum(u) for u in range(n_units)}
    assert out.to_dict() == expected
    assert ancestors(tree)["distance"].max() >= 5


@pytest.mark.parametrize(
    ("units", "message"),
    [
        (pd.DataFrame({"unit": [1, 2, 3], "parent": [None, 3, 2]}), "cycle"),
        (pd.DataFrame({"unit": [1, 2], "parent": [None, 9]}), "not units"),
        (pd.DataFrame({"unit": [1, 1], "parent": [None, None]}), "more than once"),
        (pd.DataFrame({"unit": [1, 2], "parent": [None, 2]}), "own parent"),
        (pd.DataFrame({"unit": [1, None], "parent": [None, 1]}), "missing"),
        (pd.DataFrame({"unit": [1]}), "missing column"),
    ],
)
def test_invalid_trees_raise(units: pd.DataFrame, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_tree(units)
    with pytest.raises(ValueError, match=message):
        rollup(pd.DataFrame({"unit": [1], "count": [1]}), units, columns="count")


def test_rollup_rejects_unknown_units_and_text_figures() -> None:
    with pytest.raises(ValueError, match="not in units"):
        rollup(pd.DataFrame({"unit": ["zz"], "count": [1]}), TREE, columns="count")
    with pytest.raises(ValueError, match="numeric"):
        rollup(pd.DataFrame({"unit": ["a"], "count": ["1"]}), TREE, columns="count")
