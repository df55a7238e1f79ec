"""Answering a survey: open a link, save pages, submit once.

The invitation is claimed (``used_on`` set) and the response inserted in the same
transaction, but nothing written on either side points to the other: the response gets a
random id and the date only.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, cast

from sqlalchemy import (
    Integer,
    Row,
    Select,
    SmallInteger,
    Table,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from survey.models import Answer, FreeTextAnswer, Invitation, Response, SurveyRound
from survey.services import tokens
from survey.services.answers import StoredAnswer, check_answers
from survey.services.errors import DomainError, Invalid
from survey.services.specs import QuestionnaireSpec, QuestionSpec, questionnaire_spec


class LinkError(DomainError):
    """The link or code cannot be used now; the view shows a page for each subclass."""


class UnknownLink(LinkError):
    pass


class AlreadyAnswered(LinkError):
    pass


class NotOpenYet(LinkError):
    def __init__(self, opens_on: dt.date) -> None:
        super().__init__()
        self.opens_on = opens_on


class RoundClosed(LinkError):
    pass


@dataclass(frozen=True)
class Respondent:
    """What the respondent's session holds after the token was exchanged."""

    invitation_id: int
    key: str


@dataclass
class Draft:
    answers: dict[str, StoredAnswer]
    page: int = 1

    def payload(self) -> dict[str, Any]:
        return {"v": 1, "answers": self.answers, "page": self.page}


@dataclass(frozen=True, slots=True)
class RoundInfo:
    """What a respondent's pages show and check of a round: a plain snapshot read together
    with the invitation in one query (building ORM objects for the two cost about as much
    as the rest of a page request's database work)."""

    id: int
    questionnaire_id: int
    title: str
    period_label: str
    opens_on: dt.date
    closes_on: dt.date
    status: str
    organiser: str
    contact: str
    min_group_size: int
    min_group_size_text: int
    min_group_size_sensitive: int
    estimated_minutes: int

    def accepts_answers_on(self, day: dt.date) -> bool:
        return SurveyRound.accepts_answers_on(cast(SurveyRound, self), day)  # the one rule


@dataclass(frozen=True)
class State:
    round: RoundInfo
    spec: QuestionnaireSpec
    draft: Draft


def _check_round(survey_round: RoundInfo, today: dt.date) -> None:
    if survey_round.status == "draft" or (
        survey_round.status == "open" and today < survey_round.opens_on
    ):
        raise NotOpenYet(survey_round.opens_on)
    if not survey_round.accepts_answers_on(today):
        raise RoundClosed()


# The respondent path runs these statements on every request: they are built once, so
# SQLAlchemy reuses their compiled form and cache key instead of rebuilding them each time.
_invitations = cast(Table, Invitation.__table__)
_rounds = cast(Table, SurveyRound.__table__)
_ROUND_FIELDS = [f.name for f in fields(RoundInfo)]
_WITH_ROUND = select(
    _invitations.c.id.label("invitation_id"),
    _invitations.c.used_on,
    _invitations.c.draft,
    *(_rounds.c[name] for name in _ROUND_FIELDS),
).join(_rounds, _rounds.c.id == _invitations.c.round_id)
_BY_TOKEN_HASH = _WITH_ROUND.where(_invitations.c.token_hash == bindparam("token_hash"))
_BY_ID = _WITH_ROUND.where(_invitations.c.id == bindparam("invitation_id"))
_SAVE_DRAFT = (
    update(_invitations)
    .where(_invitations.c.id == bindparam("invitation_id"), _invitations.c.used_on.is_(None))
    .values(draft=bindparam("blob"))
)
_CLAIM = (
    update(_invitations)
    .where(_invitations.c.id == bindparam("invitation_id"), _invitations.c.used_on.is_(None))
    .values(used_on=bindparam("used_on_date"), draft=None)
    .returning(_invitations.c.round_id, _invitations.c.unit_id)
)
_INSERT_RESPONSE = insert(cast(Table, Response.__table__))
_INSERT_ANSWERS = insert(cast(Table, Answer.__table__))
# On PostgreSQL a response's answers go in as two arrays: one statement of three parameters,
# whose conversion psycopg caches, where a VALUES list of 90 it would parse anew each time.
_INSERT_ANSWER_ARRAYS = _INSERT_ANSWERS.from_select(
    ["response_id", "question_id", "value"],
    select(
        bindparam("response_id", type_=cast(Table, Answer.__table__).c.response_id.type),
        func.unnest(bindparam("questions", type_=postgresql.ARRAY(Integer))),
        func.unnest(bindparam("values", type_=postgresql.ARRAY(SmallInteger))),
    ),
)
_INSERT_TEXTS = insert(cast(Table, FreeTextAnswer.__table__))


