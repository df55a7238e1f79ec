"""Disclosure control for published survey results: primary and complementary suppression.

A round publishes counts (and everything additive over respondents: sums, sums of squares,
distributions) for groups: each unit's subtree, and each unit broken down by background
questions. No published combination may reveal a set of fewer than k respondents.

Typical use, once per round and measure::

    structure = build_structure(units, {"gender": ["woman", "man"], "age": ["-29", "30-49", "50-"]})
    everyone = count_atoms(structure, respondents)            # unit + background columns
    level, proof = protect(structure, everyone, k=5)           # the group-level pattern
    for q in questions:                                        # n_q: answered q with a value
        counts = count_atoms(structure, answered[q])
        pattern, proof = protect(structure, counts, k=k_of[q], initially_hidden=level)

:func:`protect` is :func:`suppress` plus the audit of its result (which the engine computes
anyway before it stops); :func:`audit` re-checks any pattern independently. The pattern of a
measure applies to every figure of it (n, sums, sums of squares, distributions) on every page
and export. Question passes depend only on the group-level pattern, so they can run in
parallel processes.

Modules
-------
structure
    :func:`build_structure`, :class:`Structure` (groups and their ids), :func:`count_atoms`,
    :class:`AtomCounts`, :func:`group_counts`.
engine
    :func:`suppress`, :func:`protect` and the heuristic (module docstring).
audit
    :func:`audit`: the fast proof, with the argument why it is complete (module docstring).
exact
    :func:`exact_audit` (rank tests and a MILP over all atoms) and
    :func:`protection_intervals` (Tau-Argus style LP bounds) for small structures.
tables, dicut, local
    The graph of a breakdown table, its exact minimum derived set, and the local relations.
"""

from analysis.disclosure.audit import audit
from analysis.disclosure.engine import RESULT_COLUMNS, RULES, protect, suppress
from analysis.disclosure.exact import exact_audit, incidence, protection_intervals
from analysis.disclosure.findings import FINDING_COLUMNS, AuditResult
from analysis.disclosure.structure import (
    GROUP_COLUMNS,
    AtomCounts,
    Atoms,
    Structure,
    build_structure,
    count_atoms,
    find_atoms,
    group_counts,
)

__all__ = [
    "FINDING_COLUMNS",
    "GROUP_COLUMNS",
    "RESULT_COLUMNS",
    "RULES",
    "AtomCounts",
    "Atoms",
    "AuditResult",
    "Structure",
    "audit",
    "build_structure",
    "count_atoms",
    "exact_audit",
    "find_atoms",
    "group_counts",
    "incidence",
    "protect",
    "protection_intervals",
    "suppress",
]
