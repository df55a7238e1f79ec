"""Property-based tests of the whole gate: random organisations, answers and thresholds.

For every measure (each question and index) the union of everything the round publishes (every
page and export shows the same pattern) is checked with the exact audit: no set of 1..k−1
respondents can be derived by sums and differences of shown counts. The engine's own tests
(tests/disclosure) cover the engine; these cover how the app drives it.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import disclosure
from survey import anonymity, figures
from survey.services.aggregates import RoundData

QUESTIONS = pd.DataFrame(
    {
        "question": ["bg.gender", "q.a", "q.b", "q.threat"],
        "question_id": [1, 2, 3, 4],
        "kind": ["single", "likert", "likert", "likert"],
        "scale_points": [2, 5, 5, 5],
        "sensitive": [False, False, False, True],
        "background": [True, False, False, False],
        "values": [(1, 2), (1, 2, 3, 4, 5), (1, 2, 3, 4, 5), (1, 2, 3, 4, 5)],
    }
)
INDICES = pd.DataFrame(
    {
        "index": ["i.ab", "i.ab", "i.all", "i.all", "i.all"],
        "question": ["q.a", "q.b", "q.a", "q.b", "q.threat"],
        "reverse": [False, True, False, False, False],
        "rule": ["item_mean", "item_mean", "respondent_mean", "respondent_mean", "respondent_mean"],
        "min_answered_share": [0.5] * 5,
    }
)


@st.composite
def rounds(draw: st.DrawFn) -> RoundData:
    n_units = draw(st.integers(1, 7))
    parents: list[int | None] = [None]
    for i in range(1, n_units):
        parents.append(draw(st.integers(0, i - 1)))
    units = pd.DataFrame(
        {
            "unit": np.arange(1, n_units + 1),
            "parent": pd.array([None if p is None else p + 1 for p in parents], dtype="Int64"),
            "code": [f"U{i}" for i in range(1, n_units + 1)],
            "name": [f"Enhet {i}" for i in range(1, n_units + 1)],
            "verksamhet": None,
            "headcount": 15,
        }
    )
    sizes = [draw(st.integers(0, 12)) for _ in range(n_units)]
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    unit_of = np.repeat(units["unit"].to_numpy(), sizes)
    n = len(unit_of)
    gender = rng.choice([1, 2, -1], size=n, p=[0.5, 0.4, 0.1])
    respondents = pd.DataFrame(
        {
            "respondent": np.arange(n),
            "unit": unit_of,
            "bg.gender": pd.array([None if g < 0 else int(g) for g in gender], dtype="Int64"),
        }
    )
    rows = []
    for r in range(n):
        if gender[r] > 0:
            rows.append((r, "bg.gender", int(gender[r])))
        for question, answer_rate in (("q.a", 0.95), ("q.b", 0.8), ("q.threat", 0.7)):
            if rng.random() < answer_rate:
                rows.append((r, question, int(rng.integers(0, 6))))  # 0 = don't know
    answers = pd.DataFrame(rows, columns=["respondent", "question", "value"])
    answers["question"] = pd.Categorical(answers["question"], categories=QUESTIONS["question"])
    k = draw(st.integers(3, 6))
    survey_round = SimpleNamespace(
        min_group_size=k,
        min_group_size_sensitive=k + draw(st.integers(0, 4)),
        min_group_size_text=10,
    )
    return RoundData(
        round=survey_round,  # type: ignore[arg-type]
        units=units,
        questions=QUESTIONS,
        respondents=respondents,
        answers=answers,
        indices=INDICES,
        index_names={},
        question_texts={},
    )


def _counts(structure: disclosure.Structure, data: RoundData, who: np.ndarray) -> object:
    people = pd.DataFrame({"unit": data.respondents["unit"].astype(str)})
    people["bg.gender"] = data.respondents["bg.gender"].map(
        lambda v: None if pd.isna(v) else str(int(v))
    )
    return disclosure.count_atoms(structure, people.iloc[who])


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rounds())
def test_no_measure_reveals_a_small_group(data: RoundData) -> None:
    patterns = anonymity.suppression_patterns(data)
    structure = patterns.structure
    thresholds = figures.measure_thresholds(
        data, data.round.min_group_size, data.round.min_group_size_sensitive
    )
    answered = figures.answered_respondents(data)
    everyone = np.arange(len(data.respondents))
    level_shown = anonymity._published(patterns.level)
    exact = disclosure.exact_audit(
        structure,
        _counts(structure, data, everyone),
        sorted(level_shown),
        data.round.min_group_size,
    )
    assert exact.safe
    for measure, shown in patterns.measures.items():
        assert shown <= level_shown  # a hidden group stays hidden for every measure
        who = answered.get(measure, np.array([], dtype=np.int64))
        result = disclosure.exact_audit(
            structure, _counts(structure, data, who), sorted(shown), thresholds[measure]
        )
        assert result.safe, (measure, result.findings)
    for index, defs in data.indices.groupby("index"):
        for item in defs["question"]:
            assert patterns.measures[str(index)] <= patterns.measures[item]


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rounds())
def test_gate_output_holds_only_shown_cells_of_at_least_k(data: RoundData) -> None:
    gated = anonymity.gate_round(
        data, [], pd.DataFrame(columns=["predecessor", "successor", "kind"])
    )
    thresholds = figures.measure_thresholds(
        data, data.round.min_group_size, data.round.min_group_size_sensitive
    )
    hidden_groups = set(gated.groups.loc[gated.groups["hidden"], "key"])
    for row in gated.figures.itertuples():
        assert row.group not in hidden_groups
        assert row.n >= thresholds[row.measure]
    shown = gated.groups.loc[~gated.groups["hidden"]]
    assert (shown["respondents"] >= data.round.min_group_size).all()
    assert gated.groups.loc[gated.groups["hidden"], "respondents"].isna().all()
    cells = set(zip(gated.figures["group"], gated.figures["measure"], strict=True))
    for row in gated.comparisons.itertuples():
        assert (row.group, row.measure) in cells
        if row.kind in ("parent", "rest"):
            assert (row.reference, row.measure) in cells
    assert not set(gated.suppressed["group"]) & set(
        gated.figures["group"] + "|" + gated.figures["measure"]
    )
