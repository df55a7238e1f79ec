"""Plain data for the results templates: labels, formatted numbers, what to say for hidden cells.

Templates get already-protected, already-formatted data and run no queries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from babel.numbers import get_decimal_symbol, get_group_symbol
from flask import url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from analysis import compare
from survey.comparisons import TREND_TEST
from survey.i18n import pick
from survey.models import Index, Questionnaire, Section, SurveyRound, Unit, User
from survey.models.publication import WHOLE_GROUP, Publication
from survey.services import results
from survey.services.lineage import PreviousContext, previous_context
from survey.services.results import Comparison, Figure, GroupResult

KIND_ORDER = ("previous", "parent", "rest", "trend")


def _lang() -> str:
    return str(get_locale() or "sv")


def rule_text(rule: str | None) -> str:
    if rule == "secondary":
        return _("Hidden to protect a smaller group")
    return _("Too few answers")


def previous_text(context: PreviousContext) -> str:
    """What the unit's "since the previous round" figures compare with, in a sentence."""
    names = ", ".join(context.predecessors)
    period = context.period or ""
    if context.status == "first":
        return _("There is no earlier published round to compare with.")
    if context.status == "no_predecessor":
        return _(
            "This unit is new: it has no predecessor in %(period)s, so there is nothing to "
            "compare with.",
            period=period,
        )
    if context.status == "hidden":
        return _(
            "In %(period)s, no figures were shown for %(names)s (to protect small groups), so "
            "there is no comparison with the previous round.",
            period=period,
            names=names,
        )
    if context.status == "rename":
        return _(
            "Compared with %(names)s in %(period)s (the unit has been renamed).",
            names=names,
            period=period,
        )
    if context.status == "merge":
        return _(
            "Compared with %(names)s together in %(period)s (the units have been merged).",
            names=names,
            period=period,
        )
    if context.status == "split":
        return _(
            "Compared with %(names)s in %(period)s, which has since been split: the "
            "comparison is approximate.",
            names=names,
            period=period,
        )
    return _("Compared with the same unit in %(period)s.", period=period)


def number(value: float | None, decimals: int = 0) -> str:
    """``value`` with ``decimals`` decimals in the page's locale (grouped thousands, a true
    minus sign), rounded half to even from its shortest decimal form, as Babel does."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    # Babel's format_decimal gives the same text, but a page formats tens of thousands of
    # numbers and it took a third of the overview's time.
    text = format(Decimal(str(value)), f",.{decimals}f")
    return text.translate(_symbols(str(get_locale() or "sv")))


@lru_cache(maxsize=8)
def _symbols(locale: str) -> dict[int, str]:
    """Python's grouping comma, decimal point and minus as the locale writes them."""
    return str.maketrans({",": get_group_symbol(locale), ".": get_decimal_symbol(locale), "-": "−"})


def signed(value: float | None, decimals: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = number(abs(value), decimals)
    if text.strip("0,.") == "":
        return "±" + text
    return ("+" if value > 0 else "−") + text


def percent(value: float | None) -> str:
    return "–" if value is None else number(value) + " %"


@dataclass
class Labels:
    measures: dict[str, str] = field(default_factory=dict)
    indices: list[str] = field(default_factory=list)
    sections: list[tuple[str, list[str]]] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)
    options: dict[str, dict[int, str]] = field(default_factory=dict)
    scale_points: dict[str, int] = field(default_factory=dict)
    background: list[str] = field(default_factory=list)


def labels(session: Session, survey_round: SurveyRound) -> Labels:
    questionnaire = session.scalars(
        select(Questionnaire)
        .where(Questionnaire.id == survey_round.questionnaire_id)
        .options(
            selectinload(Questionnaire.sections).selectinload(Section.questions),
            selectinload(Questionnaire.indices).selectinload(Index.items),
        )
    ).one()
    lang = _lang()
    out = Labels()
    for index in questionnaire.indices:
        out.measures[index.key] = pick(index.name, lang)
        out.indices.append(index.key)
    for section in questionnaire.sections:
        keys = []
        for q in section.questions:
            out.measures[q.key] = pick(q.text, lang)
            out.kinds[q.key] = q.kind
            out.scale_points[q.key] = q.scale_points or 0
            out.options[q.key] = {int(o["value"]): pick(o["label"], lang) for o in q.options or []}
            if q.background:
                out.background.append(q.key)
            elif q.kind != "text":
                keys.append(q.key)
        if keys:
            out.sections.append((pick(section.title, lang), keys))
    return out


