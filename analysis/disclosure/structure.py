"""What a round publishes: the unit tree × background breakdowns, as groups over atoms.

A round publishes figures for *groups* of respondents:

``u:<unit>``
    everyone in the unit's subtree (the unit itself and all units below it);
``u:<unit>|<question>=<category>``
    those of them who gave ``category`` to the background question ``question``.

Two kinds of *remainder* are never published as groups of their own but are listed in the
suppression log, because they are what an attacker recovers by subtraction:

``own:<unit>``
    the respondents directly at a unit that has sub-units (the unit minus its children);
``rest:<unit>|<question>``
    the unit's respondents who left ``question`` unanswered or gave a category that is not
    published as a breakdown.

The finest cells the published groups can be built from are the *atoms*: a unit's own level ×
one answer (a published category or "rest") to every background question. Every group is a
union of atoms. :class:`Structure` holds the tree and the breakdowns; it does not depend on the
counts, so one structure serves the group-level pass and every question's pass.
:class:`AtomCounts` holds the number of respondents per atom for one pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

__all__ = [
    "GROUP_COLUMNS",
    "AtomCounts",
    "Atoms",
    "Structure",
    "build_structure",
    "count_atoms",
    "find_atoms",
    "group_counts",
]

GROUP_COLUMNS = ("group", "kind", "unit", "question", "category")
"""Columns of :attr:`Structure.groups` (and the leading columns of every result frame)."""

MAX_CATEGORIES = 8
"""Most published categories per background question: the fast audit's programme keeps
``2^(categories + 1)`` states per unit, so group finer answers before publishing them."""


def _key(value: object) -> str:
    """A unit/category code as text: ``3``, ``3.0`` and ``"3"`` are the same code."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _keys(values: pd.Series) -> np.ndarray:
    """Text codes of a column, with ``None`` for missing values (mapped once per distinct value)."""
    codes, uniques = pd.factorize(values)
    keys = np.array([_key(u) for u in uniques] + [None], dtype=object)
    return keys[codes]


