"""Property tests: on random organisations the engine's pattern is safe by the *exact* audit.

The exact audit (``exact_audit``) uses no structure at all: every atom of the full product
unit × answers is a column, a MILP searches the row space of the published incidence for the
smallest derived set. The fast audit (a minimum directed cut per breakdown table) must agree
with it exactly — the smallest positive derived count — on the engine's output and on patterns
that are deliberately unsafe (primary suppression only, random patterns).
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from analysis.disclosure import audit, exact_audit, incidence, protect, suppress
from analysis.disclosure.dicut import min_dicut, relation
from analysis.disclosure.inputs import published_mask
from analysis.disclosure.tables import build_table, take
from tests.disclosure.strategies import Case, cases, close_breakdowns

SETTINGS = settings(deadline=None, max_examples=120, suppress_health_check=[HealthCheck.too_slow])


def _both(case: Case, mask: np.ndarray) -> tuple[int | None, int | None]:
    fast = audit(case.structure, case.counts, mask, case.k, method="fast")
    exact = exact_audit(case.structure, case.counts, mask, case.k)
    assert fast.safe == exact.safe, (fast.findings, exact.findings)
    event(f"{case.structure.n_units // 4 * 4}+ units, {len(case.structure.questions)} questions")
    event("unsafe" if not exact.safe else "safe")
    return fast.min_n, exact.min_n


@pytest.mark.slow
@SETTINGS
@given(cases())
def test_engine_pattern_is_proven_safe_by_the_exact_audit(case: Case) -> None:
    out, proof = protect(case.structure, case.counts, case.k)
    mask = published_mask(case.structure, out)
    n = case.n[: case.structure.n_publishable]
    assert not ((n > 0) & (n < case.k) & mask).any(), "published a group below k"
    assert not (mask & (n == 0)).any(), "published an empty group"
    exact = exact_audit(case.structure, case.counts, out, case.k)
    assert exact.safe, exact.findings
    fast = audit(case.structure, case.counts, out, case.k)
    assert fast.safe
    assert proof.safe
    assert fast.min_n == exact.min_n == proof.min_n


@pytest.mark.slow
@SETTINGS
@given(cases())
def test_fast_audit_agrees_with_exact_audit_on_primary_suppression(case: Case) -> None:
    n = case.n[: case.structure.n_publishable]
    fast, exact = _both(case, n >= case.k)
    assert fast == exact


@pytest.mark.slow
@SETTINGS
@given(cases(), st.randoms(use_true_random=False))
def test_fast_audit_agrees_with_exact_audit_on_random_patterns(
    case: Case, rnd: random.Random
) -> None:
    size = case.structure.n_publishable
    seed = rnd.randrange(2**32)
    mask = close_breakdowns(case.structure, np.random.default_rng(seed).random(size) < 0.7)
    fast, exact = _both(case, mask)
    assert fast == exact


@pytest.mark.slow
@settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.randoms(use_true_random=False))
def test_question_pass_keeps_group_level_hidden_and_is_safe(case: Case, rnd: random.Random) -> None:
    level = suppress(case.structure, case.counts, case.k)
    keep = np.array([rnd.random() < 0.8 for _ in range(len(case.data))], dtype=bool)
    answered = case.data.loc[keep]
    k_q = case.k + rnd.choice([0, 0, 3])
    out, proof = protect(case.structure, answered, k_q, initially_hidden=level)
    hidden_before = set(level.loc[~level["published"], "group"])
    assert not hidden_before & set(out.loc[out["published"], "group"])
    assert proof.safe
    assert exact_audit(case.structure, answered, out, k_q).safe


@settings(deadline=None, max_examples=40)
@given(cases(max_units=8, max_questions=2))
def test_engine_is_deterministic_and_audit_independent(case: Case) -> None:
    first = suppress(case.structure, case.counts, case.k)
    second = suppress(case.structure, case.data.iloc[::-1], case.k)
    pd.testing.assert_frame_equal(first, second)
    # The fast audit's verdict does not depend on the order it is told things in.
    ids = first.loc[first["published"], "group"].tolist()
    assert audit(case.structure, case.counts, ids[::-1], case.k).safe


@settings(deadline=None, max_examples=60)
@given(cases(max_units=10, max_questions=2))
def test_minimum_cut_is_a_real_derived_set(case: Case) -> None:
    """The programme's cut is a directed cut whose weight it reports, and it is derivable:
    its signed sum of published groups reproduces its count on the atom incidence."""
    s = case.structure
    n = case.n
    mask = n[: s.n_publishable] >= case.k
    inc = incidence(s)
    ids = s.groups["group"].to_numpy()
    for q in range(len(s.questions)) or [-1]:
        table = build_table(s, case.counts, q, mask, n[: s.n_units])
        weight, cut = min_dicut(table, below=np.inf)
        if weight is None:
            continue
        assert cut is not None
        from_x = np.where(table.source >= 0, take(cut.src_in, table.source), cut.g_in)
        edges = table.present & from_x & ~cut.sink_in[:, None]
        entering = table.present & ~from_x & cut.sink_in[:, None]
        assert not entering.any()
        assert (edges == cut.edges).all()
        assert np.isclose(table.weight[edges].sum(), weight)
        groups, coefs, _ = relation(table, cut.sink_in, cut.src_in, cut.g_in)
        assert (mask[groups] | (n[groups] == 0)).all()
        derived = coefs @ n[groups]
        assert derived == round(weight), (ids[groups], coefs)
        combo = coefs @ inc[groups].astype(int)
        assert set(np.unique(combo)) <= {-1, 0, 1}
