"""Roll additive figures (counts, moments) up the organisation tree.

The tree is a frame ``units`` with columns ``unit, parent`` (parent missing for a root; several
roots make a forest). :func:`ancestors` lists, for each unit, itself and every unit above it;
:func:`rollup` uses that list to give each unit the sum of its own figures and those of all its
descendants. Both walk the tree one *level* at a time with array lookups, so the cost grows with
the depth of the tree (5–10 levels), not with the number of units.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis._validation import as_column_list, require_columns

__all__ = ["ancestors", "rollup", "validate_tree"]


def _parent_positions(units: pd.DataFrame) -> tuple[pd.Index, np.ndarray]:
    """Validate the tree; return the unit index and each unit's parent position (-1 = root)."""
    df = require_columns(units, ["unit", "parent"], "units")
    if df["unit"].isna().any():
        raise ValueError("units.unit must not be missing")
    if df["unit"].duplicated().any():
        dupes = df.loc[df["unit"].duplicated(), "unit"].unique().tolist()[:5]
        raise ValueError(f"units lists some unit more than once, e.g. {dupes}")
    index = pd.Index(df["unit"])
    has_parent = df["parent"].notna().to_numpy()
    parent_pos = np.full(len(df), -1, dtype=np.int64)
    if has_parent.any():
        found = index.get_indexer(pd.Index(df.loc[has_parent, "parent"]))
        if (found < 0).any():
            unknown = df.loc[has_parent, "parent"].to_numpy()[found < 0][:5].tolist()
            raise ValueError(f"units has parents that are not units: {unknown}")
        parent_pos[has_parent] = found
    own = parent_pos == np.arange(len(df))
    if own.any():
        raise ValueError(f"units that are their own parent: {index[own].tolist()[:5]}")
    return index, parent_pos


def _ancestor_positions(parent_pos: np.ndarray, index: pd.Index) -> tuple[np.ndarray, ...]:
    """(unit, ancestor, distance) positions, walking up one level per iteration."""
    n = len(parent_pos)
    start = np.arange(n, dtype=np.int64)
    units_out, ancestors_out, distance_out = [start], [start], [np.zeros(n, dtype=np.int64)]
    current_unit, current = start, parent_pos
    distance = 1
    while True:
        keep = current >= 0
        current_unit, current = current_unit[keep], current[keep]
        if len(current) == 0:
            break
        if distance > n:
            raise ValueError(f"units contain a cycle through {index[current_unit].tolist()[:5]}")
        units_out.append(current_unit)
        ancestors_out.append(current)
        distance_out.append(np.full(len(current), distance, dtype=np.int64))
        current = parent_pos[current]
        distance += 1
    return np.concatenate(units_out), np.concatenate(ancestors_out), np.concatenate(distance_out)


def validate_tree(units: pd.DataFrame) -> None:
    """Raise ``ValueError`` unless ``units`` (``unit, parent``) is a valid tree or forest.

    Checks: required columns, no missing or repeated units, every parent is a unit, no unit is
    its own parent, no cycles.

    Examples
    --------
    >>> validate_tree(pd.DataFrame({"unit": [1, 2], "parent": [2, 1]}))
    Traceback (most recent call last):
    ...
    ValueError: units contain a cycle through [1, 2]
    """
    index, parent_pos = _parent_positions(units)
    _ancestor_positions(parent_pos, index)


def ancestors(units: pd.DataFrame, *, include_self: bool = True) -> pd.DataFrame:
    """Each unit with every unit above it in the tree.

    Parameters
    ----------
    units : DataFrame
        Columns ``unit, parent`` (parent missing for roots).
    include_self : bool, default True
        Also list each unit as its own ancestor at distance 0 (what :func:`rollup` needs).

    Returns
    -------
    DataFrame
        Columns ``unit, ancestor, distance`` (1 = parent, 2 = grandparent, …), sorted by unit
        and distance.

    Examples
    --------
    >>> tree = pd.DataFrame({"unit": ["root", "a", "a1"], "parent": [None, "root", "a"]})
    >>> ancestors(tree, include_self=False).query("unit == 'a1'")["ancestor"].tolist()
    ['a', 'root']
    """
    index, parent_pos = _parent_positions(units)
    unit_pos, ancestor_pos, distance = _ancestor_positions(parent_pos, index)
    out = pd.DataFrame(
        {"unit": index.take(unit_pos), "ancestor": index.take(ancestor_pos), "distance": distance}
    )
    if not include_self:
        out = out[out["distance"] > 0]
    order = np.lexsort((out["distance"].to_numpy(), index.get_indexer(out["unit"])))
    return out.iloc[order].reset_index(drop=True)


def rollup(
    frame: pd.DataFrame,
    units: pd.DataFrame,
    *,
    columns: str | Sequence[str],
    key: str = "unit",
) -> pd.DataFrame:
    """Sum additive figures over each unit's subtree (the unit itself and all descendants).

    Parameters
    ----------
    frame : DataFrame
        Additive figures keyed by ``key`` and any further key columns, e.g. counts
        (``unit, question, value, count``) or moments (``unit, index, n, sum, sumsq``). Every
        column that is neither ``key`` nor in ``columns`` is a key to group by.
    units : DataFrame
        The tree, columns ``unit, parent``.
    columns : str or sequence of str
        The additive columns to sum, e.g. ``"count"`` or ``["n", "sum", "sumsq"]``.
    key : str, default "unit"
        The column of ``frame`` that holds units (e.g. ``"group"``).

    Returns
    -------
    DataFrame
        The same columns; each unit with data anywhere in its subtree appears once per further
        key, its figures summed over the subtree. Sorted by the keys.

    Examples
    --------
    >>> tree = pd.DataFrame({"unit": ["root", "a", "b"], "parent": [None, "root", "root"]})
    >>> counts = pd.DataFrame({"unit": ["a", "b", "root"], "question": "q1", "value": 4,
    ...                        "count": [2, 3, 1]})
    >>> rollup(counts, tree, columns="count")[["unit", "count"]].to_dict("list")
    {'unit': ['a', 'b', 'root'], 'count': [2, 3, 6]}
    """
    cols = as_column_list(columns)
    df = require_columns(frame, [key, *cols], "frame")
    by = [c for c in df.columns if c != key and c not in cols]
    pairs = ancestors(units)
    known = pd.Index(pairs["unit"].unique())
    unknown = ~pd.Index(df[key]).isin(known)
    if unknown.any():
        raise ValueError(
            f"frame.{key} has units that are not in units: {pd.unique(df[key][unknown])[:5]}"
        )
    for col in cols:
        if df[col].dtype.kind not in "iufb":
            raise ValueError(f"frame.{col} must be numeric to be summed")
    expanded = df.merge(
        pairs[["unit", "ancestor"]].rename(columns={"unit": "__unit"}),
        left_on=key,
        right_on="__unit",
        how="inner",
        sort=False,
    )
    keys = ["ancestor", *by]
    summed = expanded.groupby(keys, sort=True, dropna=False)[cols].sum().reset_index()
    return summed.rename(columns={"ancestor": key})[[key, *by, *cols]]
