"""Proof by audit: nothing below k can be derived from what is published.

Attacker model
--------------
The attacker knows every published count, knows that every unit with n = 0 is empty, and that
counts are non-negative. *Atoms* (a unit's own level × one answer to every background question,
"rest" included) are otherwise unknown. A set S of atoms is *derived* when these facts pin
n(S) to one value: its indicator lies in the row space of the published groups' incidence
matrix, after removing the atoms the facts force to zero (the affine hull of the non-negative
solutions). A *finding* is a derived S with 1 ≤ n(S) ≤ k − 1. If some derived S is a finding,
so is a minimal derived set inside it (both parts of a split hold at most n(S)), so it is enough
to know the smallest non-empty derived set.

Two audits compute it. :func:`analysis.disclosure.exact.exact_audit` does so literally for small
structures (rank tests and a MILP over the atoms). The fast audit here exploits the structure:

1. *Laminar tree.* The published units form a laminar family; its row space is spanned by the
   disjoint *blocks* (a published unit minus its maximal published descendants), so the
   derived sets of the unit tree are exactly unions of blocks.
2. *One question × the tree* is a two-dimensional hierarchical table. With sinks = unit blocks,
   sources = category column blocks (+ one node G for the unanswered rest), a linear
   combination of published groups is a potential on the nodes and gives each cell
   ``potential(source) − potential(sink)``; a 0/1 combination is a *directed cut*
   (:mod:`analysis.disclosure.tables`). Forced zeros are the zero edges of zero-weight cuts
   (found with strongly connected components) and are deleted; then every non-empty cut holds at
   least one respondent, and :func:`analysis.disclosure.dicut.min_dicut` finds the lightest
   one exactly by a dynamic programme over the unit tree.
3. *Several questions* share only the unit totals. Under the breakdown rule (a published
   category group's unit is published) all own levels of a unit block share the same column
   blocks, and within one own level the atoms form a full grid of the questions' answers. A
   function ``Σ_q f_q(answer_q) − g`` that is 0/1 on such a grid can vary with at most one
   question, so every derived set splits, block by block, into sets derived within single
   question tables (and the same holds after forced zeros, which remove whole answer slices).
   Hence the smallest derived set of the whole round is the smallest over the tables.

What it does not cover, and why that is still sound:

- *Integrality.* "Derived" means pinned by linear equations and non-negativity; an attacker who
  also uses whole numbers can at most narrow intervals, which the threshold rule (no set of
  1..k − 1 pinned) does not promise to keep wide. Tau-Argus style intervals are available for
  small structures (:func:`analysis.disclosure.exact.protection_intervals`).
- *Outside knowledge* (a respondent who knows they are the only man in a unit) is what k
  itself is for; the audit only proves that the published figures add nothing below k.
- *Across measures* only the counts relate (n at group level, n_q per question): they show how
  many skipped a question, never what anyone answered; and every question's pattern keeps the
  group-level hidden groups hidden.
- *The breakdown rule.* Without it, derived sets can mix questions unit by unit, so a pattern
  that breaks it is audited by the exact method (``method="auto"``) or rejected
  (``method="fast"``). The engine never produces such a pattern.

The property tests compare the fast audit's smallest derived count with the exact MILP's on
random trees, breakdowns and patterns (engine output, primary suppression only, random).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.disclosure.dicut import min_dicut, relation
from analysis.disclosure.exact import exact_audit
from analysis.disclosure.findings import AuditResult, findings_frame
from analysis.disclosure.inputs import as_counts, check_k, published_mask
from analysis.disclosure.local import LocalChecks
from analysis.disclosure.structure import AtomCounts, Structure, group_counts
from analysis.disclosure.tables import Table, breakdown_rule_violations, build_table, take

__all__ = ["audit"]


def finding_row(
    structure: Structure,
    table: Table,
    cut: tuple[np.ndarray, np.ndarray, bool],
    kind: str,
    n: float,
) -> dict[str, object]:
    """Describe a derived set of a table (one row of the findings frame)."""
    groups, coefs, _ = relation(table, *cut)
    ids = structure.groups["group"].to_numpy()
    order = np.argsort(groups)
    expression = " ".join(f"{'+' if coefs[i] > 0 else '-'}{ids[groups[i]]}" for i in order)
    sink_in, src_in, g_in = cut
    from_x = np.where(table.source >= 0, take(src_in, table.source), g_in)
    edges = table.present & from_x & ~sink_in[:, None] & (table.weight > 0)
    question = None if table.q < 0 else structure.questions[table.q]
    labels = [*structure.categories[table.q], "(rest)"] if table.q >= 0 else [""]
    cells = []
    for t, c in zip(*np.nonzero(edges), strict=True):
        where = structure.units[table.sink_unit[t]]
        if question is not None:
            where += f"|{question}={labels[c]}"
        cells.append(f"{where}: {int(table.weight[t, c])}")
    return {
        "question": question,
        "relation": kind,
        "n": round(n),
        "expression": expression,
        "cells": "; ".join(cells),
    }


def _fast(structure: Structure, counts: AtomCounts, mask: np.ndarray, k: int) -> AuditResult:
    n = group_counts(structure, counts)
    rows: list[dict[str, object]] = []
    best: float | None = None
    for i, q in enumerate(range(len(structure.questions)) or [-1]):
        table = build_table(structure, counts, q, mask, n[: structure.n_units])
        checks = LocalChecks(structure, table)
        for v in checks.violations(k, blocks=i == 0):
            row = finding_row(structure, table, checks.cut(v), v.kind, v.n)
            if v.kind == "block":
                row["question"] = None
            rows.append(row)
        weight, cut = min_dicut(table, below=k)
        if weight is not None:
            best = weight if best is None else min(best, weight)
        if cut is not None:
            rows.append(
                finding_row(
                    structure, table, (cut.sink_in, cut.src_in, cut.g_in), "cut", cut.weight
                )
            )
    min_n = None if best is None else round(best)
    return AuditResult(findings_frame(rows), min_n, "fast")


def audit(
    structure: Structure,
    counts: AtomCounts | pd.DataFrame,
    published: object,
    k: int,
    *,
    method: str = "auto",
    max_atoms: int = 20_000,
) -> AuditResult:
    """Prove that no set of fewer than k (and more than 0) respondents can be derived.

    Parameters
    ----------
    structure : Structure
    counts : AtomCounts or pandas.DataFrame
        The counts of this pass.
    published : pandas.DataFrame, iterable of str or numpy.ndarray
        The pattern: a :func:`suppress` result, published group ids, or a boolean mask.
    k : int
        Minimum group size.
    method : {"auto", "fast", "exact"}
        ``fast`` needs the breakdown rule (a published category group's unit is published) and
        raises ``ValueError`` without it; ``auto`` then falls back to ``exact``, which enumerates
        atoms and refuses structures with more than ``max_atoms`` of them.

    Returns
    -------
    AuditResult

    Examples
    --------
    >>> from analysis.disclosure import build_structure, suppress
    >>> tree = pd.DataFrame({"unit": ["R", "A", "B"], "parent": [None, "R", "R"]})
    >>> s = build_structure(tree)
    >>> data = pd.DataFrame({"unit": ["A"] * 3 + ["B"] * 6})
    >>> audit(s, data, ["u:R", "u:B"], k=5).findings[["relation", "n", "expression"]]
      relation  n expression
    0    block  3  +u:R -u:B
    >>> audit(s, data, suppress(s, data, k=5), k=5).safe
    True
    """
    counts = as_counts(structure, counts)
    k = check_k(k)
    if method not in {"auto", "fast", "exact"}:
        raise ValueError(f"method must be auto, fast or exact, got {method!r}")
    mask = published_mask(structure, published)
    if method == "fast" and breakdown_rule_violations(structure, mask).size:
        raise ValueError(
            "the fast audit needs every published category group's unit to be published; "
            "use method='exact' for small structures"
        )
    if method == "exact" or breakdown_rule_violations(structure, mask).size:
        return exact_audit(structure, counts, mask, k, max_atoms=max_atoms)
    return _fast(structure, counts, mask, k)
