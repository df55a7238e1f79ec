"""Survey rounds: create, issue links and codes, open, close."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from survey.models import (
    Invitation,
    InvitationContact,
    Questionnaire,
    RoundUnit,
    SurveyRound,
    ThresholdChange,
    Unit,
)
from survey.services import tokens
from survey.services.errors import Conflict, Invalid


@dataclass(frozen=True)
class Thresholds:
    k: int
    k_text: int
    k_sensitive: int

    def problems(self) -> dict[str, str]:
        errors = {}
        if self.k < 3:
            errors["min_group_size"] = "too_small"
        if self.k_text < self.k:
            errors["min_group_size_text"] = "below_k"
        if self.k_sensitive < self.k:
            errors["min_group_size_sensitive"] = "below_k"
        return errors


@dataclass(frozen=True)
class NewRound:
    questionnaire_id: int
    title: str
    period_label: str
    opens_on: dt.date
    closes_on: dt.date
    organiser: str
    contact: str
    headcounts: Mapping[int, int]  # unit id → headcount
    thresholds: Thresholds
    estimated_minutes: int = 15


def create_round(session: Session, new: NewRound, by: str, today: dt.date) -> SurveyRound:
    errors = new.thresholds.problems()
    if new.closes_on < new.opens_on:
        errors["closes_on"] = "before_opens_on"
    if not new.headcounts:
        errors["units"] = "none"
    if any(h < 0 for h in new.headcounts.values()):
        errors["units"] = "negative_headcount"
    if session.get(Questionnaire, new.questionnaire_id) is None:
        errors["questionnaire_id"] = "unknown"
    if errors:
        raise Invalid(errors)
    survey_round = SurveyRound(
        questionnaire_id=new.questionnaire_id,
        title=new.title,
        period_label=new.period_label,
        opens_on=new.opens_on,
        closes_on=new.closes_on,
        status="draft",
        organiser=new.organiser,
        contact=new.contact,
        min_group_size=new.thresholds.k,
        min_group_size_text=new.thresholds.k_text,
        min_group_size_sensitive=new.thresholds.k_sensitive,
        estimated_minutes=new.estimated_minutes,
    )
    survey_round.units = [RoundUnit(unit_id=u, headcount=h) for u, h in new.headcounts.items()]
    session.add(survey_round)
    session.flush()
    _log_thresholds(session, survey_round, by, today, "created")
    return survey_round


def _log_thresholds(
    session: Session, survey_round: SurveyRound, by: str, today: dt.date, reason: str
) -> None:
    session.add(
        ThresholdChange(
            round_id=survey_round.id,
            changed_on=today,
            changed_by=by,
            min_group_size=survey_round.min_group_size,
            min_group_size_text=survey_round.min_group_size_text,
            min_group_size_sensitive=survey_round.min_group_size_sensitive,
            reason=reason,
        )
    )


def change_thresholds(
    session: Session,
    survey_round: SurveyRound,
    thresholds: Thresholds,
    by: str,
    today: dt.date,
    reason: str,
) -> None:
    """Only before the round opens: after that, k is locked for the round."""
    if survey_round.status != "draft":
        raise Conflict("thresholds_locked", field="min_group_size")
    errors = thresholds.problems()
    if errors:
        raise Invalid(errors)
    survey_round.min_group_size = thresholds.k
    survey_round.min_group_size_text = thresholds.k_text
    survey_round.min_group_size_sensitive = thresholds.k_sensitive
    _log_thresholds(session, survey_round, by, today, reason)
    session.flush()


def open_round(session: Session, survey_round: SurveyRound) -> None:
    if survey_round.status != "draft":
        raise Conflict("not_draft")
    survey_round.status = "open"
    survey_round.questionnaire.locked = True
    session.flush()


def close_round(session: Session, survey_round: SurveyRound) -> None:
    """Close: no more answers; personal data (e-mail addresses) and unfinished drafts go, and
    the stored order of the responses is scrubbed."""
    if survey_round.status != "open":
        raise Conflict("not_open")
    survey_round.status = "closed"
    invitation_ids = select(Invitation.id).where(Invitation.round_id == survey_round.id)
    session.execute(
        delete(InvitationContact).where(InvitationContact.invitation_id.in_(invitation_ids))
    )
    session.execute(
        update(Invitation).where(Invitation.round_id == survey_round.id).values(draft=None)
    )
    scrub_storage_order(session, survey_round.id)
    session.flush()


def scrub_storage_order(session: Session, round_id: int) -> None:
    """Rewrite a closed round's responses in random-id order.

    PostgreSQL keeps rows in the order they were inserted, each stamped with the inserting
    transaction's id; next to an access log, that order could match submissions to people.
    Rewriting the rows sorted by their random id gives them one transaction id and an order
    that says nothing. (SQLite's response tables are WITHOUT ROWID, already ordered by id.)
    Old row versions disappear at the next VACUUM.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    params = {"round_id": round_id}
    statements = [
        "CREATE TEMPORARY TABLE scrub_response ON COMMIT DROP AS "
        "SELECT * FROM response WHERE round_id = :round_id",
        "CREATE TEMPORARY TABLE scrub_answer ON COMMIT DROP AS "
        "SELECT * FROM answer WHERE response_id IN "
        "(SELECT id FROM response WHERE round_id = :round_id)",
        "CREATE TEMPORARY TABLE scrub_text ON COMMIT DROP AS "
        "SELECT * FROM free_text_answer WHERE round_id = :round_id",
        "DELETE FROM answer WHERE response_id IN "
        "(SELECT id FROM response WHERE round_id = :round_id)",
        "DELETE FROM response WHERE round_id = :round_id",
        "DELETE FROM free_text_answer WHERE round_id = :round_id",
        "INSERT INTO response SELECT * FROM scrub_response ORDER BY id",
        "INSERT INTO answer SELECT * FROM scrub_answer ORDER BY response_id, question_id, value",
        "INSERT INTO free_text_answer SELECT * FROM scrub_text ORDER BY id",
        # Dropped here too, not only on commit: one transaction may close several rounds.
        "DROP TABLE scrub_response, scrub_answer, scrub_text",
    ]
    for statement in statements:
        session.execute(text(statement), params)


def issue_invitations(
    session: Session,
    survey_round: SurveyRound,
    unit: Unit,
    count: int,
    secret_key: str,
    today: dt.date,
    kind: str = "link",
) -> list[str]:
    """``count`` new tokens (links) or paper codes for ``unit``; returned once, stored hashed."""
    if survey_round.status not in ("draft", "open"):
        raise Conflict("round_closed")
    if unit.id not in {ru.unit_id for ru in survey_round.units}:
        raise Invalid({"unit": "not_in_round"})
    if kind not in ("link", "code") or not 1 <= count <= 10_000:
        raise Invalid({"count": "out_of_range"})
    made = [tokens.new_link_token() if kind == "link" else tokens.new_code() for _ in range(count)]
    session.add_all(
        Invitation(
            round_id=survey_round.id,
            unit_id=unit.id,
            kind=kind,
            token_hash=tokens.token_hash(secret_key, token),
            created_on=today,
        )
        for token in made
    )
    session.flush()
    return made