def method_name(name: str | None) -> str:
    """A test's or an effect size's name as the analysis stores it (English, also in the CSV
    export), in the page's language."""
    labels = {
        compare.WELCH: _("Welch's t-test"),
        compare.MANN_WHITNEY: _("Mann–Whitney U test (normal approximation, corrected for ties)"),
        compare.PROPORTIONS: _("two-proportion z-test (pooled standard error)"),
        TREND_TEST: _("weighted trend over the rounds"),
        compare.HEDGES_G: _("Hedges' g"),
        compare.RANK_BISERIAL: _("rank-biserial correlation"),
        compare.COHENS_H: _("Cohen's h"),
    }
    return labels.get(name or "", name or "")


def _comparison_cell(comparison: Comparison | None, decimals: int) -> dict[str, Any] | None:
    if comparison is None:
        return None
    reference_value = number(comparison.reference_value, decimals)
    return {
        "difference": signed(comparison.difference, decimals),
        "ci": f"{number(comparison.ci_low, decimals)} – {number(comparison.ci_high, decimals)}",
        "reference_value": reference_value,
        "significant": comparison.significant,
        "direction": "up" if (comparison.difference or 0) > 0 else "down",
        "test": method_name(comparison.test),
        "p": number(comparison.p_value, 3) if comparison.p_value is not None else "–",
        "q": number(comparison.q_value, 3) if comparison.q_value is not None else "–",
        "effect": f"{method_name(comparison.effect_name)} {number(comparison.effect, 2)}"
        if comparison.effect_name and comparison.effect is not None
        else "",
        "note": comparison.note,
    }


def _change_cell(comparison: Comparison | None, decimals: int) -> dict[str, Any] | None:
    """The change shown beside an index value in the unit tables: what they show of
    :func:`_comparison_cell`, for thousands of cells."""
    if comparison is None:
        return None
    return {
        "difference": signed(comparison.difference, decimals),
        "significant": comparison.significant,
        "direction": "up" if (comparison.difference or 0) > 0 else "down",
    }


def _index_cell(group: GroupResult, measure: str) -> dict[str, Any]:
    figure = group.figure(measure)
    if figure is None:
        rule = group.hidden_rule(measure)
        text = rule_text(rule) if group.hidden else _("Too few answers to the question")
        return {"hidden": True, "text": text}
    previous = group.comparisons.get(measure, {}).get("previous")
    return {
        "hidden": False,
        "text": number(figure.mean),
        "n": figure.n,
        "band": band(figure.mean),
        "previous": _change_cell(previous, 0),
    }


def band(value: float | None) -> str:
    """Heat-map class; the number is always shown as text beside the colour."""
    if value is None:
        return ""
    if value >= 75:
        return "band-high"
    if value >= 60:
        return "band-mid"
    return "band-low"


def overview(
    session: Session, survey_round: SurveyRound, publication: Publication, user: User
) -> dict[str, Any]:
    names = labels(session, survey_round)
    groups = results.load_groups(
        session,
        publication.id,
        measures=names.indices,
        units_only=True,
        kinds=["previous"],
        item_comparisons=False,
    )
    unit_groups = {g.unit_id: g for g in groups.values()}
    visible = results.visible_unit_ids(session, user)
    allowed = set(unit_groups) if visible is None else set(unit_groups) & visible
    rows = []
    for unit, depth in results.unit_tree(session, allowed):
        group = unit_groups[unit.id]
        rows.append(
            {
                "unit": unit,
                "depth": depth,
                "url": url_for("results.unit", round_id=survey_round.id, unit_id=unit.id),
                "hidden": group.hidden,
                "hidden_text": rule_text(group.rule) if group.hidden else "",
                "respondents": group.respondents,
                "rate": percent(group.response_rate * 100) if group.response_rate else "–",
                "cells": [_index_cell(group, m) for m in names.indices],
            }
        )
    return {
        "publication": publication,
        "columns": [(m, names.measures[m]) for m in names.indices],
        "rows": rows,
    }


