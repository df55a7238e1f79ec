"""Publishing a round: run the gate once, store what passed and the suppression log."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from survey import anonymity
from survey.comparisons import Previous
from survey.models import SurveyRound, UnitLineage
from survey.models.publication import (
    Publication,
    PublishedComparison,
    PublishedDriver,
    PublishedFigure,
    PublishedGroup,
    SuppressedCell,
)
from survey.services.aggregates import load_round
from survey.services.errors import Conflict

CHUNK = 5000


def _lineage(session: Session) -> pd.DataFrame:
    rows = session.execute(
        select(UnitLineage.predecessor_id, UnitLineage.successor_id, UnitLineage.kind)
    ).all()
    return pd.DataFrame(rows, columns=["predecessor", "successor", "kind"])


def previous_rounds(session: Session, survey_round: SurveyRound) -> list[Previous]:
    """Earlier published rounds (oldest first) with their shown unit figures."""
    earlier = session.execute(
        select(SurveyRound, Publication)
        .join(Publication, Publication.round_id == SurveyRound.id)
        .where(Publication.current, SurveyRound.closes_on < survey_round.opens_on)
        .order_by(SurveyRound.closes_on)
    ).all()
    result = []
    for order, (prev_round, publication) in enumerate(earlier):
        rows = session.execute(
            select(
                PublishedGroup.unit_id,
                PublishedFigure.measure,
                PublishedFigure.kind,
                PublishedFigure.n,
                PublishedFigure.mean,
                PublishedFigure.sd,
                PublishedFigure.score_mean,
                PublishedFigure.distribution,
            )
            .join(
                PublishedGroup,
                (PublishedGroup.publication_id == PublishedFigure.publication_id)
                & (PublishedGroup.key == PublishedFigure.group_key),
            )
            .where(
                PublishedFigure.publication_id == publication.id,
                PublishedGroup.filter_question.is_(None),
            )
        ).all()
        units = session.scalars(
            select(PublishedGroup.unit_id).where(
                PublishedGroup.publication_id == publication.id,
                PublishedGroup.filter_question.is_(None),
            )
        ).all()
        figures = pd.DataFrame(
            rows,
            columns=["unit", "measure", "kind", "n", "mean", "sd", "score_mean", "distribution"],
        )
        result.append(Previous(prev_round.period_label, order, figures, frozenset(units)))
    return result


def _clean(value: Any) -> Any:
    """Plain Python values for the database: NaN and NA become NULL, numpy scalars unboxed."""
    if isinstance(value, list | tuple | dict | str):
        return [_clean(v) for v in value] if isinstance(value, list | tuple) else value
    if value is None or pd.isna(value):
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _records(frame: pd.DataFrame, columns: dict[str, str], **fixed: Any) -> list[dict[str, Any]]:
    out = []
    for row in frame.loc[:, list(columns)].itertuples(index=False, name=None):
        record = {target: _clean(v) for target, v in zip(columns.values(), row, strict=True)}
        record.update(fixed)
        out.append(record)
    return out


def _insert(session: Session, model: type, records: list[dict[str, Any]]) -> None:
    for start in range(0, len(records), CHUNK):
        session.execute(insert(model), records[start : start + CHUNK])


def publish_round(
    session: Session, round_id: int, today: dt.date, by: str = "lyhord"
) -> Publication:
    """Close-and-publish step: compute through the gate and store (flushed, not committed)."""
    survey_round = session.get_one(SurveyRound, round_id)
    if survey_round.status not in ("closed", "published"):
        raise Conflict("round_not_closed")
    data = load_round(session, round_id)
    gated = anonymity.gate_round(data, previous_rounds(session, survey_round), _lineage(session))
    session.execute(
        update(Publication).where(Publication.round_id == round_id).values(current=False)
    )
    publication = Publication(
        round_id=round_id,
        published_on=today,
        published_by=by,
        current=True,
        min_group_size=survey_round.min_group_size,
        min_group_size_text=survey_round.min_group_size_text,
        min_group_size_sensitive=survey_round.min_group_size_sensitive,
        engine=anonymity.ENGINE,
        audit={k: _clean(v) for k, v in gated.audit.items()},
    )
    session.add(publication)
    session.flush()
    pid = publication.id
    _insert(
        session,
        PublishedGroup,
        _records(
            gated.groups,
            {
                "key": "key",
                "unit": "unit_id",
                "filter_question": "filter_question",
                "filter_value": "filter_value",
                "hidden": "hidden",
                "rule": "rule",
                "respondents": "respondents",
                "headcount": "headcount",
                "response_rate": "response_rate",
            },
            publication_id=pid,
        ),
    )
    _insert(
        session,
        PublishedFigure,
        _records(
            gated.figures,
            {
                "group": "group_key",
                "measure": "measure",
                "kind": "kind",
                "n": "n",
                "mean": "mean",
                "sd": "sd",
                "score_mean": "score_mean",
                "median": "median",
                "pct_positive": "pct_positive",
                "pct_negative": "pct_negative",
                "distribution": "distribution",
            },
            publication_id=pid,
        ),
    )
    _insert(
        session,
        SuppressedCell,
        _records(
            gated.suppressed,
            {"group": "group_key", "measure": "measure", "rule": "rule"},
            publication_id=pid,
        ),
    )
    _insert(
        session,
        PublishedComparison,
        _records(
            gated.comparisons,
            {
                "group": "group_key",
                "measure": "measure",
                "metric": "metric",
                "kind": "kind",
                "reference": "reference",
                "value_b": "reference_value",
                "difference": "difference",
                "ci_low": "ci_low",
                "ci_high": "ci_high",
                "test": "test",
                "statistic": "statistic",
                "p_value": "p_value",
                "q_group": "q_group",
                "q_overview": "q_overview",
                "effect_size": "effect",
                "effect_size_name": "effect_name",
                "significant": "significant",
                "note": "note",
            },
            publication_id=pid,
        ),
    )
    _insert(
        session,
        PublishedDriver,
        _records(
            gated.drivers,
            {
                "outcome": "outcome",
                "measure": "measure",
                "n": "n",
                "rho": "rho",
                "ci_low": "ci_low",
                "ci_high": "ci_high",
                "p_value": "p_value",
                "q_value": "q_value",
                "rank": "rank",
            },
            publication_id=pid,
        ),
    )
    survey_round.status = "published"
    session.flush()
    return publication
