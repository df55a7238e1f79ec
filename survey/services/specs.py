"""Immutable snapshots of questionnaires, for rendering and validating answers.

A questionnaire that a round has opened with is locked and never changes, so its snapshot
can be kept per process: there is nothing for several workers to disagree about.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from survey.models import Questionnaire, Section

Texts = tuple[tuple[str, str], ...]  # hashable form of {"sv": ..., "en": ...}


def texts(mapping: dict[str, str] | None) -> Texts:
    return tuple(sorted((mapping or {}).items()))


@dataclass(frozen=True)
class OptionSpec:
    value: int
    label: Texts


@dataclass(frozen=True)
class QuestionSpec:
    id: int
    key: str
    kind: str
    text: Texts
    help: Texts
    scale_points: int | None
    low_label: Texts
    high_label: Texts
    dont_know: bool
    options: tuple[OptionSpec, ...]
    required: bool
    sensitive: bool
    background: bool
    max_length: int | None


@dataclass(frozen=True)
class SectionSpec:
    id: int
    position: int
    title: Texts
    intro: Texts
    questions: tuple[QuestionSpec, ...]


@dataclass(frozen=True)
class QuestionnaireSpec:
    id: int
    key: str
    version: int
    title: Texts
    intro: Texts
    sections: tuple[SectionSpec, ...]
    languages: tuple[str, ...]

    def questions(self) -> tuple[QuestionSpec, ...]:
        return self._questions

    def question(self, key: str) -> QuestionSpec | None:
        return self._by_key.get(key)

    # Derived once per snapshot (a snapshot never changes); validating a submission looks
    # up every answer's question, which was a scan of all questions per answer.
    @cached_property
    def _questions(self) -> tuple[QuestionSpec, ...]:
        return tuple(q for s in self.sections for q in s.questions)

    @cached_property
    def _by_key(self) -> dict[str, QuestionSpec]:
        return {q.key: q for q in reversed(self._questions)}  # the first of a key wins

    def section_count(self) -> int:
        return len(self.sections)


def _options(raw: list[dict[str, Any]] | None) -> tuple[OptionSpec, ...]:
    return tuple(OptionSpec(int(o["value"]), texts(o["label"])) for o in raw or [])


def build_spec(questionnaire: Questionnaire) -> QuestionnaireSpec:
    sections = tuple(
        SectionSpec(
            id=s.id,
            position=s.position,
            title=texts(s.title),
            intro=texts(s.intro),
            questions=tuple(
                QuestionSpec(
                    id=q.id,
                    key=q.key,
                    kind=q.kind,
                    text=texts(q.text),
                    help=texts(q.help),
                    scale_points=q.scale_points,
                    low_label=texts(q.low_label),
                    high_label=texts(q.high_label),
                    dont_know=q.dont_know,
                    options=_options(q.options),
                    required=q.required,
                    sensitive=q.sensitive,
                    background=q.background,
                    max_length=q.max_length,
                )
                for q in s.questions
            ),
        )
        for s in questionnaire.sections
    )
    return QuestionnaireSpec(
        id=questionnaire.id,
        key=questionnaire.key,
        version=questionnaire.version,
        title=texts(questionnaire.title),
        intro=texts(questionnaire.intro),
        sections=sections,
        languages=tuple(questionnaire.languages()),
    )


_locked: dict[int, QuestionnaireSpec] = {}


def questionnaire_spec(session: Session, questionnaire_id: int) -> QuestionnaireSpec:
    """The snapshot of a questionnaire; locked ones are cached for the life of the process."""
    cached = _locked.get(questionnaire_id)
    if cached is not None:
        return cached
    questionnaire = session.scalars(
        select(Questionnaire)
        .where(Questionnaire.id == questionnaire_id)
        .options(selectinload(Questionnaire.sections).selectinload(Section.questions))
    ).one()
    spec = build_spec(questionnaire)
    if questionnaire.locked:
        _locked[questionnaire_id] = spec
    return spec


def forget_cached_specs() -> None:
    """Drop the per-process snapshots (tests reuse ids after rolling back)."""
    _locked.clear()