def _positions(values: pd.Series, known: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Position of each value's code in ``known`` (-1 if not there), and whether it is missing."""
    codes, uniques = pd.factorize(values)
    lookup = pd.Index(list(known), dtype=object)
    found = lookup.get_indexer(pd.Index([_key(u) for u in uniques], dtype=object))
    found = np.append(found, -1).astype(np.int64)
    return found[codes], codes < 0


@dataclass(frozen=True, eq=False)
class Structure:
    """The unit tree and the published breakdowns of one round.

    Build it with :func:`build_structure`. Units are stored parents-first (by depth); every
    array below is indexed by that position.

    Attributes
    ----------
    units : tuple of str
        Unit codes, parents before children.
    parent : numpy.ndarray
        Position of each unit's parent, ``-1`` for a root.
    questions : tuple of str
        Background questions published as breakdowns.
    categories : tuple of tuple of str
        Published categories of each question; every other answer, and no answer, is the
        question's ``rest``.
    groups : pandas.DataFrame
        One row per group, columns ``group, kind, unit, question, category``; ``kind`` is
        ``unit``, ``category``, ``own`` or ``rest``. The first :attr:`n_publishable` rows are the
        publishable groups (units, then categories question by question, unit-major), then the
        remainders.
    """

    units: tuple[str, ...]
    parent: np.ndarray
    questions: tuple[str, ...]
    categories: tuple[tuple[str, ...], ...]
    depth: np.ndarray = field(init=False, repr=False)
    levels: tuple[np.ndarray, ...] = field(init=False, repr=False)
    tin: np.ndarray = field(init=False, repr=False)
    tout: np.ndarray = field(init=False, repr=False)
    subtree: sparse.csr_matrix = field(init=False, repr=False)
    offsets: tuple[int, ...] = field(init=False, repr=False)
    groups: pd.DataFrame = field(init=False, repr=False)

    def __post_init__(self) -> None:
        parent = np.asarray(self.parent, dtype=np.int64)
        n = len(self.units)
        if parent.shape != (n,):
            raise ValueError("parent must have one entry per unit")
        if len(self.categories) != len(self.questions):
            raise ValueError("categories must have one entry per question")
        parent.flags.writeable = False
        depth = _depths(parent)
        offsets = [n]
        for cats in self.categories:
            offsets.append(offsets[-1] + n * len(cats))
        tin, tout = _preorder(parent)
        for name, value in (
            ("parent", parent),
            ("depth", depth),
            ("levels", tuple(np.flatnonzero(depth == d) for d in range(int(depth.max()) + 1))),
            ("tin", tin),
            ("tout", tout),
            ("subtree", _subtree_matrix(parent, depth)),
            ("offsets", tuple(offsets)),
        ):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "groups", self._group_frame())

    @property
    def n_units(self) -> int:
        """Number of units."""
        return len(self.units)

    @property
    def n_publishable(self) -> int:
        """Number of publishable groups (unit groups and category groups)."""
        return self.offsets[-1]

    @property
    def has_children(self) -> np.ndarray:
        """Whether each unit has sub-units (and hence an ``own:`` remainder)."""
        out = np.zeros(self.n_units, dtype=bool)
        out[self.parent[self.parent >= 0]] = True
        return out

    def category_slice(self, q: int) -> slice:
        """Positions of question ``q``'s category groups (unit-major, categories inner)."""
        return slice(self.offsets[q], self.offsets[q + 1])

    def group_positions(self, ids: Sequence[str]) -> np.ndarray:
        """Positions of group ids in :attr:`groups`; ``ValueError`` for an unknown id."""
        pos = pd.Index(self.groups["group"]).get_indexer(pd.Index(list(ids), dtype=object))
        if (pos < 0).any():
            unknown = [ids[i] for i in np.flatnonzero(pos < 0)[:5]]
            raise ValueError(f"unknown group id(s): {unknown}")
        return pos

    def _group_frame(self) -> pd.DataFrame:
        units = np.array(self.units, dtype=object)
        parts = [pd.DataFrame({"group": ["u:" + u for u in units], "kind": "unit", "unit": units})]
        for q, cats in zip(self.questions, self.categories, strict=True):
            unit_col = np.repeat(units, len(cats))
            cat_col = np.tile(np.array(cats, dtype=object), len(units))
            ids = [f"u:{u}|{q}={c}" for u, c in zip(unit_col, cat_col, strict=True)]
            parts.append(
                pd.DataFrame(
                    {
                        "group": ids,
                        "kind": "category",
                        "unit": unit_col,
                        "question": q,
                        "category": cat_col,
                    }
                )
            )
        inner = units[self.has_children]
        parts.append(
            pd.DataFrame({"group": ["own:" + u for u in inner], "kind": "own", "unit": inner})
        )
        for q in self.questions:
            parts.append(
                pd.DataFrame(
                    {
                        "group": [f"rest:{u}|{q}" for u in units],
                        "kind": "rest",
                        "unit": units,
                        "question": q,
                    }
                )
            )
        frame = pd.concat(parts, ignore_index=True)
        for col in GROUP_COLUMNS:
            if col not in frame:
                frame[col] = None
        return frame.loc[:, list(GROUP_COLUMNS)].astype(object)


def _depths(parent: np.ndarray) -> np.ndarray:
    n = len(parent)
    depth = np.zeros(n, dtype=np.int64)
    current = parent.copy()
    for _ in range(n + 1):
        alive = current >= 0
        if not alive.any():
            return depth
        depth[alive] += 1
        current[alive] = parent[current[alive]]
    raise ValueError("units contain a cycle")


