"""The general exact audit for small structures: rank tests and a MILP over the atoms.

It makes no use of the tree: every atom (a unit's own level × one answer to every background
question, "rest" included, whether anybody is in it or not) is a column, every published group
a row of 0/1 incidence, and every unit with n = 0 a further row with value 0 (an attacker may
know a unit is empty). Then

1. atoms in no known row can never be derived and are dropped; atoms with identical columns can
   never be told apart and are merged (their counts add up);
2. atoms forced to zero by the published counts and non-negativity are found with one LP: the
   largest number of atoms that can be positive at once (``max Σ y, y_j ≤ x_j, y ≤ 1`` over
   the cone ``A x = b t``); those that cannot are zero in every solution and are removed;
3. a group's or set's count is derived iff its indicator on the remaining atoms lies in the
   row space of the remaining incidence (a least-squares residual below a tolerance — exact for
   these small 0/1 matrices);
4. a MILP (:func:`scipy.optimize.milp`, HiGHS) searches for the smallest derived 0/1 set with
   at least one respondent: binary ``s`` per atom, free multipliers ``λ`` per known row,
   ``s = Aᵀ λ``, ``n·s ≥ 1``, minimise ``n·s``.

The number of atoms is units × Π(categories + 1), so this is for tests and small units only;
:func:`analysis.disclosure.audit.audit` is the fast audit for a whole organisation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from analysis.disclosure.findings import AuditResult, findings_frame
from analysis.disclosure.inputs import as_counts, published_mask
from analysis.disclosure.structure import AtomCounts, Structure, group_counts

__all__ = ["exact_audit", "incidence", "protection_intervals"]

_TOL = 1e-7


def _atom_codes(structure: Structure) -> tuple[np.ndarray, np.ndarray]:
    """Unit and answer codes of every atom, in the key order of ``AtomCounts.atoms``."""
    widths = [len(c) + 1 for c in structure.categories]
    total = structure.n_units * int(np.prod(widths, dtype=np.int64))
    key = np.arange(total)
    codes = np.zeros((total, len(widths)), dtype=np.int64)
    for q in range(len(widths) - 1, -1, -1):
        codes[:, q] = key % widths[q]
        key = key // widths[q]
    return key, codes


def _n_atoms(structure: Structure) -> int:
    return structure.n_units * int(np.prod([len(c) + 1 for c in structure.categories]))


def incidence(structure: Structure, *, max_atoms: int = 20_000) -> np.ndarray:
    """The (groups × atoms) 0/1 incidence matrix, rows in the order of ``structure.groups``.

    Atoms are numbered unit-major, then by the answer to each question in turn (the category's
    position, or the number of categories for "rest"). ``ValueError`` beyond ``max_atoms``.

    Examples
    --------
    >>> from analysis.disclosure import build_structure
    >>> s = build_structure(pd.DataFrame({"unit": ["R", "A"], "parent": [None, "R"]}), {"g": ["x"]})
    >>> incidence(s).astype(int)[:3]
    array([[1, 1, 1, 1],
           [0, 0, 1, 1],
           [1, 0, 1, 0]])
    """
    _check_size(structure, max_atoms)
    unit, codes = _atom_codes(structure)
    below = structure.subtree.toarray().astype(bool)[:, unit]
    rows = [below]
    for q, cats in enumerate(structure.categories):
        for u in range(structure.n_units):
            rows.extend(below[u] & (codes[:, q] == c) for c in range(len(cats)))
    inner = np.flatnonzero(structure.has_children)
    rows.extend(unit == u for u in inner)
    for q, cats in enumerate(structure.categories):
        rows.extend(below[u] & (codes[:, q] == len(cats)) for u in range(structure.n_units))
    return np.vstack([np.atleast_2d(r) for r in rows])


def _atom_counts(structure: Structure, counts: AtomCounts) -> np.ndarray:
    key = counts.atoms["unit"].to_numpy(dtype=np.int64)
    for q, cats in zip(structure.questions, structure.categories, strict=True):
        key = key * (len(cats) + 1) + counts.atoms[q].to_numpy(dtype=np.int64)
    return np.bincount(key, weights=counts.atoms["n"], minlength=_n_atoms(structure))


@dataclass(frozen=True, eq=False)
class _Reduced:
    """The attacker's system after dropping, merging and removing forced zeros."""

    matrix: np.ndarray
    counts: np.ndarray
    member: np.ndarray
    forced: np.ndarray

    @property
    def free(self) -> np.ndarray:
        return self.matrix[:, ~self.forced]


