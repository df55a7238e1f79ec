"""Unlinkable storage (design.md, anonymity model point 1), checked on the schema and on data."""

from __future__ import annotations

import logging
import uuid
from types import SimpleNamespace

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Date, DateTime, Time, func, inspect, select
from sqlalchemy.orm import Session

import survey.models  # noqa: F401
from survey.db import Base
from survey.logs import RedactingGunicornLogger, redact
from survey.models import Answer, Invitation, Response
from tests.factories import Factory
from tests.helpers import csrf_token, start

WHO = {"invitation", "invitation_contact"}
WHAT = {"response", "answer", "free_text_answer"}
# Dimensions both sides may name: which round and which unit. Nothing else.
SHARED_DIMENSIONS = {"survey_round", "unit", "question"}


def foreign_tables(table_name: str) -> set[str]:
    table = Base.metadata.tables[table_name]
    return {fk.column.table.name for fk in table.foreign_keys}


def test_no_foreign_key_path_between_invitations_and_responses() -> None:
    """Follow foreign keys in both directions, never through a shared dimension table."""
    edges: dict[str, set[str]] = {name: set() for name in Base.metadata.tables}
    for name in Base.metadata.tables:
        for target in foreign_tables(name):
            edges[name].add(target)
            edges[target].add(name)
    reachable, frontier = set(WHO), list(WHO)
    while frontier:
        for neighbour in edges[frontier.pop()] - SHARED_DIMENSIONS:
            if neighbour not in reachable:
                reachable.add(neighbour)
                frontier.append(neighbour)
    assert reachable.isdisjoint(WHAT)


def test_invitation_and_response_share_only_round_and_unit() -> None:
    invitation = set(Base.metadata.tables["invitation"].columns.keys())
    response = set(Base.metadata.tables["response"].columns.keys())
    assert invitation & response == {"id", "round_id", "unit_id"}
    # "id" is a name only: invitations count 1, 2, 3…, responses have random UUIDs.
    assert str(Base.metadata.tables["response"].c.id.type) in ("UUID", "CHAR(32)")


@pytest.mark.parametrize("table_name", sorted(WHO | WHAT))
def test_no_time_of_day_is_stored(table_name: str) -> None:
    for column in Base.metadata.tables[table_name].columns:
        assert not isinstance(column.type, DateTime | Time), column
        if "on" in column.name.split("_"):
            assert isinstance(column.type, Date)


def test_database_schema_has_no_time_columns_either(engine) -> None:
    inspector = inspect(engine)
    for table_name in WHO | WHAT:
        for column in inspector.get_columns(table_name):
            assert "TIME" not in str(column["type"]).upper(), (table_name, column)


def _submit(client: FlaskClient, link: str, value: str) -> None:
    start(client, link)
    page = client.get("/survey/page/1")
    client.post(
        "/survey/page/1",
        data={"csrf_token": csrf_token(page.text), "action": "next", "t.meaning": value},
    )
    done = client.post(
        "/survey/submit", data={"csrf_token": csrf_token(client.get("/survey/review").text)}
    )
    assert done.status_code == 303


def test_response_ids_are_random_and_tokens_are_not_stored(
    app, make: Factory, db_session: Session
) -> None:
    survey_round = make.round()
    links = make.links(survey_round, count=12)
    for link in links:
        _submit(app.test_client(), link, "4")
    ids = db_session.scalars(select(Response.id)).all()
    assert len(ids) == 12
    assert all(isinstance(i, uuid.UUID) and i.version == 4 for i in ids)
    hashes = db_session.scalars(select(Invitation.token_hash)).all()
    for link in links:
        assert all(link.encode() not in h for h in hashes)
        assert all(len(h) == 32 for h in hashes)


def test_token_never_reaches_a_log_line(
    app, make: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    link = make.links(make.round())[0]
    with caplog.at_level(logging.DEBUG):
        _submit(app.test_client(), link, "2")
    assert all(link not in record.getMessage() for record in caplog.records)


def test_access_log_redacts_tokens_and_respondent_addresses() -> None:
    assert redact("GET /s/abcDEF-123_x HTTP/1.1") == "GET /s/[redacted] HTTP/1.1"
    logger = RedactingGunicornLogger.__new__(RedactingGunicornLogger)
    environ = {
        "PATH_INFO": "/s/abcDEF-123_x",
        "REMOTE_ADDR": "10.1.2.3",
        "QUERY_STRING": "",
        "REQUEST_METHOD": "GET",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "RAW_URI": "/s/abcDEF-123_x",
    }
    request = SimpleNamespace(
        method="GET",
        path="/s/abcDEF-123_x",
        query="",
        uri="/s/abcDEF-123_x",
        version=(1, 1),
        headers=[],
        remote_addr="10.1.2.3",
    )
    response = SimpleNamespace(status="303 See Other", sent=0, headers=[], response_length=0)
    atoms = logger.atoms(response, request, environ, SimpleNamespace(seconds=0, microseconds=1))
    assert "abcDEF" not in " ".join(str(v) for v in atoms.values())
    assert atoms["h"] == "-"


def test_demo_server_log_redacts_tokens_and_addresses() -> None:
    from survey.logs import RedactingFilter

    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '%s - - [25/Nov/2026 10:00:00] "%s" 303 -',
        ("10.1.2.3", "GET /s/abcDEF-123_x HTTP/1.1"),
        None,
    )
    assert RedactingFilter().filter(record)
    assert "abcDEF" not in record.getMessage()
    assert "10.1.2.3" not in record.getMessage()


def test_closing_a_round_scrubs_the_stored_order(make: Factory, db_session: Session) -> None:
    """After closing, rows are stored in random-id order (PostgreSQL: physical order and
    inserting transaction are rewritten; SQLite: WITHOUT ROWID tables are ordered by id)."""
    from sqlalchemy import text

    from survey.services import rounds
    from tests.factories import respond

    survey_round = make.round()
    unit = survey_round.units[0].unit
    for value in (1, 2, 3, 4, 5, 1, 2, 3):
        respond(db_session, survey_round, unit, {"t.meaning": value})
    rounds.close_round(db_session, survey_round)
    db_session.flush()
    ids = list(db_session.scalars(select(Response.id).where(Response.round_id == survey_round.id)))
    if db_session.get_bind().dialect.name == "postgresql":
        rows = db_session.execute(
            text("SELECT id, xmin::text FROM response WHERE round_id = :r ORDER BY ctid"),
            {"r": survey_round.id},
        ).all()
        assert [r[0] for r in rows] == sorted(r[0] for r in rows)
        assert len({r[1] for r in rows}) == 1
    else:
        assert list(ids) == sorted(ids)
    assert db_session.scalar(select(func.count()).select_from(Answer)) == 8
