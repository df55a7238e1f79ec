"""The respondent flow through the Flask test client."""

from __future__ import annotations

import datetime as dt

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey.models import Answer, FreeTextAnswer, Invitation, Response
from tests.factories import TODAY, Factory
from tests.helpers import csrf_token, post_page, start


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_link_is_exchanged_for_a_session_and_redirects(client: FlaskClient, make: Factory) -> None:
    token = make.links(make.round())[0]
    response = client.get(f"/s/{token}")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/survey/")
    assert token not in response.headers["Location"]
    welcome = client.get("/survey/")
    assert welcome.status_code == 200
    assert "Hur din anonymitet skyddas" in welcome.text
    assert "minst 5" in welcome.text
    assert token not in welcome.text


def test_full_flow_stores_one_response_and_uses_the_link(
    client: FlaskClient, make: Factory, db_session: Session
) -> None:
    survey_round = make.round()
    token = make.links(survey_round)[0]
    start(client, token)
    page1 = post_page(client, 1, {"bg.gender": "1", "t.meaning": "4", "t.tempo": "0"})
    # "vet ej" on an item without it is not a valid choice
    assert page1.status_code == 422
    assert "Välj ett av svarsalternativen" in page1.text
    page1 = post_page(client, 1, {"bg.gender": "1", "t.meaning": "4", "t.tempo": "2"})
    assert page1.status_code == 303
    assert page1.headers["Location"].endswith("/survey/page/2")
    page2 = post_page(client, 2, {"t.support": ["1", "3"], "t.comment": "Bra kollegor."})
    assert page2.headers["Location"].endswith("/survey/review")
    review = client.get("/survey/review")
    assert "Bra kollegor." in review.text
    assert "Kollegor, Handledare" in review.text
    done = client.post("/survey/submit", data={"csrf_token": csrf_token(review.text)})
    assert done.status_code == 303
    thanks = client.get(done.headers["Location"])
    assert "Tack för dina svar" in thanks.text
    assert TODAY.isoformat() in thanks.text

    assert count(db_session, Response) == 1
    values = db_session.execute(select(Answer.value)).scalars().all()
    assert sorted(values) == [1, 1, 2, 3, 4]  # gender 1, meaning 4, tempo 2, support 1 and 3
    comment = db_session.scalars(select(FreeTextAnswer)).one()
    assert comment.text == "Bra kollegor."
    invitation = db_session.scalars(select(Invitation)).one()
    assert invitation.used_on == TODAY
    assert invitation.draft is None

    again = client.get(f"/s/{token}")
    assert again.status_code == 409
    assert "Du har redan svarat" in again.text


def test_submit_directly_from_the_last_page(
    client: FlaskClient, make: Factory, db_session: Session
) -> None:
    token = make.links(make.round())[0]
    start(client, token)
    post_page(client, 1, {"t.meaning": "5"})
    done = post_page(client, 2, {}, action="submit")
    assert done.status_code == 303
    assert done.headers["Location"].endswith("/survey/thanks")
    assert count(db_session, Response) == 1


def test_answers_are_saved_and_resumed_from_the_same_link(
    app, make: Factory, db_session: Session
) -> None:
    token = make.links(make.round())[0]
    first = app.test_client()
    start(first, token)
    saved = post_page(first, 1, {"t.meaning": "3"}, action="save")
    assert saved.headers["Location"].endswith("/survey/saved")
    # Another browser (no cookies) opens the same link later and finds the answer.
    second = app.test_client()
    welcome = start(second, token)
    assert "Fortsätt där du slutade" in welcome.text
    page = second.get("/survey/page/1")
    assert 'value="3" checked' in page.text
    # The draft in the database is ciphertext, not the answers.
    draft = db_session.scalars(select(Invitation.draft)).one()
    assert draft is not None
    assert b"t.meaning" not in draft
    assert count(db_session, Response) == 0


def test_back_does_not_require_answers(client: FlaskClient, make: Factory) -> None:
    token = make.links(make.round())[0]
    start(client, token)
    post_page(client, 1, {"t.meaning": "3"})
    back = post_page(client, 2, {}, action="back")
    assert back.status_code == 303
    assert back.headers["Location"].endswith("/survey/page/1")


def test_missing_required_answer_is_shown_next_to_the_field(
    client: FlaskClient, make: Factory, db_session: Session
) -> None:
    token = make.links(make.round())[0]
    start(client, token)
    response = post_page(client, 1, {"t.tempo": "4"})
    assert response.status_code == 422
    assert 'id="q-t-meaning-error"' in response.text
    assert "Svara på frågan för att gå vidare" in response.text
    # what the respondent did fill in is kept on the page
    assert 'value="4" checked' in response.text
    assert db_session.scalars(select(Invitation.draft)).one() is None


def test_submit_with_a_required_answer_missing_shows_the_review_with_errors(
    client: FlaskClient, make: Factory, db_session: Session
) -> None:
    token = make.links(make.round())[0]
    start(client, token)
    review = client.get("/survey/review")
    response = client.post("/survey/submit", data={"csrf_token": csrf_token(review.text)})
    assert response.status_code == 422
    assert "Svara på frågan för att gå vidare" in response.text
    assert count(db_session, Response) == 0


