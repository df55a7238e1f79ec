"""Primary and complementary suppression: one pattern per round and measure.

Heuristic
---------
1. *Primary*: hide every group with 0 < n < k (rule ``primary``) and every empty group
   (``empty``; an empty group never protects anything, and an attacker may know a unit is
   empty, so the audit treats empty units as known). Groups hidden by the group-level pattern
   stay hidden in every question's pattern (``inherited``). Remainders (``own:``, ``rest:``) are
   never published (``remainder``).
2. *Breakdown rule*: a hidden unit's category groups are hidden too (``secondary``). Besides
   being what a reader expects, it is what makes the audit exact table by table (see
   :mod:`analysis.disclosure.audit`).
3. *Local relations*, all nodes at once (:mod:`analysis.disclosure.local`): a unit minus its
   published sub-units (``block``), a category minus the same category in the sub-units
   (``column``), a unit minus its published categories (``row``), a subtree minus its
   categories and its fully published sub-units (``region``), the units sharing one hidden
   cell's column block (``shared``). Each violated relation
   (1 ≤ derived n ≤ k − 1) is written as a signed sum of published groups; the candidates
   are those groups, and hiding one merges it into its parent. A candidate's *gain* is the
   count that then joins the derived set; candidates that gain nothing (an empty sibling, a
   sibling whose respondents all sit in published sub-units) are used only as a last resort.
   The cheapest plan is taken: either the smallest siblings (by n, so the least information
   is lost) until their gains cover the deficit k − n, or a single group — often the total —
   that covers it alone with a smaller n. Violations are fixed smallest first; one whose
   relation uses a group hidden earlier in the same batch waits for the next round.
4. *Everything else*: when no local relation is violated, the exact minimum derived set of
   each table (:func:`analysis.disclosure.dicut.min_dicut`) is computed; if it holds fewer
   than k, it is fixed the same way and the loop returns to 3.

The loop ends when every table's minimum derived set is empty or holds at least k, which is
exactly what :func:`analysis.disclosure.audit.audit` certifies; the result is therefore
safe by construction, and each step hides at least one more group, so it terminates. Only
tables touched by the last change are re-checked (a unit change touches all of them).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from analysis.disclosure.dicut import min_dicut, relation
from analysis.disclosure.findings import AuditResult, findings_frame
from analysis.disclosure.inputs import as_counts, check_k, hidden_positions
from analysis.disclosure.local import LocalChecks, Violation
from analysis.disclosure.structure import AtomCounts, Structure, group_counts
from analysis.disclosure.tables import Table, build_table

__all__ = ["RESULT_COLUMNS", "RULES", "protect", "suppress"]

RULES = ("primary", "secondary", "remainder", "inherited", "empty")
"""Why a group is hidden (the ``rule`` column)."""

RESULT_COLUMNS = ("group", "kind", "unit", "question", "category", "n", "published", "rule")
"""Columns of the frame :func:`suppress` returns."""


def _plan(groups: np.ndarray, n: np.ndarray, gains: np.ndarray, deficit: float) -> list[int]:
    """Groups to hide for one violated relation (see the module docstring)."""
    order = np.lexsort((groups, -np.minimum(gains, 1e18), n))
    useful = [i for i in order if gains[i] > 0]
    if not useful:
        return [int(groups[order[0]])]
    singles = [i for i in useful if gains[i] >= deficit]
    chosen: list[int] = []
    total = 0.0
    for i in useful:
        chosen.append(i)
        total += gains[i]
        if total >= deficit:
            break
    if total < deficit:
        best = max(useful, key=lambda i: (gains[i], -n[i], -groups[i]))
        return [int(groups[best])]
    if singles and n[singles[0]] <= n[chosen].sum():
        return [int(groups[singles[0]])]
    return [int(groups[i]) for i in chosen]


class _Engine:
    def __init__(
        self, structure: Structure, counts: AtomCounts, n: np.ndarray, k: int, rule: np.ndarray
    ) -> None:
        self.structure, self.counts, self.k = structure, counts, k
        self.n = n[: structure.n_publishable].astype(float)
        self.unit_n = n[: structure.n_units]
        self.rule = rule
        self.hidden = rule != ""
        self.tables = list(range(len(structure.questions))) or [-1]
        self.certified: set[int] = set()
        self.smallest: dict[int, float | None] = {}

    def hide(self, groups: Iterable[int]) -> set[int]:
        """Hide groups (and a hidden unit's category groups); return what was newly hidden."""
        s = self.structure
        new = {int(g) for g in groups if not self.hidden[g]}
        for g in sorted(new):
            if g < s.n_units:
                for q in range(len(s.questions)):
                    width = len(s.categories[q])
                    start = s.offsets[q] + g * width
                    new.update(i for i in range(start, start + width) if not self.hidden[i])
        for g in new:
            self.hidden[g] = True
            self.rule[g] = "secondary"
            if g < s.n_units:
                self.certified.clear()
            else:
                self.certified.discard(int(np.searchsorted(s.offsets, g, side="right")) - 1)
        return new

    def close_breakdowns(self) -> None:
        """Hide the category groups of hidden units (the breakdown rule)."""
        s = self.structure
        for q, cats in enumerate(s.categories):
            sl = s.category_slice(q)
            block = self.hidden[sl].reshape(s.n_units, len(cats))
            block |= self.hidden[: s.n_units, None]
            rules = self.rule[sl]
            rules[(rules == "") & block.ravel()] = "secondary"
            self.rule[sl] = rules
            self.hidden[sl] = block.ravel()

    def table(self, q: int) -> Table:
        return build_table(self.structure, self.counts, q, ~self.hidden, self.unit_n)

    def fix(self, relation_: tuple[np.ndarray, np.ndarray, np.ndarray], n: float) -> set[int]:
        groups, _, gains = relation_
        open_ = ~self.hidden[groups]
        if not open_.any():
            raise RuntimeError("a derivable set uses no published group")  # pragma: no cover
        groups, gains = groups[open_], gains[open_]
        return self.hide(_plan(groups, self.n[groups], gains, self.k - n))

    def fix_local(self, checks: LocalChecks, violations: list[Violation]) -> None:
        touched: set[int] = set()
        for v in violations:
            rel = relation(checks.table, *checks.cut(v))
            if touched.intersection(rel[0].tolist()):
                continue
            touched |= self.fix(rel, v.n)

    def run(self) -> None:
        while len(self.certified) < len(self.tables):
            for q in self.tables:
                if q in self.certified:
                    continue
                table = self.table(q)
                checks = LocalChecks(self.structure, table)
                while violations := checks.violations(self.k):
                    self.fix_local(checks, violations)
                    table = self.table(q)
                    checks = LocalChecks(self.structure, table)
                weight, cut = min_dicut(table, below=self.k)
                if cut is not None:
                    self.fix(relation(table, cut.sink_in, cut.src_in, cut.g_in), cut.weight)
                    continue
                self.certified.add(q)
                self.smallest[q] = weight


def suppress(
    structure: Structure,
    counts: AtomCounts | pd.DataFrame,
    k: int,
    *,
    initially_hidden: object = None,
) -> pd.DataFrame:
    """The suppression pattern of one pass: which groups are published, and why the others are not.

    Parameters
    ----------
    structure : Structure
        From :func:`build_structure`; the same for every pass of a round.
    counts : AtomCounts or pandas.DataFrame
        Respondents per atom for this pass (:func:`count_atoms`), e.g. everyone for the group
        level or those who answered question q for q's pass; a frame is counted on the fly.
    k : int
        Minimum group size of this pass (the round's k, or a sensitive question's higher one).
    initially_hidden : iterable of str, pandas.DataFrame or numpy.ndarray of bool, optional
        Groups that must stay hidden, e.g. the group-level result (hidden = not published), or
        a mask over the publishable groups; they get rule ``inherited`` unless they are empty or
        below k here.

    Returns
    -------
    pandas.DataFrame
        Every group of ``structure.groups`` with columns ``group, kind, unit, question,
        category, n, published, rule``. ``n`` is the true count (for the log; never show it
        for a hidden group); ``rule`` is missing for published groups and otherwise one of
        ``primary, secondary, remainder, inherited, empty``.

    See Also
    --------
    protect : the same, together with the engine's own audit result.

    Examples
    --------
    >>> from analysis.disclosure import build_structure
    >>> tree = pd.DataFrame({"unit": ["R", "A", "B", "C"], "parent": [None, "R", "R", "R"]})
    >>> s = build_structure(tree)
    >>> data = pd.DataFrame({"unit": ["A"] * 3 + ["B"] * 6 + ["C"] * 7})
    >>> out = suppress(s, data, k=5)
    >>> out.loc[out["kind"] == "unit", ["group", "n", "published", "rule"]]
      group   n  published       rule
    0   u:R  16       True       <NA>
    1   u:A   3      False    primary
    2   u:B   6      False  secondary
    3   u:C   7       True       <NA>
    """
    return protect(structure, counts, k, initially_hidden=initially_hidden)[0]


def protect(
    structure: Structure,
    counts: AtomCounts | pd.DataFrame,
    k: int,
    *,
    initially_hidden: object = None,
) -> tuple[pd.DataFrame, AuditResult]:
    """:func:`suppress`, and the fast audit of the result it ends with.

    The engine only stops when every table passes the fast audit's checks on the final pattern
    (:mod:`analysis.disclosure.audit`), so the proof comes free: the returned
    :class:`AuditResult` is what :func:`audit` would compute (no findings; ``min_n`` the
    smallest positive derived count). Arguments as for :func:`suppress`.

    Examples
    --------
    >>> from analysis.disclosure import build_structure
    >>> tree = pd.DataFrame({"unit": ["R", "A", "B"], "parent": [None, "R", "R"]})
    >>> s = build_structure(tree)
    >>> frame, proof = protect(s, pd.DataFrame({"unit": ["A"] * 3 + ["B"] * 6}), k=5)
    >>> proof.safe, proof.min_n, frame["published"].tolist()
    (True, 9, [True, False, False, False])
    """
    counts = as_counts(structure, counts)
    k = check_k(k)
    n = group_counts(structure, counts)
    n_pub = n[: structure.n_publishable]
    rule = np.full(structure.n_publishable, "", dtype=object)
    rule[hidden_positions(structure, initially_hidden)] = "inherited"
    rule[(n_pub > 0) & (n_pub < k)] = "primary"
    rule[n_pub == 0] = "empty"
    engine = _Engine(structure, counts, n, k, rule)
    engine.close_breakdowns()
    engine.run()
    sizes = [w for w in engine.smallest.values() if w is not None]
    proof = AuditResult(findings_frame([]), round(min(sizes)) if sizes else None, "fast")
    return result_frame(structure, n, engine.hidden, engine.rule), proof


def result_frame(
    structure: Structure, n: np.ndarray, hidden: np.ndarray, rule: np.ndarray
) -> pd.DataFrame:
    """Assemble the per-group result (remainders last, as in ``structure.groups``)."""
    frame = structure.groups.copy()
    n_rem = len(frame) - structure.n_publishable
    frame["n"] = n.astype(np.int64)
    frame["published"] = np.concatenate([~hidden, np.zeros(n_rem, dtype=bool)])
    rules = np.concatenate([rule, np.full(n_rem, "remainder", dtype=object)])
    rules[rules == ""] = None
    frame["rule"] = pd.array(rules, dtype="string")
    return frame
