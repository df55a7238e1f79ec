"""Survey rounds and the units (with headcount) they include."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.db import Base
from survey.models.org import Unit
from survey.models.questionnaire import Questionnaire
from survey.models.types import intpk, name_str

ROUND_STATUSES = ("draft", "open", "closed", "published")


class SurveyRound(Base):
    __tablename__ = "survey_round"

    id: Mapped[intpk]
    questionnaire_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaire.id", ondelete="RESTRICT"), index=True
    )
    title: Mapped[name_str]
    period_label: Mapped[str] = mapped_column(String(32))
    opens_on: Mapped[dt.date]
    closes_on: Mapped[dt.date]
    status: Mapped[str] = mapped_column(String(16), default="draft")
    # Who runs the survey and whom to ask, shown on the welcome page.
    organiser: Mapped[name_str]
    contact: Mapped[str] = mapped_column(String(200), default="")
    # Minimum group sizes; locked once the round opens (services.rounds enforces it).
    min_group_size: Mapped[int] = mapped_column(Integer)
    min_group_size_text: Mapped[int] = mapped_column(Integer)
    min_group_size_sensitive: Mapped[int] = mapped_column(Integer)
    estimated_minutes: Mapped[int] = mapped_column(Integer, default=15)
    note: Mapped[str | None] = mapped_column(Text)

    questionnaire: Mapped[Questionnaire] = relationship()
    units: Mapped[list[RoundUnit]] = relationship(
        back_populates="round", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint("status IN ('draft', 'open', 'closed', 'published')", name="status"),
        CheckConstraint("opens_on <= closes_on", name="dates"),
        CheckConstraint("min_group_size >= 3", name="k"),
        CheckConstraint("min_group_size_text >= min_group_size", name="k_text"),
        CheckConstraint("min_group_size_sensitive >= min_group_size", name="k_sensitive"),
    )

    def accepts_answers_on(self, day: dt.date) -> bool:
        return self.status == "open" and self.opens_on <= day <= self.closes_on


class RoundUnit(Base):
    """A unit included in a round, with the headcount response rates are computed against."""

    __tablename__ = "round_unit"

    id: Mapped[intpk]
    round_id: Mapped[int] = mapped_column(
        ForeignKey("survey_round.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="RESTRICT"), index=True)
    headcount: Mapped[int] = mapped_column(Integer, default=0)

    round: Mapped[SurveyRound] = relationship(back_populates="units")
    unit: Mapped[Unit] = relationship()

    __table_args__ = (
        UniqueConstraint("round_id", "unit_id"),
        CheckConstraint("headcount >= 0", name="headcount"),
    )


class ThresholdChange(Base):
    """Every setting or change of a round's minimum group sizes, for auditors."""

    __tablename__ = "threshold_change"

    id: Mapped[intpk]
    round_id: Mapped[int] = mapped_column(
        ForeignKey("survey_round.id", ondelete="CASCADE"), index=True
    )
    changed_on: Mapped[dt.date]
    changed_by: Mapped[str] = mapped_column(String(320))
    min_group_size: Mapped[int] = mapped_column(Integer)
    min_group_size_text: Mapped[int] = mapped_column(Integer)
    min_group_size_sensitive: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")
