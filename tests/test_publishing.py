"""Publishing through the gate: what is shown, what is hidden and why, and what is compared."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import disclosure
from survey.models import SurveyRound, Unit, UnitLineage
from survey.models.publication import (
    WHOLE_GROUP,
    PublishedDriver,
    PublishedGroup,
    SuppressedCell,
)
from survey.services import publishing, rounds
from tests.factories import TODAY, Factory, respond, stored_rows


def tree(make: Factory, sizes: dict[str, int]) -> dict[str, Unit]:
    root = make.unit("ROOT")
    units = {"ROOT": root}
    for code in sizes:
        units[code] = make.unit(code, parent=root)
    return units


def fill(make: Factory, survey_round: SurveyRound, unit: Unit, n: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for i in range(n):
        respond(
            make.session,
            survey_round,
            unit,
            {
                "bg.gender": 1 + i % 2,
                "t.meaning": int(rng.integers(1, 6)),
                "t.tempo": int(rng.integers(1, 6)),
            },
        )


def publish(make: Factory, sizes: dict[str, int], seed: int = 0) -> tuple[Any, dict[str, Unit]]:
    units = tree(make, sizes)
    survey_round = make.round({units[c]: n + 2 for c, n in sizes.items()})
    for i, (code, n) in enumerate(sizes.items()):
        fill(make, survey_round, units[code], n, seed + i)
    rounds.close_round(make.session, survey_round)
    publication = publishing.publish_round(make.session, survey_round.id, TODAY)
    return publication, units


def groups(session: Session, publication_id: int) -> dict[str, PublishedGroup]:
    return {
        g.key: g
        for g in session.scalars(
            select(PublishedGroup).where(PublishedGroup.publication_id == publication_id)
        )
    }


def test_unit_below_k_is_hidden_and_a_second_cell_protects_it(
    make: Factory, db_session: Session
) -> None:
    publication, units = publish(make, {"A": 8, "B": 7, "C": 3})
    shown = groups(db_session, publication.id)
    c = shown[f"u:{units['C'].id}"]
    assert c.hidden
    assert c.rule == "primary"
    assert c.respondents is None
    assert c.response_rate is None
    # Root minus A minus B would give C: one more of them (or the root) must be hidden.
    others = [shown[f"u:{units[x].id}"] for x in ("A", "B", "ROOT")]
    assert sum(g.hidden for g in others) >= 1
    assert any(g.rule == "secondary" for g in others)


def test_no_figure_of_a_hidden_group_is_stored(make: Factory, db_session: Session) -> None:
    publication, _units = publish(make, {"A": 8, "B": 7, "C": 3})
    shown = groups(db_session, publication.id)
    figures = stored_rows(db_session, publication.id, "figures")
    assert figures
    for figure in figures:
        group = shown[figure.group_key]
        assert not group.hidden
        assert figure.n >= publication.min_group_size
    hidden_groups = {k for k, g in shown.items() if g.hidden}
    log = db_session.scalars(
        select(SuppressedCell).where(SuppressedCell.publication_id == publication.id)
    ).all()
    assert {c.group_key for c in log if c.measure == WHOLE_GROUP} == hidden_groups
    assert all(c.rule in disclosure.RULES for c in log)


def test_shown_counts_allow_no_subtraction_below_k(make: Factory, db_session: Session) -> None:
    """Exhaustively: no sum or difference of shown unit counts isolates 1..k-1 respondents."""
    publication, units = publish(make, {"A": 6, "B": 9, "C": 4, "D": 12})
    shown = groups(db_session, publication.id)
    k = publication.min_group_size
    unit_rows = {g.unit_id: g for g in shown.values() if g.filter_question is None}
    root = units["ROOT"].id
    children = [u.id for code, u in units.items() if code != "ROOT"]
    published = [c for c in children if not unit_rows[c].hidden]
    if not unit_rows[root].hidden:
        for size in range(len(published) + 1):
            for subset in itertools.combinations(published, size):
                rest = unit_rows[root].respondents - sum(unit_rows[c].respondents for c in subset)
                assert rest == 0 or rest >= k


def test_question_answered_by_fewer_than_k_is_hidden_in_a_shown_group(
    make: Factory, db_session: Session
) -> None:
    units = tree(make, {"A": 8, "B": 9})
    survey_round = make.round({units["A"]: 10, units["B"]: 10})
    for i in range(8):
        answers = {"t.meaning": 4, **({"t.tempo": 3} if i < 3 else {})}
        respond(db_session, survey_round, units["A"], answers)
    fill(make, survey_round, units["B"], 9)
    rounds.close_round(db_session, survey_round)
    publication = publishing.publish_round(db_session, survey_round.id, TODAY)
    a = f"u:{units['A'].id}"
    figures = {(f.group_key, f.measure) for f in stored_rows(db_session, publication.id, "figures")}
    assert (a, "t.meaning") in figures
    assert (a, "t.tempo") not in figures
    hidden = db_session.scalars(
        select(SuppressedCell.rule).where(
            SuppressedCell.publication_id == publication.id,
            SuppressedCell.group_key == a,
            SuppressedCell.measure == "t.tempo",
        )
    ).one()
    assert hidden == "primary"
    # The index uses t.tempo, so it is hidden wherever t.tempo is.
    assert (a, "t.index") not in figures


def test_hme_follows_koladas_item_mean(make: Factory, db_session: Session) -> None:
    """Five respondents; by hand: item score (x-1)*25, index = mean of the nine item means."""
    unit = make.unit("HME")
    questionnaire = make.questionnaire(["hme"])
    survey_round = make.round({unit: 5}, questionnaire=questionnaire)
    items = [
        f"hme.{part}.{i}" for part in ("motivation", "ledarskap", "styrning") for i in (1, 2, 3)
    ]
    answers = [
        [5, 4, 4, 5, 5, 4, 4, 4, 5],
        [4, 4, 3, 4, 4, 4, 3, 3, 4],
        [3, 3, 3, 4, 3, 3, 4, 3, 4],
        [5, 5, 4, 5, 5, 5, 5, 4, 5],
        [4, 3, 4, 4, 3, 4, 4, 4, 4],
    ]
    for row in answers:
        respond(db_session, survey_round, unit, dict(zip(items, row, strict=True)))
    rounds.close_round(db_session, survey_round)
    publication = publishing.publish_round(db_session, survey_round.id, TODAY)
    figures = {
        f.measure: f
        for f in stored_rows(db_session, publication.id, "figures")
        if f.group_key == f"u:{unit.id}"
    }
    # Item means on 0–100: column means of (x-1)*25.
    item_means = [sum((row[j] - 1) * 25 for row in answers) / 5 for j in range(9)]
    assert item_means[0] == 80.0  # (100+75+50+100+75)/5
    assert figures["hme"].mean == pytest.approx(sum(item_means) / 9)
    assert figures["hme.motivation"].mean == pytest.approx(sum(item_means[:3]) / 3)
    assert figures["hme.styrning"].mean == pytest.approx(sum(item_means[6:]) / 3)
    assert figures["hme"].n == 5


def test_previous_round_comparison_follows_lineage(make: Factory, db_session: Session) -> None:
    root = make.unit("R")
    old = make.unit("OLD", parent=root)
    other = make.unit("OTHER", parent=root)
    first = make.round({old: 12, other: 12})
    fill(make, first, old, 10, seed=1)
    fill(make, first, other, 10, seed=2)
    rounds.close_round(db_session, first)
    publishing.publish_round(db_session, first.id, TODAY)
    first.opens_on, first.closes_on = (
        TODAY.replace(year=TODAY.year - 1),
        TODAY.replace(year=TODAY.year - 1),
    )
    renamed = make.unit("NEW", parent=root)
    brand_new = make.unit("FRESH", parent=root)
    db_session.add(
        UnitLineage(
            predecessor_id=old.id, successor_id=renamed.id, kind="rename", effective_on=TODAY
        )
    )
    db_session.flush()
    second = make.round({renamed: 12, other: 12, brand_new: 12})
    for unit, seed in ((renamed, 3), (other, 4), (brand_new, 5)):
        fill(make, second, unit, 10, seed=seed)
    rounds.close_round(db_session, second)
    publication = publishing.publish_round(db_session, second.id, TODAY)
    rows = [
        c for c in stored_rows(db_session, publication.id, "comparisons") if c.kind == "previous"
    ]
    by_group = {(r.group_key, r.measure, r.metric): r for r in rows}
    assert (f"u:{renamed.id}", "t.meaning", "mean") in by_group
    assert by_group[(f"u:{renamed.id}", "t.meaning", "mean")].note == "rename"
    assert (f"u:{other.id}", "t.index", "mean") in by_group
    assert not any(g == f"u:{brand_new.id}" for g, _m, _x in by_group)


def test_comparisons_only_between_shown_cells(make: Factory, db_session: Session) -> None:
    publication, _units = publish(make, {"A": 8, "B": 7, "C": 3, "D": 11})
    shown = groups(db_session, publication.id)
    cells = {(f.group_key, f.measure) for f in stored_rows(db_session, publication.id, "figures")}
    comparisons = stored_rows(db_session, publication.id, "comparisons")
    assert comparisons
    for c in comparisons:
        assert (c.group_key, c.measure) in cells
        if c.kind in ("parent", "rest"):
            assert (c.reference, c.measure) in cells
            assert not shown[c.reference].hidden
        assert c.significant == bool(c.q_group is not None and c.q_group < 0.05)


def test_published_pattern_passes_the_exact_audit(make: Factory, db_session: Session) -> None:
    """Rebuild the structure from the database and prove it again with the exact audit."""
    sizes = {"A": 6, "B": 9, "C": 4, "D": 5}
    publication, units = publish(make, sizes, seed=7)
    shown = groups(db_session, publication.id)
    tree_frame = pd.DataFrame(
        {
            "unit": [str(u.id) for u in units.values()],
            "parent": [None if u.parent_id is None else str(u.parent_id) for u in units.values()],
        }
    )
    structure = disclosure.build_structure(tree_frame, {"bg.gender": ["1", "2"]})
    people = pd.DataFrame(
        [
            {"unit": str(units[code].id), "bg.gender": str(1 + i % 2)}
            for code, n in sizes.items()
            for i in range(n)
        ]
    )
    counts = disclosure.count_atoms(structure, people)
    published = [k for k, g in shown.items() if not g.hidden]
    result = disclosure.exact_audit(structure, counts, published, publication.min_group_size)
    assert result.safe


def second_round(make: Factory, sizes: dict[str, int]) -> SurveyRound:
    """A published round a year ago and a closed round now, of the same units."""
    first, units = publish(make, sizes)
    first.round.opens_on = first.round.closes_on = TODAY.replace(year=TODAY.year - 1)
    second = make.round({units[c]: n + 2 for c, n in sizes.items()})
    for i, (code, n) in enumerate(sizes.items()):
        fill(make, second, units[code], n, seed=20 + i)
    rounds.close_round(make.session, second)
    return second


def _stored(session: Session, publication_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row a publication stored, without its id, in a stable order."""
    out: dict[str, list[tuple[Any, ...]]] = {}

    def rounded(row: Any) -> tuple[Any, ...]:
        return tuple(round(v, 9) if isinstance(v, float) else v for v in row)

    for model in (PublishedGroup, SuppressedCell, PublishedDriver):
        table = model.__table__
        columns = [
            c for c in table.columns if c.name not in ("publication_id", "figures", "comparisons")
        ]
        rows = session.execute(
            select(*columns).where(table.c.publication_id == publication_id)
        ).all()
        out[table.name] = sorted((rounded(row) for row in rows), key=repr)
    for what in ("figures", "comparisons"):
        out[what] = sorted(
            (rounded(vars(r).values()) for r in stored_rows(session, publication_id, what)),
            key=repr,
        )
    return out


