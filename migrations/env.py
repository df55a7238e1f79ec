"""Alembic environment: the URL comes from LYHORD_DATABASE_URL (or a connection passed in)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import survey.models  # noqa: F401  (registers every table on Base.metadata)
from survey.config import load_settings
from survey.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or load_settings().database_url
    engine = make_engine(url)
    with engine.connect() as conn:
        run_with(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported; run `lyhord migrate`.")
run_migrations_online()