def _reduce(known: np.ndarray, counts: np.ndarray) -> _Reduced:
    used = known.any(axis=0)
    member = np.full(known.shape[1], -1, dtype=np.int64)
    if not used.any():
        empty = np.zeros((known.shape[0], 0))
        return _Reduced(empty, np.zeros(0), member, np.zeros(0, dtype=bool))
    columns, inverse = np.unique(known[:, used].T, axis=0, return_inverse=True)
    member[used] = inverse.ravel()
    matrix = columns.T.astype(float)
    merged = np.bincount(inverse.ravel(), weights=counts[used], minlength=matrix.shape[1])
    return _Reduced(matrix, merged, member, _forced_zero(matrix, matrix @ merged))


def _forced_zero(matrix: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Atoms that are zero in every non-negative solution of ``matrix @ x = values``."""
    rows, m = matrix.shape
    eye = sparse.identity(m, format="csr")
    a_eq = sparse.hstack(
        [sparse.csr_matrix(matrix), -values[:, None], sparse.csr_matrix((rows, m))]
    )
    a_ub = sparse.hstack([-eye, sparse.csr_matrix((m, 1)), eye])
    cost = np.concatenate([np.zeros(m + 1), -np.ones(m)])
    bounds = [(0, None)] * (m + 1) + [(0, 1)] * m
    res = linprog(cost, A_ub=a_ub, b_ub=np.zeros(m), A_eq=a_eq, b_eq=np.zeros(rows), bounds=bounds)
    if res.status != 0:
        raise RuntimeError(f"forced-zero LP failed: {res.message}")  # pragma: no cover
    return np.asarray(res.x[m + 1 :] < 0.5)


def _in_row_space(matrix: np.ndarray, target: np.ndarray) -> np.ndarray | None:
    """Multipliers λ with ``matrixᵀ λ = target``, or None if there are none."""
    if not target.any():
        return np.zeros(matrix.shape[0])
    lam, *_ = np.linalg.lstsq(matrix.T, target, rcond=None)
    if np.abs(matrix.T @ lam - target).max() > _TOL * max(1.0, np.abs(lam).max()):
        return None
    return np.asarray(lam)


def _group_target(red: _Reduced, row: np.ndarray) -> np.ndarray | None:
    """A group's indicator on the free merged atoms, or None if it cuts through a merged atom."""
    if (red.member[row] < 0).any():
        return None
    m = red.matrix.shape[1]
    hit = np.bincount(red.member[row], minlength=m)
    size = np.bincount(red.member[red.member >= 0], minlength=m)
    if ((hit > 0) & (hit < size)).any():
        return None
    return (hit > 0)[~red.forced].astype(float)


def _smallest_set(red: _Reduced) -> tuple[float, np.ndarray, np.ndarray] | None:
    """The smallest derived set with n ≥ 1 (count, 0/1 over free atoms, λ), or None."""
    free = red.free
    n = red.counts[~red.forced]
    rows, m = free.shape
    if m == 0 or n.sum() < 1:
        return None
    a = np.hstack([np.eye(m), -free.T])
    nrow = np.concatenate([n, np.zeros(rows)])[None, :]
    res = milp(
        np.concatenate([n, np.zeros(rows)]),
        constraints=[LinearConstraint(a, 0, 0), LinearConstraint(nrow, 1, np.inf)],
        integrality=np.concatenate([np.ones(m), np.zeros(rows)]),
        bounds=Bounds(
            np.concatenate([np.zeros(m), np.full(rows, -np.inf)]),
            np.concatenate([np.ones(m), np.full(rows, np.inf)]),
        ),
    )
    if res.status == 2:
        return None
    if res.status != 0:
        raise RuntimeError(f"MILP failed: {res.message}")  # pragma: no cover
    chosen = res.x[:m] > 0.5
    lam = _in_row_space(free, chosen.astype(float))
    if lam is None:
        raise RuntimeError("MILP returned a set outside the row space")  # pragma: no cover
    return float(n[chosen].sum()), chosen, lam


def _sparse_multipliers(matrix: np.ndarray, target: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """The multipliers with the least total size (an LP), so the expression stays readable."""
    r = matrix.shape[0]
    res = linprog(
        np.ones(2 * r), A_eq=np.hstack([matrix.T, -matrix.T]), b_eq=target, bounds=(0, None)
    )
    return np.asarray(res.x[:r] - res.x[r:]) if res.status == 0 else lam


def _expression(ids: np.ndarray, lam: np.ndarray) -> str:
    terms = []
    for gid, c in zip(ids, np.round(lam, 6), strict=True):
        if abs(c) < 1e-6:
            continue
        size = "" if abs(abs(c) - 1) < 1e-6 else f"{abs(c):g}·"
        terms.append(f"{'+' if c > 0 else '-'}{size}{gid}")
    return " ".join(terms)


def _atom_label(structure: Structure, atom: int) -> str:
    unit, codes = _atom_codes_of(structure, atom)
    parts = [structure.units[unit]]
    for q, cats, code in zip(structure.questions, structure.categories, codes, strict=True):
        parts.append(f"{q}={cats[code] if code < len(cats) else '(rest)'}")
    return "|".join(parts)


def _atom_codes_of(structure: Structure, atom: int) -> tuple[int, list[int]]:
    codes = []
    for cats in reversed(structure.categories):
        codes.append(atom % (len(cats) + 1))
        atom //= len(cats) + 1
    return atom, codes[::-1]


def _check_size(structure: Structure, max_atoms: int) -> None:
    if _n_atoms(structure) > max_atoms:
        raise ValueError(
            f"the exact audit enumerates {_n_atoms(structure)} atoms (> max_atoms={max_atoms})"
        )


def _system(
    structure: Structure, counts: AtomCounts, mask: np.ndarray, max_atoms: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    inc = incidence(structure, max_atoms=max_atoms)
    n = group_counts(structure, counts)
    known = np.zeros(len(inc), dtype=bool)
    known[: structure.n_publishable] = mask
    known[: structure.n_units] |= n[: structure.n_units] == 0
    return inc, known, n, _atom_counts(structure, counts)


def exact_audit(
    structure: Structure,
    counts: AtomCounts | pd.DataFrame,
    published: object,
    k: int,
    *,
    max_atoms: int = 20_000,
) -> AuditResult:
    """Audit a pattern by linear algebra and a MILP over all atoms (small structures only).

    Findings: every hidden group (remainders included) whose count is derived and lies between 1
    and k − 1 (``relation="group"``), and the smallest derived atom set if it holds fewer than
    k (``relation="set"``). ``min_n`` is the smallest positive derived count, to compare with
    the fast audit. Arguments as for :func:`analysis.disclosure.audit`.

    Examples
    --------
    >>> from analysis.disclosure import build_structure
    >>> tree = pd.DataFrame({"unit": ["R", "A", "B"], "parent": [None, "R", "R"]})
    >>> s = build_structure(tree, {"gender": ["w"]})
    >>> data = pd.DataFrame({"unit": ["A"] * 6 + ["B"] * 6, "gender": ["w"] * 11 + [None]})
    >>> result = exact_audit(s, data, ["u:R", "u:A", "u:B", "u:R|gender=w"], k=5)
    >>> result.findings.loc[0, "expression"], int(result.findings.loc[0, "n"])
    ('+u:R -u:R|gender=w', 1)
    """
    counts = as_counts(structure, counts)
    mask = published_mask(structure, published)
    inc, known, n, atom_n = _system(structure, counts, mask, max_atoms)
    red = _reduce(inc[known], atom_n)
    ids = structure.groups["group"].to_numpy()
    known_ids = ids[known]
    free = red.free
    rows: list[dict[str, object]] = []
    hidden = np.flatnonzero(~np.concatenate([mask, np.zeros(len(inc) - len(mask), dtype=bool)]))
    for g in hidden:
        if not 1 <= n[g] < k or known[g]:
            continue
        target = _group_target(red, inc[g])
        lam = None if target is None else _in_row_space(free, target)
        if lam is not None and target is not None:
            lam = _sparse_multipliers(free, target, lam)
            rows.append(_row("group", int(n[g]), _expression(known_ids, lam), str(ids[g])))
    best = _smallest_set(red)
    min_n = None if best is None else round(best[0])
    if best is not None and best[0] < k:
        merged = np.flatnonzero(~red.forced)[best[1]]
        atoms = np.flatnonzero(np.isin(red.member, merged) & (atom_n > 0))
        cells = "; ".join(f"{_atom_label(structure, a)}: {int(atom_n[a])}" for a in atoms[:30])
        lam = _sparse_multipliers(free, best[1].astype(float), best[2])
        rows.append(_row("set", round(best[0]), _expression(known_ids, lam), cells))
    return AuditResult(findings_frame(rows), min_n, "exact")


def _row(relation: str, n: int, expression: str, cells: str) -> dict[str, object]:
    return {
        "question": None,
        "relation": relation,
        "n": n,
        "expression": expression,
        "cells": cells,
    }


def protection_intervals(
    structure: Structure,
    counts: AtomCounts | pd.DataFrame,
    published: object,
    *,
    groups: list[str] | None = None,
    max_atoms: int = 20_000,
) -> pd.DataFrame:
    """Tau-Argus style intervals: the least and most a hidden group can hold, given what is shown.

    Two LPs per group over the atoms (non-negative counts, published counts and empty units
    known). A group is protected when its interval is wider than a point; a group that cuts
    through atoms the attacker cannot tell apart gets the loosest bounds (sum of atoms wholly
    inside; sum of atoms it touches). For small structures only (the suppression log).

    Parameters
    ----------
    groups : list of str, optional
        Group ids; default every hidden publishable group with n > 0.

    Returns
    -------
    pandas.DataFrame
        Columns ``group, n, lower, upper`` (``upper`` is infinite when the group reaches atoms
        that no published group covers).
    """
    counts = as_counts(structure, counts)
    mask = published_mask(structure, published)
    inc, known, n, atom_n = _system(structure, counts, mask, max_atoms)
    ids = structure.groups["group"].to_numpy()
    if groups is None:
        pos = np.flatnonzero(~mask & (n[: structure.n_publishable] > 0))
    else:
        pos = structure.group_positions(groups)
    red = _reduce(inc[known], atom_n)
    m = red.matrix.shape[1]
    values = red.matrix @ red.counts
    out = []
    for g in pos:
        row = inc[g]
        hit = np.bincount(red.member[row & (red.member >= 0)], minlength=m)
        size = np.bincount(red.member[red.member >= 0], minlength=m)
        lower = _optimum(red.matrix, values, (hit == size) & (hit > 0), 1.0)
        upper = (
            np.inf if (red.member[row] < 0).any() else _optimum(red.matrix, values, hit > 0, -1.0)
        )
        out.append({"group": ids[g], "n": int(n[g]), "lower": lower, "upper": upper})
    return pd.DataFrame(out, columns=["group", "n", "lower", "upper"])


def _optimum(matrix: np.ndarray, values: np.ndarray, target: np.ndarray, sense: float) -> float:
    if not target.any():
        return 0.0
    res = linprog(sense * target.astype(float), A_eq=matrix, b_eq=values, bounds=(0, None))
    if res.status != 0:
        raise RuntimeError(f"interval LP failed: {res.message}")  # pragma: no cover
    return float(sense * res.fun)
