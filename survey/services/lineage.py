"""What a unit is compared with in the previous round, in words for its results page."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

import analysis
from survey.models import SurveyRound, Unit, UnitLineage
from survey.models.publication import Publication, PublishedGroup


@dataclass(frozen=True)
class PreviousContext:
    """``status``: first (no earlier published round), same, rename, merge, split,
    no_predecessor (new unit), or hidden (its predecessors showed no figures then)."""

    status: str
    period: str | None
    predecessors: tuple[str, ...]


def earlier_publications(survey_round: SurveyRound) -> Select[SurveyRound, Publication]:
    """The current publications of the rounds that closed before ``survey_round`` opened:
    what its comparisons with earlier rounds, and its pages' words about them, refer to."""
    return (
        select(SurveyRound, Publication)
        .join(Publication, Publication.round_id == SurveyRound.id)
        .where(Publication.current, SurveyRound.closes_on < survey_round.opens_on)
    )


def lineage_edges(session: Session) -> pd.DataFrame:
    """Every recorded reorganisation: ``predecessor, successor, kind``."""
    rows = session.execute(
        select(UnitLineage.predecessor_id, UnitLineage.successor_id, UnitLineage.kind)
    ).all()
    return pd.DataFrame(rows, columns=["predecessor", "successor", "kind"])


def previous_context(session: Session, survey_round: SurveyRound, unit_id: int) -> PreviousContext:
    row = session.execute(
        earlier_publications(survey_round).order_by(SurveyRound.closes_on.desc()).limit(1)
    ).first()
    if row is None:
        return PreviousContext("first", None, ())
    period, publication_id = row[0].period_label, row[1].id
    hidden: dict[int, bool] = {}
    for unit, is_hidden in session.execute(
        select(PublishedGroup.unit_id, PublishedGroup.hidden).where(
            PublishedGroup.publication_id == publication_id,
            PublishedGroup.filter_question.is_(None),
        )
    ):
        hidden[unit] = is_hidden
    resolved = analysis.resolve_lineage(lineage_edges(session), set(hidden), [unit_id]).iloc[0]
    predecessors = tuple(int(u) for u in resolved["predecessors"])
    names = tuple(
        session.scalars(select(Unit.name).where(Unit.id.in_(predecessors)).order_by(Unit.name))
    )
    if resolved["status"] == "no_predecessor":
        return PreviousContext("no_predecessor", period, ())
    if any(hidden[p] for p in predecessors):
        return PreviousContext("hidden", period, names)
    return PreviousContext(str(resolved["status"]), period, names)
