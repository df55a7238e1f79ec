"""Exports of published results: one CSV of every cell, and the Kolada HME figures.

Both read only the publication tables. A hidden cell is exported with empty figures and the
rule that hid it; a Kolada figure for a verksamhet is computed only from shown unit figures.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from survey.models import SurveyRound, Unit
from survey.models.publication import (
    WHOLE_GROUP,
    Publication,
    PublishedGroup,
    SuppressedCell,
)
from survey.services.errors import NotFound

COLUMNS = [
    "record",
    "round_id",
    "period",
    "unit_code",
    "unit_path",
    "group_filter",
    "measure",
    "metric",
    "comparison",
    "reference",
    "n",
    "mean",
    "sd",
    "median",
    "pct_positive",
    "pct_negative",
    "difference",
    "ci_low",
    "ci_high",
    "test",
    "p_value",
    "q_value",
    "effect",
    "effect_name",
    "significant",
    "rule",
]
# Stored fields exported under their own name.
FIGURE_EXPORT = ("measure", "n", "mean", "sd", "median", "pct_positive", "pct_negative")
COMPARISON_EXPORT = (
    "measure",
    "metric",
    "reference",
    "difference",
    "ci_low",
    "ci_high",
    "test",
    "p_value",
    "effect",
    "effect_name",
)
KOLADA = {
    None: {
        "hme": "U00200",
        "hme.motivation": "U00201",
        "hme.ledarskap": "U00202",
        "hme.styrning": "U00203",
    },
    "IFO": {
        "hme": "U30200",
        "hme.motivation": "U30201",
        "hme.ledarskap": "U30202",
        "hme.styrning": "U30203",
    },
}
HME_PARTS = {
    "hme": ("hme.motivation", "hme.ledarskap", "hme.styrning"),
    "hme.motivation": ("hme.motivation",),
    "hme.ledarskap": ("hme.ledarskap",),
    "hme.styrning": ("hme.styrning",),
}


def _paths(session: Session) -> tuple[dict[int, Unit], dict[int, str]]:
    units = {u.id: u for u in session.scalars(select(Unit))}
    paths: dict[int, str] = {}
    for unit in units.values():
        parts: list[str] = []
        current: Unit | None = unit
        while current is not None:
            parts.append(current.code)
            current = units.get(current.parent_id) if current.parent_id else None
        paths[unit.id] = "/".join(reversed(parts))
    return units, paths


def _publication(session: Session, round_id: int) -> Publication:
    publication = session.scalars(
        select(Publication).where(Publication.round_id == round_id, Publication.current)
    ).one_or_none()
    if publication is None:
        raise NotFound("not_published", field="round")
    return publication


def _round_rows(session: Session, survey_round: SurveyRound) -> list[dict[str, Any]]:
    publication = _publication(session, survey_round.id)
    units, paths = _paths(session)
    groups = {
        g.key: g
        for g in session.scalars(
            select(PublishedGroup)
            .where(PublishedGroup.publication_id == publication.id)
            .order_by(PublishedGroup.key)
        )
    }

    def where(key: str) -> dict[str, Any]:
        g = groups[key]
        return {
            "round_id": survey_round.id,
            "period": survey_round.period_label,
            "unit_code": units[g.unit_id].code,
            "unit_path": paths[g.unit_id],
            "group_filter": f"{g.filter_question}={g.filter_value}" if g.filter_question else "",
        }

    rows: list[dict[str, Any]] = []
    for g in groups.values():
        if not g.hidden:
            rows.append(
                {"record": "group", **where(g.key), "measure": "respondents", "n": g.respondents}
            )
    for g in groups.values():
        for f in sorted(g.figure_records(), key=lambda f: f["measure"]):
            rows.append(
                {
                    "record": "figure",
                    **where(g.key),
                    **{name: f[name] for name in FIGURE_EXPORT},
                }
            )
    for g in groups.values():
        for c in sorted(
            g.comparison_records(), key=lambda c: (c["measure"], c["metric"], c["kind"])
        ):
            rows.append(
                {
                    "record": "comparison",
                    **where(g.key),
                    **{name: c[name] for name in COMPARISON_EXPORT},
                    "comparison": c["kind"],
                    "q_value": c["q_group"],
                    "significant": int(c["significant"]),
                }
            )
    for s in session.scalars(
        select(SuppressedCell).where(SuppressedCell.publication_id == publication.id)
    ):
        measure = "" if s.measure == WHOLE_GROUP else s.measure
        rows.append({"record": "hidden", **where(s.group_key), "measure": measure, "rule": s.rule})
    return rows


def results_csv(session: Session, round_ids: list[int]) -> str:
    """Every published cell of the rounds, one row each (hidden cells: rule, no figures)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="raise", lineterminator="\n")
    writer.writeheader()
    for round_id in round_ids:
        survey_round = session.get(SurveyRound, round_id)
        if survey_round is None:
            raise NotFound("unknown_round", field="round")
        for row in _round_rows(session, survey_round):
            writer.writerow({k: _fmt(row.get(k)) for k in COLUMNS})
    return out.getvalue()


