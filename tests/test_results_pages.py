"""Results pages and exports for each role: only published figures, only allowed units."""

from __future__ import annotations

import csv
import io

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from survey.services import publishing, rounds
from tests.factories import TODAY, Factory
from tests.helpers import csrf_token
from tests.test_publishing import fill, tree


def login(client: FlaskClient, make: Factory, role: str, units=None) -> None:
    user, password = make.user(role, units)
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"csrf_token": csrf_token(page.text), "email": user.email, "password": password},
    )
    assert response.status_code == 302


def published(make: Factory, db_session: Session):
    units = tree(make, {"A": 8, "B": 9, "C": 3})
    units["A1"] = make.unit("A1", parent=units["A"])
    survey_round = make.round({units[c]: 10 for c in ("A1", "B", "C")})
    fill(make, survey_round, units["A1"], 8)
    fill(make, survey_round, units["B"], 9, seed=1)
    fill(make, survey_round, units["C"], 3, seed=2)
    rounds.close_round(db_session, survey_round)
    publishing.publish_round(db_session, survey_round.id, TODAY)
    return survey_round, units


def test_results_need_a_login(client: FlaskClient) -> None:
    response = client.get("/results/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_wrong_password_is_shown_next_to_the_field(client: FlaskClient, make: Factory) -> None:
    user, _password = make.user("namnd")
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"csrf_token": csrf_token(page.text), "email": user.email, "password": "nope"},
    )
    assert response.status_code == 422
    assert "E-postadressen eller lösenordet är fel" in response.text


def test_login_never_redirects_off_site(client: FlaskClient, make: Factory) -> None:
    user, password = make.user("namnd")
    page = client.get("/login")
    response = client.post(
        "/login?next=https://evil.example/x",
        data={"csrf_token": csrf_token(page.text), "email": user.email, "password": password},
    )
    assert response.headers["Location"] == "/results/"


def test_namnd_sees_every_unit_and_hidden_units_say_too_few(
    client: FlaskClient, make: Factory, db_session: Session
) -> None:
    survey_round, units = published(make, db_session)
    login(client, make, "namnd")
    page = client.get(f"/results/{survey_round.id}/")
    assert page.status_code == 200
    for code in ("A", "B", "C"):
        assert units[code].name in page.text
    assert "För få svar" in page.text
    unit_c = client.get(f"/results/{survey_round.id}/unit/{units['C'].id}")
    assert unit_c.status_code == 200
    assert "Inga siffror visas för den här enheten" in unit_c.text
    assert "Testindex" in client.get(f"/results/{survey_round.id}/unit/{units['B'].id}").text


def test_manager_sees_only_their_subtree(
    client: FlaskClient, make: Factory, db_session: Session
) -> None:
    survey_round, units = published(make, db_session)
    login(client, make, "manager", [units["A"]])
    overview = client.get(f"/results/{survey_round.id}/")
    assert units["A1"].name in overview.text
    assert units["B"].name not in overview.text
    assert client.get(f"/results/{survey_round.id}/unit/{units['A1'].id}").status_code == 200
    assert client.get(f"/results/{survey_round.id}/unit/{units['B'].id}").status_code == 403
    assert client.get(f"/results/{survey_round.id}/export.csv").status_code == 403


def test_suppression_log_and_drivers_pages(
    client: FlaskClient, make: Factory, db_session: Session
) -> None:
    survey_round, _units = published(make, db_session)
    login(client, make, "auditor")
    log = client.get(f"/results/{survey_round.id}/suppression")
    assert log.status_code == 200
    assert "primär" in log.text
    drivers = client.get(f"/results/{survey_round.id}/drivers")
    assert drivers.status_code == 200
    assert "inte en orsak" in drivers.text


def test_csv_export_names_rules_and_hides_figures(
    client: FlaskClient, make: Factory, db_session: Session
) -> None:
    survey_round = published(make, db_session)[0]
    login(client, make, "hr")
    response = client.get(f"/results/{survey_round.id}/export.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    hidden = [r for r in rows if r["record"] == "hidden"]
    assert any(r["unit_code"] == "C" and r["rule"] == "primary" for r in hidden)
    for row in hidden:
        assert row["n"] == row["mean"] == row["sd"] == ""
    shown = [r for r in rows if r["record"] == "figure"]
    assert shown
    assert all(int(r["n"]) >= survey_round.min_group_size for r in shown)
    assert not any(r["unit_code"] == "C" for r in shown)


def test_unpublished_round_has_no_results(client: FlaskClient, make: Factory) -> None:
    survey_round = make.round()
    login(client, make, "namnd")
    assert client.get(f"/results/{survey_round.id}/").status_code == 404
