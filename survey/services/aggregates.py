"""Reading a round's answers for the anonymity gate. Nothing else reads responses for results.

The database does the filtering and hands over compact integer columns; respondents are
numbered 0..n-1 in the order the database returns them (by random response id), so no
number here says anything about when someone answered. Text answers are never read here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import BigInteger, Select, Text, cast, func, select
from sqlalchemy.orm import Session, selectinload

from survey.models import (
    Answer,
    Index,
    Questionnaire,
    Response,
    RoundUnit,
    Section,
    SurveyRound,
    Unit,
)

MEASURABLE = ("likert", "single", "multi")


@dataclass(frozen=True)
class RoundData:
    """One round, ready for the gate.

    ``units``: ``unit, parent, code, name, verksamhet, headcount`` for every unit in the round
    and their ancestors (parent NA at the top).
    ``questions``: ``question, question_id, kind, scale_points, sensitive, background, values``
    for questions with numeric answers, in questionnaire order.
    ``respondents``: ``respondent, unit`` plus one column per background question (category
    value, NA when unanswered).
    ``answers``: ``respondent, question, value`` (value 0 = don't know; one row per chosen
    option for multiple choice).
    ``indices``: ``index, question, reverse, rule, min_answered_share`` plus ``names``.
    """

    round: SurveyRound
    units: pd.DataFrame
    questions: pd.DataFrame
    respondents: pd.DataFrame
    answers: pd.DataFrame
    indices: pd.DataFrame
    index_names: dict[str, dict[str, str]]
    question_texts: dict[str, dict[str, str]]


def round_units(session: Session, round_id: int) -> pd.DataFrame:
    """Units of the round and their ancestors.

    Columns ``unit, parent, code, name, verksamhet, headcount``.
    """
    headcounts: dict[int, int] = dict(
        session.execute(
            select(RoundUnit.unit_id, RoundUnit.headcount).where(RoundUnit.round_id == round_id)
        ).all()
    )
    all_units = {u.id: u for u in session.scalars(select(Unit))}
    wanted: set[int] = set()
    for unit_id in headcounts:
        current: int | None = unit_id
        while current is not None and current not in wanted:
            wanted.add(current)
            current = all_units[current].parent_id
    records = [
        {
            "unit": u.id,
            "parent": u.parent_id,
            "code": u.code,
            "name": u.name,
            "verksamhet": u.verksamhet,
            "headcount": headcounts.get(u.id, 0),
        }
        for u in sorted((all_units[i] for i in wanted), key=lambda u: u.code)
    ]
    frame = pd.DataFrame(
        records, columns=["unit", "parent", "code", "name", "verksamhet", "headcount"]
    )
    frame["parent"] = frame["parent"].astype("Int64")
    return frame


def _questions(questionnaire: Questionnaire) -> pd.DataFrame:
    rows = []
    for q in questionnaire.questions():
        if q.kind not in MEASURABLE:
            continue
        if q.kind == "likert":
            values = tuple(range(1, (q.scale_points or 5) + 1))
        else:
            values = tuple(int(o["value"]) for o in q.options or [])
        rows.append(
            {
                "question": q.key,
                "question_id": q.id,
                "kind": q.kind,
                "scale_points": q.scale_points or len(values),
                "sensitive": q.sensitive,
                "background": q.background,
                "values": values,
            }
        )
    return pd.DataFrame(rows)


def _indices(questionnaire: Questionnaire) -> pd.DataFrame:
    rows = [
        {
            "index": index.key,
            "question": item.question.key,
            "reverse": item.reverse,
            "rule": index.rule,
            "min_answered_share": index.min_answered_share,
        }
        for index in questionnaire.indices
        for item in index.items
    ]
    return pd.DataFrame(
        rows, columns=["index", "question", "reverse", "rule", "min_answered_share"]
    )


def load_round(session: Session, round_id: int) -> RoundData:
    survey_round = session.get_one(SurveyRound, round_id)
    questionnaire = session.scalars(
        select(Questionnaire)
        .where(Questionnaire.id == survey_round.questionnaire_id)
        .options(
            selectinload(Questionnaire.sections).selectinload(Section.questions),
            selectinload(Questionnaire.indices).selectinload(Index.items),
        )
    ).one()
    questions = _questions(questionnaire)
    by_id = dict(zip(questions["question_id"], questions["question"], strict=True))
    response_units = _response_rows(session, round_id)
    if len(response_units) >= 1 << (63 - _RESPONDENT_SHIFT) or max(by_id, default=0) >> 32:
        raise ValueError("too many responses or too large question ids to read answers packed")
    answers = _answer_rows(session, round_id, by_id)
    respondents = pd.DataFrame(
        {"respondent": np.arange(len(response_units)), "unit": response_units}
    )
    for key in questions.loc[questions["background"], "question"]:
        chosen = answers.loc[answers["question"] == key, ["respondent", "value"]]
        chosen = chosen.drop_duplicates("respondent")
        column = pd.Series(pd.NA, index=respondents.index, dtype="Int64")
        column.iloc[chosen["respondent"].to_numpy()] = chosen["value"].to_numpy()
        respondents[key] = column
    texts = {q.key: dict(q.text) for q in questionnaire.questions()}
    return RoundData(
        round=survey_round,
        units=round_units(session, round_id),
        questions=questions,
        respondents=respondents,
        answers=answers,
        indices=_indices(questionnaire),
        index_names={i.key: dict(i.name) for i in questionnaire.indices},
        question_texts=texts,
    )


def _numbered(round_id: int) -> Any:
    """The round's responses numbered 0..n-1 by their random id."""
    return (
        select(
            Response.id.label("response_id"),
            Response.unit_id.label("unit_id"),
            (func.row_number().over(order_by=Response.id) - 1).label("respondent"),
        )
        .where(Response.round_id == round_id)
        .cte("numbered")
    )