def _preorder(parent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Depth-first entry/exit times: ``v`` is below ``u`` iff tin[u] <= tin[v] < tout[u]."""
    n = len(parent)
    children: list[list[int]] = [[] for _ in range(n)]
    roots: list[int] = []
    for v, p in enumerate(parent.tolist()):
        (children[p] if p >= 0 else roots).append(v)
    tin = np.zeros(n, dtype=np.int64)
    tout = np.zeros(n, dtype=np.int64)
    clock = 0
    stack: list[tuple[int, bool]] = [(r, False) for r in reversed(roots)]
    while stack:
        v, done = stack.pop()
        if done:
            tout[v] = clock
            continue
        tin[v] = clock
        clock += 1
        stack.append((v, True))
        stack.extend((c, False) for c in reversed(children[v]))
    return tin, tout


def _subtree_matrix(parent: np.ndarray, depth: np.ndarray) -> sparse.csr_matrix:
    """Sparse (unit × unit) matrix with a 1 where the column unit lies in the row unit's subtree."""
    n = len(parent)
    rows, cols = [np.arange(n)], [np.arange(n)]
    below, above = np.arange(n), parent.copy()
    while True:
        keep = above >= 0
        below, above = below[keep], above[keep]
        if len(below) == 0:
            break
        rows.append(above)
        cols.append(below)
        above = parent[above]
    r, c = np.concatenate(rows), np.concatenate(cols)
    return sparse.csr_matrix((np.ones(len(r)), (r, c)), shape=(n, n))


def _check_code(text: str, what: str, forbidden: str) -> None:
    if not text or any(ch in text for ch in forbidden):
        raise ValueError(f"{what} {text!r} must be non-empty and must not contain {forbidden!r}")


def build_structure(
    units: pd.DataFrame, breakdowns: Mapping[str, Sequence[object]] | None = None
) -> Structure:
    """Build the publication structure of a round.

    Parameters
    ----------
    units : pandas.DataFrame
        The organisation tree, columns ``unit, parent`` (parent missing for a root; several roots
        make a forest). Codes are compared as text.
    breakdowns : mapping of str to sequence, optional
        Background question → the categories published as breakdowns of every unit, in display
        order. Answers outside the list and "no answer" form the question's ``rest``.

    Returns
    -------
    Structure

    Raises
    ------
    ValueError
        For a missing column, a duplicate or unknown unit, a cycle, an empty or duplicate
        category list, or a code containing ``|`` (``=`` too in question names).

    Examples
    --------
    >>> tree = pd.DataFrame({"unit": ["R", "A", "B"], "parent": [None, "R", "R"]})
    >>> s = build_structure(tree, {"gender": ["w", "m"]})
    >>> s.groups["group"].tolist()[:4]
    ['u:R', 'u:A', 'u:B', 'u:R|gender=w']
    >>> s.groups["group"].tolist()[-4:]
    ['own:R', 'rest:R|gender', 'rest:A|gender', 'rest:B|gender']
    """
    if not isinstance(units, pd.DataFrame) or not {"unit", "parent"} <= set(units.columns):
        raise ValueError("units must be a DataFrame with columns unit, parent")
    if units["unit"].isna().any():
        raise ValueError("units.unit must not be missing")
    if len(units) == 0:
        raise ValueError("units is empty")
    codes = [_key(u) for u in units["unit"]]
    for code in codes:
        _check_code(code, "unit", "|")
    if len(set(codes)) != len(codes):
        raise ValueError("units lists some unit more than once")
    index = pd.Index(codes, dtype=object)
    parents = _keys(units["parent"])
    parent = np.full(len(codes), -1, dtype=np.int64)
    has = np.array([p is not None for p in parents], dtype=bool)
    if has.any():
        found = index.get_indexer(pd.Index(list(parents[has]), dtype=object))
        if (found < 0).any():
            raise ValueError(
                f"units has parents that are not units: {list(parents[has][found < 0][:5])}"
            )
        parent[has] = found
    if (parent == np.arange(len(codes))).any():
        raise ValueError("a unit cannot be its own parent")
    depth = _depths(parent)
    order = np.argsort(depth, kind="stable")
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    new_parent = np.where(parent[order] >= 0, position[parent[order]], -1)
    questions, categories = [], []
    for q, cats in (breakdowns or {}).items():
        _check_code(str(q), "question", "|=")
        keys = tuple(_key(c) for c in cats)
        for c in keys:
            _check_code(c, "category", "|")
        if not keys or len(set(keys)) != len(keys):
            raise ValueError(f"question {q!r} needs a non-empty list of distinct categories")
        if len(keys) > MAX_CATEGORIES:
            raise ValueError(f"question {q!r} has more than {MAX_CATEGORIES} categories")
        questions.append(str(q))
        categories.append(keys)
    return Structure(
        units=tuple(codes[i] for i in order),
        parent=new_parent,
        questions=tuple(questions),
        categories=tuple(categories),
    )


@dataclass(frozen=True, eq=False)
class AtomCounts:
    """Respondents per atom for one pass (group level, or one question's ``n_q``).

    Build it with :func:`count_atoms`.

    Attributes
    ----------
    structure : Structure
        The structure the counts belong to.
    atoms : pandas.DataFrame
        Non-empty atoms: ``unit`` (position), one integer column per question (the category's
        position, or the number of categories for ``rest``), and ``n``.
    own : numpy.ndarray
        Respondents directly at each unit.
    tables : tuple of numpy.ndarray
        Per question, a (units × categories + 1) array of respondents directly at each unit by
        answer; the last column is ``rest``.
    """

    structure: Structure
    atoms: pd.DataFrame
    own: np.ndarray
    tables: tuple[np.ndarray, ...]


def count_atoms(
    structure: Structure, data: pd.DataFrame, *, count: str | None = None
) -> AtomCounts:
    """Count respondents per atom.

    Parameters
    ----------
    structure : Structure
    data : pandas.DataFrame
        One row per respondent (or per pre-aggregated atom when ``count`` is given), with columns
        ``unit`` and one per background question of ``structure``; missing = no answer.
    count : str, optional
        Column with the number of respondents of each row (non-negative whole numbers).

    Returns
    -------
    AtomCounts

    Examples
    --------
    >>> tree = pd.DataFrame({"unit": ["R", "A"], "parent": [None, "R"]})
    >>> s = build_structure(tree, {"gender": ["w", "m"]})
    >>> data = pd.DataFrame({"unit": ["A", "A", "R"], "gender": ["w", None, "m"]})
    >>> c = count_atoms(s, data)
    >>> c.own.tolist(), c.tables[0].tolist()
    ([1, 2], [[0, 1, 0], [1, 0, 1]])
    """
    unit, codes, n = _row_codes(structure, data, count)
    return _count(structure, unit, codes, n)


def _row_codes(
    structure: Structure, data: pd.DataFrame, count: str | None
) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """Each row's unit position, category positions (``rest``: the number of categories) and
    count, checked."""
    needed = ["unit", *structure.questions] + ([count] if count is not None else [])
    if not isinstance(data, pd.DataFrame) or any(c not in data.columns for c in needed):
        raise ValueError(f"data must be a DataFrame with columns {needed}")
    unit, missing = _positions(data["unit"], structure.units)
    if missing.any():
        raise ValueError("data.unit must not be missing")
    if (unit < 0).any():
        unknown = pd.unique(data["unit"].to_numpy()[unit < 0])[:5].tolist()
        raise ValueError(f"data has units that are not in the structure: {unknown}")
    if count is None:
        n = np.ones(len(data), dtype=np.int64)
    else:
        values = pd.to_numeric(data[count], errors="coerce").to_numpy(dtype=float)
        if np.isnan(values).any() or (values < 0).any() or (values != np.floor(values)).any():
            raise ValueError(f"data.{count} must hold non-negative whole numbers")
        n = values.astype(np.int64)
    codes = []
    for q, cats in zip(structure.questions, structure.categories, strict=True):
        col, _ = _positions(data[q], cats)
        codes.append(np.where(col < 0, len(cats), col).astype(np.int64))
    return unit, codes, n


def _count(
    structure: Structure, unit: np.ndarray, codes: list[np.ndarray], n: np.ndarray
) -> AtomCounts:
    nu = structure.n_units
    own = np.bincount(unit, weights=n, minlength=nu).astype(np.int64)
    tables = []
    for code, cats in zip(codes, structure.categories, strict=True):
        width = len(cats) + 1
        flat = np.bincount(unit * width + code, weights=n, minlength=nu * width)
        tables.append(flat.astype(np.int64).reshape(nu, width))
    return AtomCounts(structure, _atom_frame(structure, unit, codes, n), own, tuple(tables))


def _atom_keys(structure: Structure, unit: np.ndarray, codes: list[np.ndarray]) -> np.ndarray:
    key = unit.copy()
    for code, cats in zip(codes, structure.categories, strict=True):
        key = key * (len(cats) + 1) + code
    return key


def _split_keys(structure: Structure, keys: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Unit and category positions of atom keys (:func:`_atom_keys`)."""
    codes: list[np.ndarray] = []
    rest = keys
    for cats in reversed(structure.categories):
        codes.insert(0, rest % (len(cats) + 1))
        rest = rest // (len(cats) + 1)
    return rest, codes


def _atom_frame(
    structure: Structure, unit: np.ndarray, codes: list[np.ndarray], n: np.ndarray
) -> pd.DataFrame:
    uniq, inverse = np.unique(_atom_keys(structure, unit, codes), return_inverse=True)
    total = np.bincount(inverse, weights=n).astype(np.int64)
    unit_of, codes_of = _split_keys(structure, uniq)
    frame = pd.DataFrame(
        {"unit": unit_of, **dict(zip(structure.questions, codes_of, strict=True)), "n": total}
    )
    return frame.loc[frame["n"] > 0].reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class Atoms:
    """Which atom each respondent of a frame falls in, found once so that the passes of a
    round count subsets of them (:meth:`count`) without reading the frame again.

    Build it with :func:`find_atoms`.
    """

    structure: Structure
    of_row: np.ndarray  # each row's atom
    unit: np.ndarray  # each atom's unit position
    codes: tuple[np.ndarray, ...]  # each atom's category position per question

    def count(self, rows: np.ndarray | None = None) -> AtomCounts:
        """What :func:`count_atoms` returns for the frame's rows at positions ``rows``
        (every row when None).

        Examples
        --------
        >>> tree = pd.DataFrame({"unit": ["R", "A"], "parent": [None, "R"]})
        >>> s = build_structure(tree, {"gender": ["w", "m"]})
        >>> data = pd.DataFrame({"unit": ["A", "A", "R"], "gender": ["w", None, "m"]})
        >>> find_atoms(s, data).count(np.array([0, 2])).tables[0].tolist()
        [[0, 1, 0], [1, 0, 0]]
        """
        return _count(self.structure, self.unit, list(self.codes), self.sizes(rows))

    def sizes(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Respondents per atom among the rows ``rows`` (every row when None): two subsets
        with equal sizes have equal counts, and so equal suppression patterns."""
        chosen = self.of_row if rows is None else self.of_row[rows]
        return np.bincount(chosen, minlength=len(self.unit))


def find_atoms(structure: Structure, data: pd.DataFrame) -> Atoms:
    """Each respondent's atom (``data`` as for :func:`count_atoms`, one row per respondent)."""
    unit, codes, _ = _row_codes(structure, data, None)
    keys, of_row = np.unique(_atom_keys(structure, unit, codes), return_inverse=True)
    atom_unit, atom_codes = _split_keys(structure, keys)
    return Atoms(structure, of_row.astype(np.int64), atom_unit, tuple(atom_codes))


def group_counts(structure: Structure, counts: AtomCounts) -> np.ndarray:
    """Respondents in every group of ``structure.groups`` (publishable groups, then remainders).

    Examples
    --------
    >>> tree = pd.DataFrame({"unit": ["R", "A"], "parent": [None, "R"]})
    >>> s = build_structure(tree, {"gender": ["w", "m"]})
    >>> c = count_atoms(s, pd.DataFrame({"unit": ["A", "A", "R"], "gender": ["w", None, "m"]}))
    >>> dict(zip(s.groups["group"], group_counts(s, c).tolist()))["rest:R|gender"]
    1
    """
    if counts.structure is not structure:
        raise ValueError("counts were made for another structure")
    sub = structure.subtree
    parts = [np.rint(sub @ counts.own)]
    for table in counts.tables:
        parts.append(np.rint(sub @ table[:, :-1]).ravel())
    parts.append(counts.own[structure.has_children].astype(float))
    for table in counts.tables:
        parts.append(np.rint(sub @ table[:, -1]))
    return np.concatenate(parts).astype(np.int64)