def _item_row(group: GroupResult, measure: str, names: Labels) -> dict[str, Any]:
    figure = group.figure(measure)
    base = {"measure": measure, "label": names.measures[measure]}
    if figure is None:
        return {**base, "hidden": True, "text": _("Too few answers to the question")}
    comparisons = group.comparisons.get(measure, {})
    likert = names.kinds.get(measure) == "likert"
    return {
        **base,
        "hidden": False,
        "n": figure.n,
        "mean": number(figure.mean, 1) if likert else "",
        "sd": number(figure.sd, 1) if likert else "",
        "positive": percent(figure.pct_positive) if likert else "",
        "negative": percent(figure.pct_negative) if likert else "",
        "distribution": _distribution(figure, measure, names),
        "previous": _comparison_cell(comparisons.get("previous"), 1) if likert else None,
    }


def _distribution(figure: Figure, measure: str, names: Labels) -> list[tuple[str, int, str]]:
    counts = figure.distribution or []
    total = sum(counts) or 1
    if names.kinds.get(measure) == "likert":
        labels_ = [str(v) for v in range(1, len(counts) + 1)]
    else:
        labels_ = list(names.options.get(measure, {}).values())
    return [(label, c, percent(100 * c / total)) for label, c in zip(labels_, counts, strict=False)]


def _index_rows(group: GroupResult, names: Labels) -> list[dict[str, Any]]:
    rows = []
    for measure in names.indices:
        figure = group.figure(measure)
        row: dict[str, Any] = {"label": names.measures[measure], "measure": measure}
        if figure is None:
            row.update(hidden=True, text=_("Too few answers to the question"))
        else:
            comparisons = group.comparisons.get(measure, {})
            row.update(
                hidden=False,
                value=number(figure.mean),
                n=figure.n,
                sd=number(figure.sd),
                band=band(figure.mean),
                comparisons={
                    kind: _comparison_cell(comparisons.get(kind), 1 if kind == "trend" else 0)
                    for kind in KIND_ORDER
                },
            )
        rows.append(row)
    return rows


def unit_report(
    session: Session,
    survey_round: SurveyRound,
    publication: Publication,
    unit_id: int,
    visible: set[int] | None,
) -> dict[str, Any]:
    names = labels(session, survey_round)
    key = results.unit_group_key(session, publication.id, unit_id)
    unit = session.get_one(Unit, unit_id)
    group = results.load_groups(session, publication.id, [key])[key]
    siblings = (
        list(session.scalars(select(Unit).where(Unit.parent_id == unit.parent_id)))
        if unit.parent_id is not None
        else []
    )
    children = list(unit.children)
    # Only the index figures of the units in the sibling and children tables.
    neighbours = results.load_groups(
        session,
        publication.id,
        results.unit_keys(session, publication.id, [u.id for u in [*siblings, *children]]),
        measures=names.indices,
        comparisons=False,
    )
    unit_groups = {g.unit_id: g for g in neighbours.values()}
    siblings = [u for u in siblings if u.id in unit_groups]
    children = [u for u in children if u.id in unit_groups]
    breakdown_groups = results.load_groups(
        session,
        publication.id,
        results.breakdown_keys(session, publication.id, unit_id),
        measures=names.indices,
        comparisons=False,
    )
    return {
        "unit": unit,
        "path": _path(unit, survey_round, visible),
        "group": group,
        "hidden_text": rule_text(group.rule) if group.hidden else "",
        "previous_text": previous_text(previous_context(session, survey_round, unit_id)),
        "rate": percent(group.response_rate * 100) if group.response_rate else "–",
        "indices": [] if group.hidden else _index_rows(group, names),
        "sections": []
        if group.hidden
        else [
            (title, [_item_row(group, m, names) for m in keys]) for title, keys in names.sections
        ],
        "columns": [(m, names.measures[m]) for m in names.indices],
        "siblings": _unit_rows(siblings, unit_groups, names, survey_round, visible),
        "children": _unit_rows(children, unit_groups, names, survey_round, visible),
        "breakdowns": _breakdowns(breakdown_groups, names),
        "unit_names": {u.id: u.name for u in [*siblings, *children]},
    }