def _response_rows(session: Session, round_id: int) -> np.ndarray:
    """Each respondent's unit, in respondent order."""
    numbered = _numbered(round_id)
    packed = np.sort(
        _fetch_integers(
            session,
            select(
                (numbered.c.respondent * (1 << _UNIT_BITS) + numbered.c.unit_id).label("packed")
            ),
        )
    )
    return packed & ((1 << _UNIT_BITS) - 1)


# Each answer travels as one integer, respondent << 39 | question id << 7 | value (value
# 0..99, question ids below 2^32, respondents below 2^24), so that millions of answers cross
# from the database as one text of numbers instead of millions of row objects.
_VALUE_BITS = 7
_QUESTION_BITS = 32
_RESPONDENT_SHIFT = _VALUE_BITS + _QUESTION_BITS
_UNIT_BITS = 32  # respondent << 32 | unit id, for the respondents' units


def _packed_answers(round_id: int) -> Any:
    numbered = _numbered(round_id)
    packed = (
        numbered.c.respondent * (1 << _RESPONDENT_SHIFT)
        + cast(Answer.question_id, BigInteger) * (1 << _VALUE_BITS)
        + Answer.value
    )
    return select(packed.label("packed")).join(
        numbered, numbered.c.response_id == Answer.response_id
    )


def _fetch_packed(session: Session, round_id: int) -> np.ndarray:
    """Every answer of the round as a packed integer (see ``_RESPONDENT_SHIFT``)."""
    return _fetch_integers(session, _packed_answers(round_id))


def _fetch_integers(session: Session, query: Select[tuple[int]]) -> np.ndarray:
    """The integers a one-column query returns, in no particular order.

    The database joins them into one text (``group_concat`` on SQLite, ``string_agg`` on
    PostgreSQL) that numpy parses in one go; other databases return plain rows.
    """
    numbers = query.subquery()
    column = numbers.c[0]
    dialect = session.connection().dialect.name
    if dialect in ("sqlite", "postgresql"):
        joined = (
            func.group_concat(column, ",")
            if dialect == "sqlite"
            else func.string_agg(cast(column, Text), ",")
        )
        text_ = session.execute(select(joined)).scalar()
        return np.fromstring(text_ or "", dtype=np.int64, sep=",")
    rows = session.execute(select(column)).scalars().all()
    return np.array(rows, dtype=np.int64)


def _answer_rows(session: Session, round_id: int, by_id: dict[int, str]) -> pd.DataFrame:
    """Every numeric answer of the round as ``respondent, question, value``."""
    packed = np.sort(_fetch_packed(session, round_id))  # by respondent, question, value
    question_ids = (packed >> _VALUE_BITS) & ((1 << _QUESTION_BITS) - 1)
    codes = pd.Index(list(by_id)).get_indexer(question_ids)
    known = codes >= 0  # answers to the round's numeric questions (all of them, normally)
    packed, codes = packed[known], codes[known]
    keys = pd.Categorical.from_codes(codes, categories=list(by_id.values()))
    return pd.DataFrame(
        {
            "respondent": packed >> _RESPONDENT_SHIFT,
            "question": keys,
            "value": packed & ((1 << _VALUE_BITS) - 1),
        }
    )
