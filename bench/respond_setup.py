"""A fresh database for the respondent benchmark: one unit, one open round, many links.

The questionnaire is one page: the 30 five-point items of the shipped arbetsmiljö template,
verbatim (some offer "vet ej"), and its first free-text question, built with
:func:`survey.services.questionnaires.build_from_templates` from template data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from survey.db import make_engine
from survey.migrate import upgrade
from survey.models import Answer, FreeTextAnswer, Invitation, Response, Unit
from survey.services import rounds
from survey.services.questionnaires import build_from_templates, read_template

SECRET_KEY = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
BATCH = 10_000  # issue_invitations' limit per call


@dataclass(frozen=True)
class Prepared:
    url: str
    likert_keys: list[str]
    text_key: str


def sqlite_url(workdir: Path) -> str:
    for suffix in ("", "-wal", "-shm"):
        (workdir / f"respond.sqlite3{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{workdir / 'respond.sqlite3'}"


def one_page_template() -> dict[str, Any]:
    """30 five-point items and one free-text question on one page."""
    source = read_template("arbetsmiljo")
    questions = [q for s in source["sections"] for q in s["questions"]]
    likert = [q for q in questions if q["kind"] == "likert"][:30]
    comment = next(q for q in questions if q["kind"] == "text")
    if len(likert) != 30 or any(source["scales"][q["scale"]]["points"] != 5 for q in likert):
        raise RuntimeError("the arbetsmiljö template no longer has 30 five-point items")
    return {
        "key": "bench",
        "title": {"sv": "Benchmarkenkät", "en": "Benchmark survey"},
        "scales": source["scales"],
        "sections": [
            {
                "key": "am",
                "title": {"sv": "Din arbetsmiljö", "en": "Your work environment"},
                "questions": [*likert, comment],
            }
        ],
        "indices": [],
    }


def reset_postgresql(engine: Engine) -> None:
    """The benchmark database is scratch: start from an empty schema, as the tests do."""
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


def prepare(url: str, token_files: list[tuple[Path, int]]) -> Prepared:
    """Migrate a fresh database, create the round and write ``count`` new tokens to each file."""
    engine = make_engine(url)
    try:
        if engine.dialect.name == "postgresql":
            reset_postgresql(engine)
        upgrade(engine)
        today = dt.date.today()
        template = one_page_template()
        with Session(engine, expire_on_commit=False) as session:
            unit = Unit(code="BENCH", name="Enheten för benchmark")
            session.add(unit)
            session.flush()
            questionnaire = build_from_templates(
                session, "bench", template["title"], [template], intro=None
            )
            total = sum(count for _, count in token_files)
            survey_round = rounds.create_round(
                session,
                rounds.NewRound(
                    questionnaire_id=questionnaire.id,
                    title="Arbetsmiljöenkät (benchmark)",
                    period_label=str(today.year),
                    opens_on=today - dt.timedelta(days=1),
                    closes_on=today + dt.timedelta(days=30),
                    organiser="HR-avdelningen",
                    contact="hr@example.se",
                    headcounts={unit.id: total},
                    thresholds=rounds.Thresholds(5, 10, 10),
                ),
                by="bench",
                today=today,
            )
            rounds.open_round(session, survey_round)
            for path, count in token_files:
                made: list[str] = []
                while len(made) < count:
                    batch = min(BATCH, count - len(made))
                    made += rounds.issue_invitations(
                        session, survey_round, unit, batch, SECRET_KEY, today
                    )
                    session.expunge_all()  # keep the identity map small
                    session.add(survey_round)
                    session.add(unit)
                path.write_text("\n".join(made) + "\n")
            session.commit()
        questions = template["sections"][0]["questions"]
        return Prepared(
            url=url,
            likert_keys=[q["key"] for q in questions if q["kind"] == "likert"],
            text_key=next(q["key"] for q in questions if q["kind"] == "text"),
        )
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Stored:
    responses: int
    answers: int
    texts: int
    used_invitations: int
    invitations: int  # all of them: a benchmark never adds or removes any


def count_stored(url: str) -> Stored:
    engine = make_engine(url)
    try:
        with Session(engine) as session:

            def n(query: Any) -> int:
                return int(session.scalar(query) or 0)

            return Stored(
                responses=n(select(func.count()).select_from(Response)),
                answers=n(select(func.count()).select_from(Answer)),
                texts=n(select(func.count()).select_from(FreeTextAnswer)),
                used_invitations=n(
                    select(func.count())
                    .select_from(Invitation)
                    .where(Invitation.used_on.is_not(None))
                ),
                invitations=n(select(func.count()).select_from(Invitation)),
            )
    finally:
        engine.dispose()
