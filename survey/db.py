"""Engine, declarative base and the session lifecycle.

One session per request (or CLI command). Services flush, never commit; the request is
committed in one place (:meth:`Database.init_app` registers it) and rolled back on any error
or error status.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from flask import Flask, Response, g
from sqlalchemy import Connection, Engine, MetaData, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def today() -> dt.date:
    """The date stored on anonymity-relevant rows: never a time of day."""
    return dt.date.today()


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


# A pooled connection that has been idle this long is pinged before use, so one dropped
# while idle (database restart, firewall timeout) is replaced instead of failing a request.
# SQLAlchemy's ``pool_pre_ping`` pings on every checkout: on PostgreSQL that is one more
# round trip per request, as many as the respondent pages' own queries.
PING_AFTER_IDLE_SECONDS = 10.0


def _note_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(engine: Engine) -> Any:
    def checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool replaces the connection and checks out another one.
            raise DisconnectionError() from error

    return checkout


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL mode, foreign keys and a busy timeout, other
    databases a ping before using a connection that has been idle for a while. JSON is read
    with orjson (published groups hold a few kB of figures each; pages read hundreds)."""
    kwargs.setdefault("json_deserializer", orjson.loads)
    if url.startswith("sqlite"):
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url, **kwargs)
    # Many rows (a response's answers) go in as one multi-row INSERT, as SQLAlchemy does for
    # psycopg2, instead of psycopg 3's pipelined statement per row: less CPU on both sides.
    engine.dialect.use_insertmanyvalues_wo_returning = True
    if not kwargs.get("pool_pre_ping"):
        event.listen(engine, "checkin", _note_checkin)
        event.listen(engine, "checkout", _ping_if_idle(engine))
    return engine


class Database:
    """Holds the engine and hands out the request's session as ``db.session``."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self._factory: sessionmaker[Session] | None = None
        self._reads_outside_transactions = False

    def init_app(self, app: Flask, engine: Engine | None = None) -> None:
        self.engine = engine or make_engine(app.config["DATABASE_URL"])
        self._factory = sessionmaker(bind=self.engine, expire_on_commit=False)
        # SQLite (pysqlite) already runs reads outside a transaction; PostgreSQL would not.
        self._reads_outside_transactions = self.engine.dialect.name != "sqlite"
        app.extensions["lyhord_db"] = self
        app.after_request(self._finish_request)
        app.teardown_appcontext(self._close)

    def bind(self, bind: Engine | Connection) -> None:
        """Rebind sessions, e.g. to a test's connection, whose outer transaction is rolled
        back at the end of the test; commits then only release a savepoint."""
        self.engine = bind.engine
        self._factory = sessionmaker(
            bind=bind, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        self._reads_outside_transactions = False

    def new_session(self) -> Session:
        if self._factory is None:
            raise RuntimeError("Database.init_app has not been called")
        return self._factory()

    @property
    def session(self) -> Session:
        session: Session | None = g.get("_lyhord_session")
        if session is None:
            session = self.new_session()
            g._lyhord_session = session
        return session

    def read_only(self) -> Session:
        """The request's session, for a request that only reads. On PostgreSQL its queries
        then run outside a transaction, each atomic on its own (at the default READ
        COMMITTED level each statement sees its own snapshot anyway), which saves a BEGIN
        and a COMMIT round trip per request. Call it before the request's first query, and
        never write through it: writes would not be rolled back on an error."""
        session = self.session
        if self._reads_outside_transactions and not session.in_transaction():
            session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        return session

    def _finish_request(self, response: Response) -> Response:
        session: Session | None = g.get("_lyhord_session")
        if session is not None:
            if response.status_code < 400:
                session.commit()
            else:
                session.rollback()
        return response

    def _close(self, _exc: BaseException | None) -> None:
        session: Session | None = g.pop("_lyhord_session", None)
        if session is not None:
            session.rollback()
            session.close()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One transaction for a CLI command or a script: commit on success, else roll back."""
        session = self.new_session()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


db = Database()