def _path(unit: Unit, survey_round: SurveyRound, visible: set[int] | None) -> list[dict[str, Any]]:
    path = []
    current = unit.parent
    while current is not None:
        allowed = visible is None or current.id in visible
        url = url_for("results.unit", round_id=survey_round.id, unit_id=current.id)
        path.append({"name": current.name, "url": url if allowed else None})
        current = current.parent
    return list(reversed(path))


def _unit_rows(
    units: list[Unit],
    groups: dict[int, GroupResult],
    names: Labels,
    survey_round: SurveyRound,
    visible: set[int] | None,
) -> list[dict[str, Any]]:
    rows = []
    for unit in sorted(units, key=lambda u: u.code):
        group = groups[unit.id]
        allowed = visible is None or unit.id in visible
        rows.append(
            {
                "name": unit.name,
                "url": url_for("results.unit", round_id=survey_round.id, unit_id=unit.id)
                if allowed
                else None,
                "hidden": group.hidden,
                "hidden_text": rule_text(group.rule) if group.hidden else "",
                "respondents": group.respondents,
                "cells": [_index_cell(group, m) for m in names.indices],
            }
        )
    return rows


def _breakdowns(groups: dict[str, GroupResult], names: Labels) -> list[dict[str, Any]]:
    out = []
    for question in names.background:
        rows = []
        for group in groups.values():
            if group.filter_question != question or group.filter_value is None:
                continue
            rows.append(
                {
                    "label": names.options.get(question, {}).get(group.filter_value, "?"),
                    "hidden": group.hidden,
                    "hidden_text": rule_text(group.rule) if group.hidden else "",
                    "respondents": group.respondents,
                    "cells": [_index_cell(group, m) for m in names.indices],
                }
            )
        if rows:
            out.append({"question": names.measures[question], "rows": rows})
    return out


def drivers(
    session: Session, survey_round: SurveyRound, publication: Publication
) -> dict[str, Any]:
    names = labels(session, survey_round)
    tables = []
    for outcome, rows in results.drivers(session, publication.id).items():
        tables.append(
            {
                "outcome": names.measures.get(outcome, outcome),
                "rows": [
                    {
                        "rank": r.rank,
                        "label": names.measures.get(r.measure, r.measure),
                        "rho": number(r.rho, 2),
                        "ci": f"{number(r.ci_low, 2)} – {number(r.ci_high, 2)}",
                        "n": r.n,
                        "q": number(r.q_value, 3),
                    }
                    for r in rows[:15]
                ],
            }
        )
    return {"tables": tables, "min_n": max(publication.min_group_size, 30)}


def suppression(
    session: Session, survey_round: SurveyRound, publication: Publication
) -> dict[str, Any]:
    names = labels(session, survey_round)
    groups = results.load_groups(session, publication.id, measures=[], comparisons=False)
    unit_names = {u.id: u.name for u in session.scalars(select(Unit))}

    def group_label(key: str) -> str:
        group = groups.get(key)
        if group is None:
            return key
        label = unit_names.get(group.unit_id, key)
        if group.filter_question:
            option = names.options.get(group.filter_question, {}).get(group.filter_value or 0)
            label += f" · {names.measures.get(group.filter_question, '')}: {option}"
        return label

    rows = [
        {
            "group": group_label(cell.group_key),
            "measure": _("All figures")
            if cell.measure == WHOLE_GROUP
            else names.measures.get(cell.measure, cell.measure),
            "rule": cell.rule,
        }
        for cell in results.suppression_log(session, publication.id)
    ]
    return {"publication": publication, "rows": rows, "audit": publication.audit}
