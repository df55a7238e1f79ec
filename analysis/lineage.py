"""Unit lineage: which previous-round units a current unit is compared with.

Reorganisations are recorded as edges ``predecessor → successor`` of three kinds:

* ``rename`` – the successor is the predecessor under a new name (or code);
* ``merge`` – the predecessor was merged into the successor (one edge per merged unit);
* ``split`` – the successor was split off from the predecessor (one edge per part).

For a current unit, :func:`resolve_lineage` walks the edges backwards until it reaches units
that took part in the previous round, across any number of reorganisations in between. A unit
that took part itself is compared with itself, plus anything merged into it since. The
comparison side is the *sum* of the units found (merge); when a split lies on the way the
predecessor also held people who are not in the current unit, so the comparison is flagged
``approximate``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

import pandas as pd

from analysis._validation import require_columns

__all__ = ["KINDS", "resolve_lineage"]

KINDS = ("rename", "merge", "split")


def _incoming(edges: pd.DataFrame) -> dict[Hashable, list[tuple[Hashable, str]]]:
    e = require_columns(edges, ["predecessor", "successor", "kind"], "edges")
    if e[["predecessor", "successor", "kind"]].isna().any().any():
        raise ValueError("edges must not have missing predecessor, successor or kind")
    bad = ~e["kind"].isin(KINDS)
    if bad.any():
        raise ValueError(f"edges.kind must be one of {KINDS}, got {e.loc[bad, 'kind'].unique()}")
    if (e["predecessor"] == e["successor"]).any():
        raise ValueError("an edge must not lead from a unit to itself")
    incoming: dict[Hashable, list[tuple[Hashable, str]]] = {}
    for pred, succ, kind in (
        e[["predecessor", "successor", "kind"]].drop_duplicates().itertuples(index=False)
    ):
        incoming.setdefault(succ, []).append((pred, str(kind)))
    _check_acyclic(incoming)
    return incoming


def _check_acyclic(incoming: dict[Hashable, list[tuple[Hashable, str]]]) -> None:
    """Raise if following edges backwards can return to a unit (depth-first, colouring)."""
    state: dict[Hashable, int] = {}  # 1 = on the current path, 2 = done
    for start in incoming:
        if state.get(start) == 2:
            continue
        stack: list[tuple[Hashable, int]] = [(start, 0)]
        state[start] = 1
        while stack:
            node, i = stack[-1]
            preds = incoming.get(node, [])
            if i < len(preds):
                stack[-1] = (node, i + 1)
                pred = preds[i][0]
                if state.get(pred) == 1:
                    raise ValueError(f"edges contain a cycle through {pred!r}")
                if state.get(pred) is None:
                    state[pred] = 1
                    stack.append((pred, 0))
            else:
                state[node] = 2
                stack.pop()


def _trace(
    unit: Hashable,
    incoming: dict[Hashable, list[tuple[Hashable, str]]],
    previous: set[Hashable],
) -> tuple[set[Hashable], set[str]]:
    """Previous-round units reached from ``unit`` and the edge kinds on the paths used."""
    found: set[Hashable] = {unit} if unit in previous else set()
    kinds: set[str] = set()
    # Each entry: (node, kinds seen on the way from ``unit`` to it).
    stack: list[tuple[Hashable, frozenset[str]]] = [
        (pred, frozenset({kind})) for pred, kind in incoming.get(unit, [])
    ]
    seen: set[tuple[Hashable, frozenset[str]]] = set()
    while stack:
        node, path_kinds = stack.pop()
        if (node, path_kinds) in seen:
            continue
        seen.add((node, path_kinds))
        if node in previous:
            found.add(node)
            kinds |= path_kinds
            continue
        stack.extend((pred, path_kinds | {kind}) for pred, kind in incoming.get(node, []))
    return found, kinds


def resolve_lineage(
    edges: pd.DataFrame,
    previous_units: Iterable[Hashable],
    current_units: Iterable[Hashable],
) -> pd.DataFrame:
    """For each current unit, the previous-round units to compare it with.

    Parameters
    ----------
    edges : DataFrame
        ``predecessor, successor, kind`` with kind in :data:`KINDS`; the edges must not form a
        cycle.
    previous_units : iterable
        Units that took part in the previous round.
    current_units : iterable
        Units of the current round to resolve.

    Returns
    -------
    DataFrame
        One row per current unit: ``unit``, ``predecessors`` (a sorted tuple of previous-round
        units whose results, added together, form the comparison; empty only with status
        ``no_predecessor``), ``status`` and ``approximate``. ``status`` is
        ``"same"`` (the unit itself took part and nothing was merged into it), ``"rename"``,
        ``"merge"`` (more than one unit, or a merge edge, on the way), ``"split"`` (a split on
        the way; then ``approximate`` is True) or ``"no_predecessor"`` (nothing to compare with,
        e.g. a new unit). ``frame.explode("predecessors")`` gives a long ``unit, predecessor``
        frame for joining the previous round's counts.

    Examples
    --------
    >>> edges = pd.DataFrame({"predecessor": ["A", "B", "C"], "successor": ["AB", "AB", "C2"],
    ...                       "kind": ["merge", "merge", "split"]})
    >>> out = resolve_lineage(edges, ["A", "B", "C", "D"], ["AB", "C2", "D", "E"])
    >>> out.to_dict("list")  # doctest: +NORMALIZE_WHITESPACE
    {'unit': ['AB', 'C2', 'D', 'E'], 'predecessors': [('A', 'B'), ('C',), ('D',), ()],
     'status': ['merge', 'split', 'same', 'no_predecessor'],
     'approximate': [False, True, False, False]}
    """
    incoming = _incoming(edges)
    previous = set(previous_units)
    units = list(dict.fromkeys(current_units))
    rows = []
    for unit in units:
        found, kinds = _trace(unit, incoming, previous)
        if not found:
            status = "no_predecessor"
        elif "split" in kinds:
            status = "split"
        elif "merge" in kinds or len(found) > 1:
            status = "merge"
        elif "rename" in kinds and found != {unit}:
            status = "rename"
        else:
            status = "same"
        rows.append((unit, _sorted(found), status, "split" in kinds))
    return pd.DataFrame(rows, columns=["unit", "predecessors", "status", "approximate"]).astype(
        {"approximate": bool}
    )


def _sorted(units: set[Hashable]) -> tuple[Hashable, ...]:
    """Units in their natural order, or by type and text when they do not compare."""
    try:
        return tuple(sorted(units))  # type: ignore[type-var]
    except TypeError:
        return tuple(sorted(units, key=lambda u: (type(u).__name__, str(u))))