def test_worker_processes_publish_exactly_what_one_process_does(
    make: Factory, db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large round's passes, scores and analyses run in forked workers: same rows."""
    from survey import anonymity

    second = second_round(make, {"A": 12, "B": 9, "C": 3, "D": 11})
    assert not anonymity.is_large(publishing.load_round(db_session, second.id))
    alone = publishing.publish_round(db_session, second.id, TODAY)

    monkeypatch.setattr(anonymity, "PARALLEL_MIN_RESPONDENTS", 1)
    monkeypatch.setattr(anonymity, "_workers", lambda: 2)
    assert anonymity.is_large(publishing.load_round(db_session, second.id))
    forked = publishing.publish_round(db_session, second.id, TODAY)

    serial, parallel = _stored(db_session, alone.id), _stored(db_session, forked.id)
    assert serial["comparisons"], "the rounds are compared"
    assert serial == parallel
    assert alone.audit["passes"] == forked.audit["passes"]


def test_stored_numbers_keep_eight_significant_digits() -> None:
    rounded = [63.69616873214543, -0.123456789, 4.6014249e-10, 123456789.123, 2.5]
    kept = [0.0, np.nan, np.inf, 1e-310]
    values = np.array([*rounded, *kept])
    stored = publishing.significant(values, 8)
    assert [repr(float(v)) for v in stored[:5]] == [
        "63.696169",
        "-0.12345679",
        "4.6014249e-10",
        "123456790.0",
        "2.5",
    ]
    assert stored[5] == 0.0
    assert np.isnan(stored[6])
    assert stored[7] == np.inf
    assert stored[8] == 1e-310  # too small to scale: kept as it is
    rng = np.random.default_rng(3)
    sample = rng.standard_normal(10_000) * 10.0 ** rng.integers(-12, 12, 10_000)
    assert np.max(np.abs(publishing.significant(sample, 8) / sample - 1)) <= 5e-8


def test_measures_answered_by_the_same_people_share_one_pass(
    make: Factory, db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two questions everyone answered have the same counts in every group, so the engine
    runs once for both; each measure's pattern is still what its own pass gives."""
    from survey import anonymity, figures

    units = tree(make, {"A": 7, "B": 4, "C": 9})
    survey_round = make.round({units[c]: 12 for c in ("A", "B", "C")})
    for i, (code, n) in enumerate({"A": 7, "B": 4, "C": 9}.items()):
        fill(make, survey_round, units[code], n, i)
    rounds.close_round(make.session, survey_round)
    data = publishing.load_round(db_session, survey_round.id)

    calls = []
    measure_pass = anonymity._measure_pass
    monkeypatch.setattr(
        anonymity, "_measure_pass", lambda *args: calls.append(args) or measure_pass(*args)
    )
    patterns = anonymity.suppression_patterns(data)
    assert {"t.meaning", "t.tempo"} <= set(patterns.passes)
    assert len(calls) < len(patterns.passes)
    assert patterns.passes["t.meaning"] is patterns.passes["t.tempo"]

    structure, people = anonymity._structure(data)
    atoms = disclosure.find_atoms(structure, people)
    answered = figures.answered_items(data)
    level = patterns.level["published"].to_numpy(dtype=bool)[: structure.n_publishable]
    k = survey_round.min_group_size
    for question in ("t.meaning", "t.tempo"):
        alone = measure_pass(structure, atoms, answered[question], k, np.flatnonzero(~level))
        shared = patterns.passes[question]
        assert (alone.published == shared.published).all()
        assert (alone.rule == shared.rule).all()
        assert not alone.published[~level].any()
