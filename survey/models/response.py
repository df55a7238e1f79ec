"""Invitations and responses, stored so that nothing links one to the other.

* An invitation knows its round and unit, a hash of its token, and the *date* it was used.
* A response knows its round, unit and the *date* it came in; its id is random (no order).
* No foreign key, id order, shared timestamp or shared column connects the two.
* Free-text answers are stored apart from the response (own random id), so a comment
  cannot be joined to the background answers of the person who wrote it.
* On SQLite the response tables are WITHOUT ROWID, so not even the hidden rowid
  records the order in which responses arrived.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.db import Base
from survey.models.types import intpk, randompk

DONT_KNOW = 0  # stored value of "vet ej / ej aktuellt"; never counted in n
INVITATION_KINDS = ("link", "code")


class Invitation(Base):
    __tablename__ = "invitation"

    id: Mapped[intpk]
    round_id: Mapped[int] = mapped_column(
        ForeignKey("survey_round.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(8), default="link")
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_on: Mapped[dt.date]
    used_on: Mapped[dt.date | None]
    # Answers saved so far, encrypted with a key derived from the token, which only the
    # respondent holds: nobody reading the database can read an unfinished response.
    draft: Mapped[bytes | None] = mapped_column(LargeBinary)

    __table_args__ = (CheckConstraint("kind IN ('link', 'code')", name="kind"),)


class InvitationContact(Base):
    """Personal data, kept only while the round is open (for reminders), then deleted."""

    __tablename__ = "invitation_contact"

    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitation.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str] = mapped_column(String(320))


class Response(Base):
    __tablename__ = "response"
    __table_args__ = ({"sqlite_with_rowid": False},)

    id: Mapped[randompk]
    round_id: Mapped[int] = mapped_column(
        ForeignKey("survey_round.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="RESTRICT"), index=True)
    submitted_on: Mapped[dt.date]

    answers: Mapped[list[Answer]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class Answer(Base):
    """One value: a Likert point, a chosen option (one row per option for multiple choice)."""

    __tablename__ = "answer"
    __table_args__ = (
        CheckConstraint("value BETWEEN 0 AND 99", name="value_range"),
        {"sqlite_with_rowid": False},
    )

    response_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("response.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("question.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    value: Mapped[int] = mapped_column(SmallInteger, primary_key=True)


class FreeTextAnswer(Base):
    """A comment, deliberately not linked to its response. Published only above k_text, screened."""

    __tablename__ = "free_text_answer"
    __table_args__ = (
        CheckConstraint("status IN ('new', 'approved', 'rejected')", name="status"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[randompk]
    round_id: Mapped[int] = mapped_column(
        ForeignKey("survey_round.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="RESTRICT"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="RESTRICT"))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="new")
    redacted_text: Mapped[str | None] = mapped_column(Text)

    question = relationship("Question")
