"""Bad input: a clear message next to the field or a clear page, nothing half-stored, no 500."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey.models import Answer, FreeTextAnswer, Invitation, Response
from tests.factories import Factory
from tests.helpers import csrf_token, start


def nothing_stored(session: Session) -> bool:
    session.expire_all()
    responses = session.scalar(select(func.count()).select_from(Response))
    answers = session.scalar(select(func.count()).select_from(Answer))
    texts = session.scalar(select(func.count()).select_from(FreeTextAnswer))
    drafts = session.scalar(select(func.count()).where(Invitation.draft.is_not(None)))
    used = session.scalar(select(func.count()).where(Invitation.used_on.is_not(None)))
    return responses == answers == texts == drafts == used == 0


def open_page(client: FlaskClient, make: Factory, number: int = 1) -> str:
    start(client, make.links(make.round())[0])
    if number == 2:
        page1 = client.get("/survey/page/1")
        client.post(
            "/survey/page/1",
            data={"csrf_token": csrf_token(page1.text), "action": "back", "t.meaning": "3"},
        )
        # page 1 with "back" saves a draft; clear it so "nothing stored" can be checked
        make.session.execute(Invitation.__table__.update().values(draft=None))
        make.session.flush()
    return csrf_token(client.get(f"/survey/page/{number}").text)


def test_out_of_scale_value(client: FlaskClient, make: Factory, db_session: Session) -> None:
    token = open_page(client, make)
    response = client.post(
        "/survey/page/1", data={"csrf_token": token, "action": "next", "t.meaning": "7"}
    )
    assert response.status_code == 422
    assert 'id="q-t-meaning-error"' in response.text
    assert "Välj ett av svarsalternativen" in response.text
    assert nothing_stored(db_session)


def test_value_that_is_not_a_number(
    client: FlaskClient, make: Factory, db_session: Session
) -> None:
    token = open_page(client, make)
    response = client.post(
        "/survey/page/1", data={"csrf_token": token, "action": "next", "t.meaning": "fem"}
    )
    assert response.status_code == 422
    assert "Välj ett av svarsalternativen" in response.text
    assert nothing_stored(db_session)


def test_multiple_values_for_a_single_choice(
    client: FlaskClient, make: Factory, db_session: Session
) -> None:
    token = open_page(client, make)
    response = client.post(
        "/survey/page/1",
        data={"csrf_token": token, "action": "next", "t.meaning": "3", "bg.gender": ["1", "2"]},
    )
    # The form takes the first value of a radio group; the stored draft holds exactly one.
    assert response.status_code in (303, 422)
    if response.status_code == 303:
        review = client.get("/survey/review")
        assert "Kvinna" in review.text
        assert "Man" not in review.text.split("Kön", 1)[1].split("</dd>", 1)[0]


def test_unknown_question_key(client: FlaskClient, make: Factory, db_session: Session) -> None:
    token = open_page(client, make)
    response = client.post(
        "/survey/page/1",
        data={"csrf_token": token, "action": "next", "t.meaning": "3", "evil.key": "1"},
    )
    assert response.status_code == 400
    assert "Formuläret gick inte att läsa" in response.text
    assert nothing_stored(db_session)


def test_question_from_another_page(
    client: FlaskClient, make: Factory, db_session: Session
) -> None:
    token = open_page(client, make)
    response = client.post(
        "/survey/page/1",
        data={"csrf_token": token, "action": "next", "t.meaning": "3", "t.comment": "hej"},
    )
    assert response.status_code == 400
    assert nothing_stored(db_session)


def test_missing_csrf_token(client: FlaskClient, make: Factory, db_session: Session) -> None:
    open_page(client, make)
    response = client.post("/survey/page/1", data={"action": "next", "t.meaning": "3"})
    assert response.status_code == 400
    assert "Inget sparades" in response.text
    assert nothing_stored(db_session)


def test_forged_csrf_token(client: FlaskClient, make: Factory, db_session: Session) -> None:
    open_page(client, make)
    response = client.post(
        "/survey/page/1",
        data={"csrf_token": "IjAwMDAi.forged.token", "action": "next", "t.meaning": "3"},
    )
    assert response.status_code == 400
    assert nothing_stored(db_session)


def test_csrf_token_from_another_session(app, make: Factory, db_session: Session) -> None:
    survey_round = make.round()
    first, second = app.test_client(), app.test_client()
    start(first, make.links(survey_round)[0])
    start(second, make.links(survey_round)[0])
    foreign = csrf_token(first.get("/survey/page/1").text)
    response = second.post(
        "/survey/page/1", data={"csrf_token": foreign, "action": "next", "t.meaning": "3"}
    )
    assert response.status_code == 400
    assert nothing_stored(db_session)


def test_free_text_of_100_kb(client: FlaskClient, make: Factory, db_session: Session) -> None:
    token = open_page(client, make, number=2)
    text = "Jättelång kommentar. " * 5000  # about 105 000 characters
    response = client.post(
        "/survey/page/2", data={"csrf_token": token, "action": "next", "t.comment": text}
    )
    assert response.status_code == 422
    assert 'id="q-t-comment-error"' in response.text
    assert "högst 4000 får plats" in response.text
    # nothing is lost: the text is still in the field for the respondent to shorten
    assert text.strip() in response.text
    assert nothing_stored(db_session)


def test_body_larger_than_accepted(client: FlaskClient, make: Factory, db_session: Session) -> None:
    token = open_page(client, make, number=2)
    response = client.post(
        "/survey/page/2",
        data={"csrf_token": token, "action": "next", "t.comment": "x" * 600_000},
    )
    assert response.status_code == 413
    assert "Inget sparades" in response.text
    assert nothing_stored(db_session)


def test_invalid_utf8_in_free_text(client: FlaskClient, make: Factory, db_session: Session) -> None:
    token = open_page(client, make, number=2)
    body = f"csrf_token={token}&action=next&t.comment=bra+%FF%FE+arbetsplats".encode()
    response = client.post(
        "/survey/page/2", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 422
    assert "Texten innehåller tecken som inte kan sparas" in response.text
    assert nothing_stored(db_session)


def test_invalid_utf8_in_a_choice(client: FlaskClient, make: Factory, db_session: Session) -> None:
    token = open_page(client, make)
    body = f"csrf_token={token}&action=next&t.meaning=%FF".encode()
    response = client.post(
        "/survey/page/1", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 422
    assert "Välj ett av svarsalternativen" in response.text
    assert nothing_stored(db_session)


def test_control_characters_in_free_text(
    client: FlaskClient, make: Factory, db_session: Session
) -> None:
    token = open_page(client, make, number=2)
    response = client.post(
        "/survey/page/2",
        data={"csrf_token": token, "action": "next", "t.comment": "hej\x00\x07då"},
    )
    assert response.status_code == 422
    assert "Texten innehåller tecken som inte kan sparas" in response.text
    assert nothing_stored(db_session)


def test_line_breaks_and_tabs_are_fine(client: FlaskClient, make: Factory) -> None:
    token = open_page(client, make, number=2)
    response = client.post(
        "/survey/page/2",
        data={"csrf_token": token, "action": "next", "t.comment": "rad ett\r\nrad\ttvå"},
    )
    assert response.status_code == 303


def test_unknown_action_is_treated_as_next(client: FlaskClient, make: Factory) -> None:
    token = open_page(client, make)
    response = client.post(
        "/survey/page/1", data={"csrf_token": token, "action": "lang:xx", "t.meaning": "3"}
    )
    assert response.status_code == 303
    assert client.get(response.headers["Location"]).status_code == 200


def test_submit_after_submitting(client: FlaskClient, make: Factory, db_session: Session) -> None:
    start(client, make.links(make.round())[0])
    page1 = client.get("/survey/page/1")
    client.post(
        "/survey/page/1",
        data={"csrf_token": csrf_token(page1.text), "action": "next", "t.meaning": "3"},
    )
    review = client.get("/survey/review")
    token = csrf_token(review.text)
    first = client.post("/survey/submit", data={"csrf_token": token})
    assert first.status_code == 303
    second = client.post("/survey/submit", data={"csrf_token": token})
    assert second.status_code in (400, 403)
    assert db_session.scalar(select(func.count()).select_from(Response)) == 1


def test_forged_draft_is_checked_again_at_submit(
    client: FlaskClient, make: Factory, db_session: Session, app
) -> None:
    """The respondent holds the draft key, so a draft could be forged: submit re-validates."""
    from survey.services import tokens

    survey_round = make.round()
    link = make.links(survey_round)[0]
    start(client, link)
    invitation = db_session.scalars(select(Invitation)).one()
    forged = {"v": 1, "page": 1, "answers": {"t.meaning": [9], "x.unknown": [1]}}
    invitation.draft = tokens.seal(tokens.draft_key(link), invitation.id, forged)
    db_session.flush()
    review = client.get("/survey/review")
    response = client.post("/survey/submit", data={"csrf_token": csrf_token(review.text)})
    assert response.status_code == 422
    assert "Välj ett av svarsalternativen" in response.text
    assert "Frågan ingår inte i enkäten" in response.text
    assert db_session.scalar(select(func.count()).select_from(Response)) == 0
