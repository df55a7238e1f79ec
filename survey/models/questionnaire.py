"""Questionnaires: sections, questions and the indices computed from them.

Every question has a stable ``key`` (``hme.motivation.1``) so that rounds built on different
questionnaires (or versions) can be compared question by question.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.db import Base
from survey.models.types import code_str, i18n, intpk

QUESTION_KINDS = ("likert", "single", "multi", "text")
INDEX_RULES = ("item_mean", "respondent_mean")


class Questionnaire(Base):
    __tablename__ = "questionnaire"

    id: Mapped[intpk]
    key: Mapped[code_str]
    version: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[i18n]
    intro: Mapped[dict[str, str] | None] = mapped_column(JSON)
    # Once a round using it has opened, the questionnaire may not change.
    locked: Mapped[bool] = mapped_column(Boolean, default=False)

    sections: Mapped[list[Section]] = relationship(
        back_populates="questionnaire", order_by="Section.position", cascade="all, delete-orphan"
    )
    indices: Mapped[list[Index]] = relationship(
        back_populates="questionnaire", order_by="Index.position", cascade="all, delete-orphan"
    )

    __table_args__ = (UniqueConstraint("key", "version"),)

    def languages(self) -> list[str]:
        """Languages every text of the questionnaire is available in."""
        langs = set(self.title)
        for section in self.sections:
            langs &= set(section.title)
            for question in section.questions:
                langs &= set(question.text)
        return sorted(langs, key=lambda lang: (lang != "sv", lang))

    def questions(self) -> list[Question]:
        return [q for s in self.sections for q in s.questions]


class Section(Base):
    __tablename__ = "section"

    id: Mapped[intpk]
    questionnaire_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaire.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    title: Mapped[i18n]
    intro: Mapped[dict[str, str] | None] = mapped_column(JSON)

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="sections")
    questions: Mapped[list[Question]] = relationship(
        back_populates="section", order_by="Question.position", cascade="all, delete-orphan"
    )

    __table_args__ = (UniqueConstraint("questionnaire_id", "position"),)


class Question(Base):
    """One question. ``kind`` picks its behaviour from :mod:`survey.questions`."""

    __tablename__ = "question"

    id: Mapped[intpk]
    questionnaire_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaire.id", ondelete="CASCADE"), index=True
    )
    section_id: Mapped[int] = mapped_column(
        ForeignKey("section.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    key: Mapped[code_str]
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[i18n]
    help: Mapped[dict[str, str] | None] = mapped_column(JSON)
    # Likert: number of scale points and the labels of both ends.
    scale_points: Mapped[int | None] = mapped_column(Integer)
    low_label: Mapped[dict[str, str] | None] = mapped_column(JSON)
    high_label: Mapped[dict[str, str] | None] = mapped_column(JSON)
    # "Vet ej / ej aktuellt": not a value, left out of n.
    dont_know: Mapped[bool] = mapped_column(Boolean, default=False)
    # Single and multiple choice: [{"value": 1, "label": {"sv": ..., "en": ...}}, ...]
    options: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    # Threats, violence, victimisation: published only above a higher threshold.
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    # Background questions (age band, gender, ...) define breakdowns.
    background: Mapped[bool] = mapped_column(Boolean, default=False)
    max_length: Mapped[int | None] = mapped_column(Integer)

    section: Mapped[Section] = relationship(back_populates="questions")

    __table_args__ = (
        UniqueConstraint("questionnaire_id", "key"),
        UniqueConstraint("section_id", "position"),
        CheckConstraint("kind IN ('likert', 'single', 'multi', 'text')", name="kind"),
        CheckConstraint("kind <> 'likert' OR (scale_points BETWEEN 2 AND 11)", name="likert_scale"),
    )

    def __repr__(self) -> str:
        return f"<Question {self.key}>"


class Index(Base):
    """A named set of questions with a scoring rule (HME's item mean, COPSOQ's respondent mean)."""

    __tablename__ = "question_index"

    id: Mapped[intpk]
    questionnaire_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaire.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    key: Mapped[code_str]
    name: Mapped[i18n]
    rule: Mapped[str] = mapped_column(String(32))
    # respondent_mean: a respondent's score counts only if they answered at least this share.
    min_answered_share: Mapped[float] = mapped_column(Float, default=0.5)

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="indices")
    items: Mapped[list[IndexItem]] = relationship(
        back_populates="index", cascade="all, delete-orphan", order_by="IndexItem.id"
    )

    __table_args__ = (
        UniqueConstraint("questionnaire_id", "key"),
        CheckConstraint("rule IN ('item_mean', 'respondent_mean')", name="rule"),
        CheckConstraint("min_answered_share > 0 AND min_answered_share <= 1", name="share"),
    )


class IndexItem(Base):
    __tablename__ = "question_index_item"

    id: Mapped[intpk]
    index_id: Mapped[int] = mapped_column(
        ForeignKey("question_index.id", ondelete="CASCADE"), index=True
    )
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"))
    reverse: Mapped[bool] = mapped_column(Boolean, default=False)

    index: Mapped[Index] = relationship(back_populates="items")
    question: Mapped[Question] = relationship()

    __table_args__ = (UniqueConstraint("index_id", "question_id"),)
