"""HR's round pages: response counts through the gate, open, close, publish."""

from __future__ import annotations

import datetime as dt
import re

from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from survey.models import InvitationContact, SurveyRound
from tests.factories import TODAY, Factory, respond
from tests.helpers import csrf_token
from tests.test_publishing import fill, tree
from tests.test_results_pages import login


def test_only_hr_may_administer(client: FlaskClient, make: Factory) -> None:
    login(client, make, "namnd")
    assert client.get("/admin/").status_code == 403


def test_live_counts_are_gated_and_a_day_behind(
    client: FlaskClient, make: Factory, db_session: Session
) -> None:
    units = tree(make, {"A": 8, "B": 9, "C": 3})
    survey_round = make.round({units[c]: 10 for c in ("A", "B", "C")})
    yesterday = TODAY - dt.timedelta(days=1)
    for code, n in (("A", 8), ("B", 9), ("C", 3)):
        for _ in range(n):
            respond(db_session, survey_round, units[code], {"t.meaning": 3}, day=yesterday)
    for _ in range(4):  # today's answers are not counted yet
        respond(db_session, survey_round, units["B"], {"t.meaning": 3})
    login(client, make, "hr")
    page = client.get(f"/admin/rounds/{survey_round.id}")
    assert page.status_code == 200
    text = " ".join(page.text.split())
    row_c = f'{units["C"].name}</th><td class="num">10</td> <td colspan="2" class="hidden-cell">'
    assert row_c + "För få svar" in text
    assert ">13<" not in text  # B's four answers from today are not shown yet
    assert '<td class="num">9</td>' in text or "För få svar" in text


def test_close_deletes_contacts_and_publish_shows_results(
    client: FlaskClient, make: Factory, db_session: Session
) -> None:
    units = tree(make, {"A": 8, "B": 9})
    survey_round = make.round({units["A"]: 10, units["B"]: 10})
    fill(make, survey_round, units["A"], 8)
    fill(make, survey_round, units["B"], 9, seed=3)
    make.links(survey_round, units["A"])
    from survey.models import Invitation

    invitation = db_session.query(Invitation).first()
    db_session.add(InvitationContact(invitation_id=invitation.id, email="anna@example.se"))
    db_session.flush()
    login(client, make, "hr")
    page = client.get(f"/admin/rounds/{survey_round.id}")
    closed = client.post(
        f"/admin/rounds/{survey_round.id}/close", data={"csrf_token": csrf_token(page.text)}
    )
    assert closed.status_code == 303
    db_session.expire_all()
    assert db_session.query(InvitationContact).count() == 0
    page = client.get(f"/admin/rounds/{survey_round.id}")
    assert "Omgången är stängd" in page.text
    published = client.post(
        f"/admin/rounds/{survey_round.id}/publish", data={"csrf_token": csrf_token(page.text)}
    )
    assert published.status_code == 303
    db_session.expire_all()
    assert db_session.get(SurveyRound, survey_round.id).status == "published"
    assert client.get(f"/results/{survey_round.id}/").status_code == 200


def test_thresholds_are_locked_once_open(make: Factory, db_session: Session) -> None:
    import pytest

    from survey.services import rounds
    from survey.services.errors import Conflict

    draft = make.round(status="draft")
    rounds.change_thresholds(db_session, draft, rounds.Thresholds(6, 10, 10), "hr", TODAY, "ok")
    assert draft.min_group_size == 6
    opened = make.round()
    with pytest.raises(Conflict):
        rounds.change_thresholds(db_session, opened, rounds.Thresholds(3, 10, 10), "hr", TODAY, "x")


def issue_codes(client: FlaskClient, make: Factory, count: str) -> TestResponse:
    """HR asks for ``count`` paper codes for the first unit of a new round."""
    survey_round = make.round()
    login(client, make, "hr")
    page = client.get(f"/admin/rounds/{survey_round.id}")
    return client.post(
        f"/admin/rounds/{survey_round.id}/invitations",
        data={
            "csrf_token": csrf_token(page.text),
            "unit": survey_round.units[0].unit_id,
            "count": count,
            "kind": "code",
        },
    )


def test_paper_codes_work_as_links(client: FlaskClient, make: Factory) -> None:
    response = issue_codes(client, make, "3")
    assert response.status_code == 200
    codes = re.findall(r'<span class="code">([A-Z0-9]{12})</span>', response.text)
    assert len(codes) == 3
    respondent = client.application.test_client()
    form = respondent.get("/kod")
    spaced = f"{codes[0][:4]} {codes[0][4:8]}-{codes[0][8:].lower()}"
    opened = respondent.post("/kod", data={"csrf_token": csrf_token(form.text), "code": spaced})
    assert opened.status_code == 303
    assert respondent.get("/survey/").status_code == 200


def test_bad_count_is_shown_next_to_the_field(client: FlaskClient, make: Factory) -> None:
    response = issue_codes(client, make, "-4")
    assert response.status_code == 422
    assert 'id="count-error"' in response.text
    assert "Ange ett tal mellan 1 och 500" in response.text