def _fmt(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else value


def published_round_ids(session: Session) -> list[int]:
    return list(
        session.scalars(
            select(Publication.round_id).where(Publication.current).order_by(Publication.round_id)
        )
    )


def kolada_rows(session: Session, round_id: int) -> list[dict[str, Any]]:
    """HME total and sub-indices for the organisation and per verksamhet, Kolada's rule.

    A verksamhet's figure is the item-mean over the union of its top tagged units, computed
    from their shown item distributions; if any of them is hidden, so is the verksamhet.
    """
    survey_round = session.get_one(SurveyRound, round_id)
    publication = _publication(session, round_id)
    units = _paths(session)[0]
    unit_groups = {
        g.unit_id: g
        for g in session.scalars(
            select(PublishedGroup)
            .where(
                PublishedGroup.publication_id == publication.id,
                PublishedGroup.filter_question.is_(None),
            )
            # Only figures are used: the comparisons are most of what is stored.
            .options(
                defer(PublishedGroup.index_comparisons), defer(PublishedGroup.item_comparisons)
            )
        )
    }
    figures: dict[str, dict[str, dict[str, Any]]] = {
        g.key: {f["measure"]: f for f in g.figure_records()} for g in unit_groups.values()
    }
    roots = [u for u in unit_groups if units[u].parent_id not in unit_groups]
    targets: list[tuple[str | None, list[int]]] = [(None, roots)]
    tags = sorted({u.verksamhet for u in units.values() if u.verksamhet and u.id in unit_groups})
    for name in tags:
        top = [
            u
            for u in unit_groups
            if units[u].verksamhet == name and not _parent_has(units, units[u], name)
        ]
        targets.append((name, top))
    item_keys = _hme_items(figures)
    rows = []
    for target, members in targets:
        keys = [unit_groups[u].key for u in members]
        codes = KOLADA.get(target, {})
        for measure, parts in HME_PARTS.items():
            value, n = _union_item_mean(figures, keys, item_keys, parts)
            rows.append(
                {
                    "kpi": codes.get(measure, ""),
                    "period": survey_round.period_label,
                    "verksamhet": target or "",
                    "measure": measure,
                    "value": "" if value is None else f"{value:.1f}",
                    "n": "" if n is None else n,
                }
            )
    return rows


def _parent_has(units: dict[int, Unit], unit: Unit, tag: str) -> bool:
    parent = units.get(unit.parent_id) if unit.parent_id is not None else None
    return parent is not None and parent.verksamhet == tag


def _hme_items(figures: dict[str, dict[str, dict[str, Any]]]) -> dict[str, list[str]]:
    keys: set[str] = set()
    for per_group in figures.values():
        keys |= {m for m in per_group if m.startswith("hme.") and m.count(".") == 2}
    result: dict[str, list[str]] = defaultdict(list)
    for key in sorted(keys):
        result[key.rsplit(".", 1)[0]].append(key)
    return result


def _union_item_mean(
    figures: dict[str, dict[str, dict[str, Any]]],
    group_keys: list[str],
    item_keys: dict[str, list[str]],
    parts: tuple[str, ...],
) -> tuple[float | None, int | None]:
    """Mean of item means (0–100) over the union of groups; None if anything is hidden."""
    if not group_keys:
        return None, None
    item_means, respondents = [], 0
    for part in parts:
        for item in item_keys.get(part, []):
            total, n = 0.0, 0
            for key in group_keys:
                f = figures.get(key, {}).get(item)
                distribution = None if f is None else f["distribution"]
                if not distribution:
                    return None, None
                points = len(distribution)
                total += sum(
                    c * (v - 1) / (points - 1) * 100 for v, c in enumerate(distribution, 1)
                )
                n += sum(distribution)
            if n == 0:
                return None, None
            item_means.append(total / n)
            respondents = max(respondents, n)
    if not item_means:
        return None, None
    return sum(item_means) / len(item_means), respondents


def kolada_csv(session: Session, round_id: int) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(
        out,
        fieldnames=["kpi", "period", "verksamhet", "measure", "value", "n"],
        lineterminator="\n",
    )
    writer.writeheader()
    writer.writerows(kolada_rows(session, round_id))
    return out.getvalue()
