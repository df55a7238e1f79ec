"""Reading published results for pages and exports.

Only the publication tables are read here: every figure already passed the anonymity gate
when the round was published. A hidden group comes back with its rule and nothing else.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import null, select
from sqlalchemy.orm import Session

from survey.models import SurveyRound, Unit, User
from survey.models.publication import (
    WHOLE_GROUP,
    Publication,
    PublishedDriver,
    PublishedGroup,
    SuppressedCell,
)
from survey.services.errors import NotFound

ALL_UNITS_ROLES = ("hr", "namnd", "auditor")


@dataclass(frozen=True)
class Figure:
    measure: str
    kind: str
    n: int
    mean: float | None
    sd: float | None
    median: float | None
    pct_positive: float | None
    pct_negative: float | None
    distribution: list[int] | None


@dataclass(frozen=True)
class Comparison:
    kind: str
    reference: str
    reference_value: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    test: str
    p_value: float | None
    q_value: float | None
    effect: float | None
    effect_name: str | None
    significant: bool
    note: str | None


FIGURE_ROW = tuple(Figure.__dataclass_fields__)
# A comparison's measure, then its fields (q_value: q_group, within one group's table).
COMPARISON_ROW = (
    "measure",
    *(("q_group" if name == "q_value" else name) for name in Comparison.__dataclass_fields__),
)


@dataclass
class GroupResult:
    key: str
    unit_id: int
    filter_question: str | None
    filter_value: int | None
    hidden: bool
    rule: str | None
    respondents: int | None
    headcount: int | None
    response_rate: float | None
    figures: dict[str, Figure] = field(default_factory=dict)
    hidden_measures: dict[str, str] = field(default_factory=dict)
    comparisons: dict[str, dict[str, Comparison]] = field(default_factory=dict)

    def figure(self, measure: str) -> Figure | None:
        return None if self.hidden else self.figures.get(measure)

    def hidden_rule(self, measure: str) -> str | None:
        if self.hidden:
            return self.rule
        return self.hidden_measures.get(measure)


def current_publication(session: Session, round_id: int) -> Publication:
    publication = session.scalars(
        select(Publication).where(Publication.round_id == round_id, Publication.current)
    ).one_or_none()
    if publication is None:
        raise NotFound("not_published")
    return publication


def published_rounds(session: Session) -> list[tuple[SurveyRound, Publication]]:
    rows = session.execute(
        select(SurveyRound, Publication)
        .join(Publication, Publication.round_id == SurveyRound.id)
        .where(Publication.current)
        .order_by(SurveyRound.closes_on.desc())
    ).all()
    return [(r, p) for r, p in rows]


def visible_unit_ids(session: Session, user: User) -> set[int] | None:
    """``None`` means every unit; managers see the subtrees of their units."""
    if user.role in ALL_UNITS_ROLES:
        return None
    children: dict[int | None, list[int]] = defaultdict(list)
    for unit_id, parent_id in session.execute(select(Unit.id, Unit.parent_id)):
        children[parent_id].append(unit_id)
    seen: set[int] = set()
    stack = [u.id for u in user.units]
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(children[current])
    return seen


KEYS_PER_QUERY = 2000  # group keys per IN list


def _chunks(keys: list[str] | None) -> list[list[str] | None]:
    if keys is None:
        return [None]
    return [keys[i : i + KEYS_PER_QUERY] for i in range(0, len(keys), KEYS_PER_QUERY)]


def _groups(
    session: Session,
    publication_id: int,
    keys: list[str] | None,
    units_only: bool,
    documents: list[Any],
) -> dict[str, tuple[GroupResult, list[Any]]]:
    """The groups with these stored documents (decoded; NULL for any not wanted)."""
    g = PublishedGroup
    out: dict[str, tuple[GroupResult, list[Any]]] = {}
    for chunk in _chunks(keys):
        query = select(
            g.key,
            g.unit_id,
            g.filter_question,
            g.filter_value,
            g.hidden,
            g.rule,
            g.respondents,
            g.headcount,
            g.response_rate,
            *documents,
        ).where(g.publication_id == publication_id)
        if chunk is not None:
            query = query.where(g.key.in_(chunk))
        if units_only:
            query = query.where(g.filter_question.is_(None))
        width = len(documents)
        for row in session.execute(query):
            out[row[0]] = (GroupResult(*row[:-width]), list(row[-width:]))
    return out


def _selected(
    document: dict[str, list[Any]] | None,
    fields: tuple[str, ...],
    measures: set[str] | None,
    metric: str | None = None,
    kinds: list[str] | None = None,
) -> Iterator[tuple[Any, ...]]:
    """The rows of a stored document, as tuples of ``fields``, for these measures (and this
    metric and these comparison kinds): picked column-wise before any row is built."""
    if not document:
        return
    keep: Iterable[int] = range(len(document["measure"]))
    for name, wanted in (("measure", measures), ("metric", metric), ("kind", kinds)):
        if wanted is not None:
            allowed = {wanted} if isinstance(wanted, str) else set(wanted)
            column = document[name]
            keep = [i for i in keep if column[i] in allowed]
    columns = [document[name] for name in fields]
    for i in keep:
        yield tuple(column[i] for column in columns)


def load_groups(
    session: Session,
    publication_id: int,
    keys: list[str] | None = None,
    measures: list[str] | None = None,
    comparisons: bool = True,
    *,
    units_only: bool = False,
    kinds: list[str] | None = None,
    item_comparisons: bool = True,
) -> dict[str, GroupResult]:
    """Groups with their figures, hidden measures and comparisons (all, or only ``keys``;
    only unit groups with ``units_only``; only some measures and comparison kinds; without
    the questions' comparisons when not ``item_comparisons``).

    Groups are read by their primary key (publication, key), a few thousand per query, with
    their figures and comparisons; the suppression log likewise."""
    g = PublishedGroup
    documents = [
        g.figures if measures != [] else null(),
        g.index_comparisons if comparisons else null(),
        g.item_comparisons if comparisons and item_comparisons else null(),
    ]
    stored = _groups(session, publication_id, keys, units_only, documents)
    wanted_measures = None if measures is None else set(measures)
    groups: dict[str, GroupResult] = {}
    for key, (group, (figures, *compared)) in stored.items():
        groups[key] = group
        for row in _selected(figures, FIGURE_ROW, wanted_measures):
            group.figures[row[0]] = Figure(*row)
        # Pages compare means (the % positive comparisons are in the CSV export).
        for document in compared:
            for measure, kind, *values in _selected(
                document, COMPARISON_ROW, wanted_measures, metric="mean", kinds=kinds
            ):
                group.comparisons.setdefault(measure, {})[kind] = Comparison(kind, *values)
    # Every group of the publication: no need to list them. Otherwise the ones found.
    wanted = None if keys is None and not units_only else list(groups)
    h = SuppressedCell
    for chunk in _chunks(wanted):
        hidden = select(h.group_key, h.measure, h.rule).where(
            h.publication_id == publication_id, h.measure != WHOLE_GROUP
        )
        if chunk is not None:
            hidden = hidden.where(h.group_key.in_(chunk))
        if measures is not None:
            hidden = hidden.where(h.measure.in_(measures))
        for key, measure, rule in session.execute(hidden):
            if key in groups:
                groups[key].hidden_measures[measure] = rule
    return groups


def unit_keys(session: Session, publication_id: int, unit_ids: list[int]) -> list[str]:
    """The groups of these units (without breakdowns) in the publication."""
    keys: list[str] = []
    for start in range(0, len(unit_ids), KEYS_PER_QUERY):
        keys += session.scalars(
            select(PublishedGroup.key).where(
                PublishedGroup.publication_id == publication_id,
                PublishedGroup.unit_id.in_(unit_ids[start : start + KEYS_PER_QUERY]),
                PublishedGroup.filter_question.is_(None),
            )
        )
    return keys


def unit_group_key(session: Session, publication_id: int, unit_id: int) -> str:
    key = session.scalar(
        select(PublishedGroup.key).where(
            PublishedGroup.publication_id == publication_id,
            PublishedGroup.unit_id == unit_id,
            PublishedGroup.filter_question.is_(None),
        )
    )
    if key is None:
        raise NotFound("unit_not_in_round")
    return key


def breakdown_keys(session: Session, publication_id: int, unit_id: int) -> list[str]:
    return list(
        session.scalars(
            select(PublishedGroup.key)
            .where(
                PublishedGroup.publication_id == publication_id,
                PublishedGroup.unit_id == unit_id,
                PublishedGroup.filter_question.is_not(None),
            )
            .order_by(PublishedGroup.filter_question, PublishedGroup.filter_value)
        )
    )


def drivers(session: Session, publication_id: int) -> dict[str, list[PublishedDriver]]:
    result: dict[str, list[PublishedDriver]] = defaultdict(list)
    for d in session.scalars(
        select(PublishedDriver)
        .where(PublishedDriver.publication_id == publication_id)
        .order_by(PublishedDriver.outcome, PublishedDriver.rank)
    ):
        result[d.outcome].append(d)
    return dict(result)


def suppression_log(session: Session, publication_id: int) -> list[SuppressedCell]:
    return list(
        session.scalars(
            select(SuppressedCell)
            .where(SuppressedCell.publication_id == publication_id)
            .order_by(SuppressedCell.group_key, SuppressedCell.measure)
        )
    )


def unit_tree(session: Session, unit_ids: set[int]) -> list[tuple[Unit, int]]:
    """Units in tree order with their depth (for indented tables)."""
    units = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(unit_ids)))}
    children: dict[int | None, list[Unit]] = defaultdict(list)
    for unit in units.values():
        parent = unit.parent_id if unit.parent_id in units else None
        children[parent].append(unit)
    ordered: list[tuple[Unit, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for unit in sorted(children[parent], key=lambda u: u.code):
            ordered.append((unit, depth))
            walk(unit.id, depth + 1)

    walk(None, 0)
    return ordered


def as_dict(value: Any) -> dict[str, Any]:
    return {k: getattr(value, k) for k in value.__dataclass_fields__}
