"""Fixtures: an engine migrated once per run, a rolled-back transaction per test.

The suite runs on a SQLite file by default and on PostgreSQL when
``LYHORD_TEST_DATABASE_URL`` is set (CI runs both).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.orm import Session

from survey import create_app
from survey.config import load_settings
from survey.db import db, make_engine
from survey.migrate import upgrade
from survey.services.specs import forget_cached_specs
from tests import factories

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


def pytest_configure(config: pytest.Config) -> None:
    """Compile the message catalogs, as `make` does, so plain `pytest` sees translations."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in Path(__file__).parent.parent.glob("survey/translations/*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as src, mo.open("wb") as dst:
                write_mo(dst, read_po(src))


def database_url(tmp_dir: Path) -> str:
    return os.environ.get("LYHORD_TEST_DATABASE_URL") or f"sqlite:///{tmp_dir / 'test.sqlite3'}"


def _sqlite_savepoints(engine: Engine) -> None:
    """pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy emit BEGIN."""

    @event.listens_for(engine, "connect")
    def _no_pysqlite_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN")


def reset_postgresql(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


@pytest.fixture(scope="session")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return database_url(tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    if engine.dialect.name == "postgresql":
        reset_postgresql(engine)
    upgrade(engine)
    if engine.dialect.name == "sqlite":
        engine.dispose()
        _sqlite_savepoints(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Any:
    return load_settings(
        {
            "LYHORD_ENV": "test",
            "LYHORD_SECRET_KEY": TEST_SECRET,
            "LYHORD_DATABASE_URL": db_url,
            "LYHORD_BASE_URL": "http://lyhord.test",
        },
        instance_path=tmp_path,
    )


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    conn = engine.connect()
    outer = conn.begin()
    yield conn
    outer.rollback()
    conn.close()


@pytest.fixture
def app(settings: Any, engine: Engine, connection: Connection) -> Iterator[Flask]:
    forget_cached_specs()
    app = create_app(settings, engine=engine)
    db.bind(connection)  # every request's session joins the test's transaction
    yield app
    forget_cached_specs()


@pytest.fixture
def db_session(connection: Connection) -> Iterator[Session]:
    """The test's own session, in the test's transaction: requests see what it flushes."""
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    yield session
    session.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def make(db_session: Session) -> factories.Factory:
    return factories.Factory(db_session, TEST_SECRET)
