"""Results pages and exports for each role: only published figures, only allowed units."""

from __future__ import annotations

import csv
import io

from babel.numbers import format_decimal as babel_decimal
from babel.numbers import parse_pattern
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from survey.models import UnitLineage
from survey.results import presenters
from survey.services import publishing, results, rounds
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


def test_unit_page_says_what_the_previous_round_comparison_is_with(
    client: FlaskClient, make: Factory, db_session: Session
) -> None:
    root = make.unit("R")
    old, other = make.unit("OLD", parent=root), make.unit("OTHER", parent=root)
    small1, small2 = make.unit("S1", parent=root), make.unit("S2", parent=root)
    first = make.round({old: 12, other: 12, small1: 4, small2: 4})
    for seed, (unit, n) in enumerate(((old, 10), (other, 10), (small1, 3), (small2, 3))):
        fill(make, first, unit, n, seed=seed)
    rounds.close_round(db_session, first)
    publishing.publish_round(db_session, first.id, TODAY)
    first.period_label = "2025"
    first.opens_on = first.closes_on = TODAY.replace(year=TODAY.year - 1)
    renamed, fresh, after_small = (
        make.unit("NEW", parent=root),
        make.unit("FRESH", parent=root),
        make.unit("S1B", parent=root),
    )
    for predecessor, successor in ((old, renamed), (small1, after_small)):
        db_session.add(
            UnitLineage(
                predecessor_id=predecessor.id,
                successor_id=successor.id,
                kind="rename",
                effective_on=TODAY,
            )
        )
    db_session.flush()
    second = make.round({renamed: 12, other: 12, fresh: 12, after_small: 12})
    for seed, unit in enumerate((renamed, other, fresh, after_small)):
        fill(make, second, unit, 10, seed=10 + seed)
    rounds.close_round(db_session, second)
    publication = publishing.publish_round(db_session, second.id, TODAY)
    # An item's "since the previous round" is the change of its mean (Mann–Whitney), never
    # the % positive comparison stored beside it for the export.
    key = results.unit_group_key(db_session, publication.id, other.id)
    shown = results.load_groups(db_session, publication.id, [key])[key]
    assert shown.comparisons["t.meaning"]["previous"].test.startswith("Mann-Whitney")
    login(client, make, "namnd")

    def page(survey_round, unit) -> str:
        response = client.get(f"/results/{survey_round.id}/unit/{unit.id}")
        assert response.status_code == 200
        return response.text

    assert "Det finns ingen tidigare publicerad omgång att jämföra med" in page(first, old)
    assert "Jämförs med Enhet OLD i 2025 (enheten har bytt namn)" in page(second, renamed)
    same = page(second, other)
    assert "Jämförs med samma enhet i 2025" in same
    # Each index comparison names its test, q and effect size in the page's language.
    assert "Welchs t-test, q " in same
    assert "Hedges g " in same
    assert "Welch t-test" not in same  # the analysis's own (English) name stays in the CSV
    assert "Enheten är ny: den har ingen föregångare i 2025" in page(second, fresh)
    assert "I 2025 visades inga siffror för Enhet S1 (för att skydda små grupper)" in page(
        second, after_small
    )


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    value=st.floats(-1e7, 1e7, allow_nan=False) | st.integers(-(10**7), 10**7),
    decimals=st.integers(0, 2),
    locale=st.sampled_from(["sv", "en"]),
)
def test_numbers_read_as_babel_writes_them(
    app: Flask, value: float, decimals: int, locale: str
) -> None:
    """Pages format numbers without Babel's formatter (for speed): the same text, rounded
    half to even, thousands grouped, a true minus sign."""
    pattern = parse_pattern("#,##0" + ("." + "0" * decimals if decimals else ""))
    expected = str(babel_decimal(value, format=pattern, locale=locale)).replace("-", "−")
    with app.test_request_context(), force_locale(locale):
        assert presenters.number(value, decimals) == expected


def test_numbers_round_half_to_even_in_swedish(app: Flask) -> None:
    with app.test_request_context(), force_locale("sv"):
        assert presenters.number(2.675, 2) == "2,68"  # its shortest decimal form is 2.675
        assert presenters.number(0.5) == "0"
        assert presenters.number(-1234.55, 1) == "−1\xa0234,6"
        assert presenters.number(None) == "–"
