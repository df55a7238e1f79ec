"""Unit lineage across reorganisations (analysis.lineage).

The expected comparison sets follow from the rules in design.md ("a unit's round against its
previous round, across reorganisations through unit lineage") and are worked out per case.
"""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import resolve_lineage


def edges(*rows: tuple[object, object, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["predecessor", "successor", "kind"])


def one(frame: pd.DataFrame, unit: object) -> pd.Series:
    return frame.set_index("unit").loc[unit]


def test_unchanged_unit_compares_with_itself() -> None:
    out = resolve_lineage(edges(), previous_units=["A"], current_units=["A"])
    assert one(out, "A").to_dict() == {
        "predecessors": ("A",),
        "status": "same",
        "approximate": False,
    }


def test_rename_chain_across_two_reorganisations() -> None:
    # A (previous round) → A2 → A3 (current), both renames, with no round in between.
    out = resolve_lineage(edges(("A", "A2", "rename"), ("A2", "A3", "rename")), ["A"], ["A3"])
    assert one(out, "A3")["predecessors"] == ("A",)
    assert one(out, "A3")["status"] == "rename"


def test_merge_compares_with_all_merged_units_together() -> None:
    out = resolve_lineage(edges(("A", "C", "merge"), ("B", "C", "merge")), ["A", "B"], ["C"])
    assert one(out, "C")["predecessors"] == ("A", "B")
    assert one(out, "C")["status"] == "merge"
    assert not one(out, "C")["approximate"]


def test_unit_that_absorbs_another_includes_itself() -> None:
    # B was merged into A after the previous round; A took part then as well.
    out = resolve_lineage(edges(("B", "A", "merge")), ["A", "B"], ["A"])
    assert one(out, "A")["predecessors"] == ("A", "B")
    assert one(out, "A")["status"] == "merge"


def test_split_is_flagged_approximate() -> None:
    out = resolve_lineage(edges(("X", "X1", "split"), ("X", "X2", "split")), ["X"], ["X1", "X2"])
    for unit in ("X1", "X2"):
        assert one(out, unit)["predecessors"] == ("X",)
        assert one(out, unit)["status"] == "split"
        assert one(out, unit)["approximate"]


def test_rename_then_merge_then_the_previous_round_stops_the_walk() -> None:
    # Previous round had P and Q. Since then: P renamed P2; P2 and Q merged into R.
    # Long ago (before the previous round) Q was split off from OLD, which must not be reached.
    e = edges(
        ("OLD", "Q", "split"),
        ("P", "P2", "rename"),
        ("P2", "R", "merge"),
        ("Q", "R", "merge"),
    )
    out = resolve_lineage(e, ["P", "Q"], ["R"])
    assert one(out, "R")["predecessors"] == ("P", "Q")
    assert one(out, "R")["status"] == "merge"
    assert not one(out, "R")["approximate"]  # the old split lies beyond Q


def test_split_part_later_merged_is_approximate() -> None:
    # X split into X1, X2; X1 then merged with Y into Z, all after the previous round.
    e = edges(("X", "X1", "split"), ("X", "X2", "split"), ("X1", "Z", "merge"), ("Y", "Z", "merge"))
    out = resolve_lineage(e, ["X", "Y"], ["Z", "X2"])
    assert one(out, "Z")["predecessors"] == ("X", "Y")
    assert one(out, "Z")["approximate"]
    assert one(out, "Z")["status"] == "split"


def test_new_unit_has_explicit_no_predecessor_status() -> None:
    # NEW has an edge, but its predecessor did not take part in the previous round either.
    out = resolve_lineage(edges(("GONE", "NEW", "rename")), ["A"], ["NEW", "FRESH"])
    for unit in ("NEW", "FRESH"):
        assert one(out, unit)["predecessors"] == ()
        assert one(out, unit)["status"] == "no_predecessor"
    assert out["unit"].tolist() == ["NEW", "FRESH"]


def test_integer_units_and_explode_for_joining() -> None:
    out = resolve_lineage(edges((10, 30, "merge"), (9, 30, "merge")), [9, 10], [30])
    assert one(out, 30)["predecessors"] == (9, 10)  # numeric order, not text order
    long = out.explode("predecessors")
    assert long["predecessors"].tolist() == [9, 10]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (edges(("A", "B", "rename"), ("B", "A", "rename")), "cycle"),
        (edges(("A", "B", "moved")), "kind"),
        (edges(("A", "A", "rename")), "itself"),
        (edges((None, "A", "rename")), "missing"),
        (pd.DataFrame({"predecessor": ["A"], "successor": ["B"]}), "missing column"),
    ],
)
def test_invalid_edges_raise(frame: pd.DataFrame, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        resolve_lineage(frame, ["A"], ["B"])