def test_english_is_available(client: FlaskClient, make: Factory) -> None:
    token = make.links(make.round())[0]
    start(client, token)
    page = client.get("/survey/page/1?lang=en")
    assert "My work feels meaningful." in page.text
    assert "Strongly disagree" in page.text
    assert '<html lang="en">' in page.text


def test_language_switch_on_a_page_keeps_the_answers(client: FlaskClient, make: Factory) -> None:
    token = make.links(make.round())[0]
    start(client, token)
    switched = post_page(client, 1, {"t.meaning": "2"}, action="lang:en")
    assert switched.status_code == 303
    page = client.get(switched.headers["Location"])
    assert "My work feels meaningful." in page.text
    assert 'value="2" checked' in page.text


def test_unknown_link(client: FlaskClient) -> None:
    response = client.get("/s/not-a-real-token")
    assert response.status_code == 404
    assert "Länken fungerar inte" in response.text


def test_link_before_the_round_opens(
    client: FlaskClient, make: Factory, db_session: Session
) -> None:
    survey_round = make.round(
        opens_on=TODAY + dt.timedelta(days=5), closes_on=TODAY + dt.timedelta(days=20)
    )
    token = make.links(survey_round)[0]
    response = client.get(f"/s/{token}")
    assert response.status_code == 403
    assert (TODAY + dt.timedelta(days=5)).isoformat() in response.text


def test_link_after_the_round_closed(client: FlaskClient, make: Factory) -> None:
    survey_round = make.round()
    token = make.links(survey_round)[0]
    survey_round.status = "closed"
    make.session.flush()
    response = client.get(f"/s/{token}")
    assert response.status_code == 410
    assert "Enkäten har stängt" in response.text


def test_survey_pages_without_a_session(client: FlaskClient) -> None:
    response = client.get("/survey/page/1")
    assert response.status_code == 403
    assert "Öppna din enkätlänk" in response.text


def test_page_number_out_of_range(client: FlaskClient, make: Factory) -> None:
    start(client, make.links(make.round())[0])
    assert client.get("/survey/page/99").status_code == 404
    assert client.get("/survey/page/0").status_code == 404


def test_error_messages_follow_the_language_of_each_request(
    app, make: Factory, db_session: Session
) -> None:
    """Form classes are cached per process; their messages must still be translated per request."""
    survey_round = make.round()
    swedish, english = app.test_client(), app.test_client()
    start(swedish, make.links(survey_round)[0])
    start(english, make.links(survey_round)[0])
    assert "Svara på frågan" in post_page(swedish, 1, {"t.tempo": "4"}).text
    english.get("/survey/page/1?lang=en")
    response = post_page(english, 1, {"t.tempo": "4"})
    assert response.status_code == 422
    assert "Answer this question to continue." in response.text
    assert "Svara på frågan" not in response.text


def test_shared_pages_differ_where_respondents_do(app, make: Factory, db_session: Session) -> None:
    """Welcome and receipt pages are rendered once and reused: only for respondents of the
    same round who are as far, in the same language."""
    first_round, second_round = make.round(), make.round()
    second_round.title = "Medarbetarenkät hösten"
    db_session.flush()
    started, fresh = make.links(first_round, count=2)
    other = make.links(second_round)[0]

    a = app.test_client()
    start(a, started)
    post_page(a, 1, {"t.meaning": "3"}, action="save")
    assert "Fortsätt där du slutade" in a.get("/survey/").text
    english = a.get("/survey/?lang=en").text
    assert "Continue where you left off" in english
    assert '<html lang="en">' in english

    b = app.test_client()
    welcome = start(b, fresh).text
    assert "Fortsätt där du slutade" not in welcome
    assert "Börja svara" in welcome
    assert "Arbetsmiljöenkät test" in welcome
    assert "Start the survey" in b.get("/survey/?lang=en").text
    assert "Börja svara" in b.get("/survey/?lang=sv").text

    c = app.test_client()
    assert "Medarbetarenkät hösten" in start(c, other).text
    post_page(c, 1, {"bg.gender": "1", "t.meaning": "4", "t.tempo": "2"})
    post_page(c, 2, {"t.support": ["1"]})
    review = c.get("/survey/review")
    done = c.post("/survey/submit", data={"csrf_token": csrf_token(review.text)})
    receipt = c.get(done.headers["Location"]).text
    assert "Medarbetarenkät hösten" in receipt
    assert "Arbetsmiljöenkät test" not in receipt


def test_reading_a_page_leaves_the_session_cookie_alone(client: FlaskClient, make: Factory) -> None:
    """No staff machinery runs for a respondent: the session is written when it changes."""
    start(client, make.links(make.round())[0])
    welcome = client.get("/survey/")
    assert welcome.status_code == 200
    assert welcome.headers.getlist("Set-Cookie") == []
    assert "Inloggning för personal" in welcome.text
