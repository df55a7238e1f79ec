"""Two browser tabs submitting the same link at the same moment: one response, one friendly page.

This test needs real concurrent transactions, so it commits through its own engine (configured
as in production) instead of the rolled-back test transaction, and cleans up after itself.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from survey import create_app
from survey.db import db, make_engine
from survey.models import (
    Answer,
    FreeTextAnswer,
    Invitation,
    Questionnaire,
    Response,
    SurveyRound,
    ThresholdChange,
    Unit,
)
from tests.conftest import TEST_SECRET
from tests.factories import Factory
from tests.helpers import csrf_token, start


@pytest.fixture
def live_engine(engine: Engine, db_url: str) -> Iterator[Engine]:
    """Separate from the test engine: production settings, real commits."""
    live = make_engine(db_url)
    yield live
    live.dispose()


def _cleanup(session: Session, round_id: int, questionnaire_id: int, unit_id: int) -> None:
    response_ids = select(Response.id).where(Response.round_id == round_id)
    session.execute(delete(Answer).where(Answer.response_id.in_(response_ids)))
    session.execute(delete(FreeTextAnswer).where(FreeTextAnswer.round_id == round_id))
    session.execute(delete(Response).where(Response.round_id == round_id))
    session.execute(delete(Invitation).where(Invitation.round_id == round_id))
    session.execute(delete(ThresholdChange).where(ThresholdChange.round_id == round_id))
    session.execute(delete(SurveyRound).where(SurveyRound.id == round_id))
    session.execute(delete(Questionnaire).where(Questionnaire.id == questionnaire_id))
    session.execute(delete(Unit).where(Unit.id == unit_id))
    session.commit()


def test_two_tabs_submit_at_once(live_engine: Engine, settings: Any) -> None:
    with Session(live_engine) as session:
        make = Factory(session, TEST_SECRET)
        survey_round = make.round()
        link = make.links(survey_round)[0]
        ids = (survey_round.id, survey_round.questionnaire_id, survey_round.units[0].unit_id)
        session.commit()
    app = create_app(settings, engine=live_engine)
    db.bind(live_engine)
    try:
        tab = app.test_client()
        start(tab, link)
        page1 = tab.get("/survey/page/1")
        tab.post(
            "/survey/page/1",
            data={"csrf_token": csrf_token(page1.text), "action": "next", "t.meaning": "4"},
        )
        token = csrf_token(tab.get("/survey/review").text)
        cookie = tab.get_cookie("session")
        assert cookie is not None
        tabs = [app.test_client() for _ in range(2)]
        for other in tabs:  # the same browser: both tabs share the session cookie
            other.set_cookie("session", cookie.value)
        barrier = threading.Barrier(2)
        statuses: list[int] = []

        def submit(client: Any) -> None:
            barrier.wait()
            statuses.append(client.post("/survey/submit", data={"csrf_token": token}).status_code)

        threads = [threading.Thread(target=submit, args=(c,)) for c in tabs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [303, 409]
        with Session(live_engine) as session:
            stored = session.scalar(
                select(func.count()).select_from(Response).where(Response.round_id == ids[0])
            )
            answers = session.scalar(
                select(func.count())
                .select_from(Answer)
                .join(Response)
                .where(Response.round_id == ids[0])
            )
        assert stored == 1
        assert answers == 1
    finally:
        with Session(live_engine) as session:
            _cleanup(session, *ids)
