"""The Alembic history has one head, migrating up builds exactly the models' schema, and
migrations that move data keep it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, make_url, select
from sqlalchemy.orm import Session

import survey.models  # noqa: F401
from survey.db import Base, make_engine
from survey.migrate import alembic_config, upgrade
from survey.models.publication import PublishedGroup
from survey.services import publishing
from tests.conftest import TEST_SECRET
from tests.factories import TODAY, Factory, stored_rows
from tests.test_publishing import second_round


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


@pytest.fixture
def scratch_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the suite's kind, for migrating down and up."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
        return
    name = f"{url.database}_migrations"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _published(session: Session, publication_id: int) -> dict[str, list[Any]]:
    return {
        what: sorted((vars(r) for r in stored_rows(session, publication_id, what)), key=repr)
        for what in ("figures", "comparisons")
    }


def test_publications_survive_migrating_down_and_up(scratch_url: str) -> None:
    """0003 moved figures and comparisons from rows into documents per group: both ways
    convert what is stored."""
    engine = make_engine(scratch_url)
    try:
        upgrade(engine)
        with Session(engine, expire_on_commit=False) as session:
            survey_round = second_round(Factory(session, TEST_SECRET), {"A": 8, "B": 7, "C": 3})
            second = publishing.publish_round(session, survey_round.id, TODAY)
            session.commit()
            before = _published(session, second.id)
        assert before["figures"]
        assert before["comparisons"]

        command.downgrade(alembic_config(engine), "0002")
        with engine.connect() as conn:
            rows = {
                table: conn.exec_driver_sql(
                    f"SELECT count(*) FROM {table} WHERE publication_id = {second.id}"
                ).scalar()
                for table in ("published_figure", "published_comparison")
            }
        assert rows == {
            "published_figure": len(before["figures"]),
            "published_comparison": len(before["comparisons"]),
        }

        upgrade(engine)
        with Session(engine) as session:
            assert _published(session, second.id) == before
            # The indices' comparisons went apart from the questions'.
            kinds = {f["measure"]: f["kind"] for f in before["figures"]}
            for column, kind in (("index_comparisons", "index"), ("item_comparisons", "item")):
                documents = session.scalars(
                    select(getattr(PublishedGroup, column)).where(
                        PublishedGroup.publication_id == second.id
                    )
                )
                measures = {m for d in documents if d for m in d["measure"]}
                assert measures
                assert {kinds[m] for m in measures} == {kind}
    finally:
        engine.dispose()
