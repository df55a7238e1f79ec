"""The Alembic history has one head, and migrating up builds exactly the models' schema."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

import survey.models  # noqa: F401
from survey.db import Base
from survey.migrate import alembic_config


def test_one_head() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1


def test_migrated_schema_matches_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_response_tables_have_no_rowid_on_sqlite(engine: Engine) -> None:
    """On SQLite a rowid would record the order responses arrived in."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only: PostgreSQL tables have no rowid")
    with engine.connect() as conn:
        for table in ("response", "answer", "free_text_answer"):
            sql = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = ?", (table,)
            ).scalar_one()
            assert "WITHOUT ROWID" in sql