def _invitation_and_round(
    session: Session, query: Select[Any], params: dict[str, Any]
) -> tuple[Row[Any], RoundInfo]:
    """The invitation (``invitation_id``, ``used_on``, ``draft``) and its round in one
    query; a used invitation is refused."""
    found = session.execute(query, params).one_or_none()
    if found is None:
        raise UnknownLink()
    if found.used_on is not None:
        raise AlreadyAnswered()
    mapping = found._mapping
    return found, RoundInfo(*(mapping[name] for name in _ROUND_FIELDS))


def open_link(session: Session, secret_key: str, token: str, today: dt.date) -> Respondent:
    """Exchange a personal link's token (or a paper code) for a respondent session."""
    if not token or len(token) > 64:
        raise UnknownLink()
    invitation, survey_round = _invitation_and_round(
        session, _BY_TOKEN_HASH, {"token_hash": tokens.token_hash(secret_key, token)}
    )
    _check_round(survey_round, today)
    return Respondent(invitation.invitation_id, tokens.draft_key(token))


def load_state(session: Session, respondent: Respondent, today: dt.date) -> State:
    invitation, survey_round = _invitation_and_round(
        session, _BY_ID, {"invitation_id": respondent.invitation_id}
    )
    _check_round(survey_round, today)
    spec = questionnaire_spec(session, survey_round.questionnaire_id)
    draft = Draft(answers={})
    if invitation.draft is not None:
        payload = tokens.unseal(respondent.key, invitation.invitation_id, invitation.draft)
        if payload is not None:
            draft = Draft(
                answers=dict(payload.get("answers", {})), page=int(payload.get("page", 1))
            )
    return State(survey_round, spec, draft)


def merge_page(
    state: State, section_position: int, answers: Mapping[str, StoredAnswer], next_page: int
) -> Draft:
    """The draft with one page's answers replaced (nothing is written)."""
    section = state.spec.sections[section_position - 1]
    merged = {k: v for k, v in state.draft.answers.items() if k not in _keys(section.questions)}
    merged.update(answers)
    return Draft(answers=merged, page=max(1, min(next_page, state.spec.section_count())))


def save_page(
    session: Session,
    respondent: Respondent,
    state: State,
    section_position: int,
    answers: Mapping[str, StoredAnswer],
    next_page: int,
) -> Draft:
    """Replace the answers of one page in the encrypted draft."""
    draft = merge_page(state, section_position, answers, next_page)
    blob = tokens.seal(respondent.key, respondent.invitation_id, draft.payload())
    session.execute(_SAVE_DRAFT, {"invitation_id": respondent.invitation_id, "blob": blob})
    return draft


def _keys(questions: tuple[QuestionSpec, ...]) -> set[str]:
    return {q.key for q in questions}


def submit(session: Session, respondent: Respondent, state: State, today: dt.date) -> None:
    """Store the response and use up the invitation, in one transaction (flushed, not committed).

    ``state.draft`` holds every answer, including the page just posted, which need not have
    been saved: the draft is deleted here, and on any error the whole request rolls back.
    """
    errors = check_answers(state.spec, state.draft.answers)
    if errors:
        raise Invalid(errors)
    claimed = session.execute(
        _CLAIM, {"invitation_id": respondent.invitation_id, "used_on_date": today}
    ).one_or_none()
    if claimed is None:
        raise AlreadyAnswered()
    store_response(session, state.spec, claimed.round_id, claimed.unit_id, state.draft, today)


def store_response(
    session: Session,
    spec: QuestionnaireSpec,
    round_id: int,
    unit_id: int,
    draft: Draft,
    today: dt.date,
) -> None:
    response_id = uuid.uuid4()
    session.execute(
        _INSERT_RESPONSE,
        {"id": response_id, "round_id": round_id, "unit_id": unit_id, "submitted_on": today},
    )
    chosen: list[tuple[int, int]] = []  # question id, value
    texts: list[dict[str, Any]] = []
    for q in spec.questions():
        answer = draft.answers.get(q.key)
        if answer is None:
            continue
        if isinstance(answer, str):
            texts.append(
                {
                    "id": uuid.uuid4(),
                    "round_id": round_id,
                    "unit_id": unit_id,
                    "question_id": q.id,
                    "text": answer,
                    "status": "new",
                    "redacted_text": None,
                }
            )
        else:
            chosen.extend((q.id, v) for v in answer)
    if chosen and session.get_bind().dialect.name == "postgresql":
        questions, values = zip(*chosen, strict=True)
        session.execute(
            _INSERT_ANSWER_ARRAYS,
            {"response_id": response_id, "questions": list(questions), "values": list(values)},
        )
    elif chosen:
        session.execute(
            _INSERT_ANSWERS,
            [{"response_id": response_id, "question_id": q, "value": v} for q, v in chosen],
        )
    if texts:
        session.execute(_INSERT_TEXTS, texts)


__all__ = [
    "AlreadyAnswered",
    "Draft",
    "LinkError",
    "NotOpenYet",
    "Respondent",
    "RoundClosed",
    "State",
    "UnknownLink",
    "load_state",
    "merge_page",
    "open_link",
    "save_page",
    "submit",
    "tokens",
]
