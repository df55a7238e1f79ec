"""figures and comparisons stored per group

A publication's figures and comparisons move from one row each (published_figure,
published_comparison) into two JSON documents on their group, column by column. Existing
publications are converted both ways.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 07:45:00
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

FIGURE_FIELDS = (
    "measure",
    "kind",
    "n",
    "mean",
    "sd",
    "score_mean",
    "median",
    "pct_positive",
    "pct_negative",
    "distribution",
)
COMPARISON_FIELDS = (
    "measure",
    "metric",
    "kind",
    "reference",
    "reference_value",
    "difference",
    "ci_low",
    "ci_high",
    "test",
    "statistic",
    "p_value",
    "q_group",
    "q_overview",
    "effect",
    "effect_name",
    "significant",
    "note",
)
KEY = ("publication_id", "group_key")


def _figure_table(constraints: bool = False) -> tuple[str, list[Any]]:
    return "published_figure", [
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("group_key", sa.String(length=160), nullable=False),
        sa.Column("measure", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("mean", sa.Float(), nullable=True),
        sa.Column("sd", sa.Float(), nullable=True),
        sa.Column("score_mean", sa.Float(), nullable=True),
        sa.Column("median", sa.Float(), nullable=True),
        sa.Column("pct_positive", sa.Float(), nullable=True),
        sa.Column("pct_negative", sa.Float(), nullable=True),
        sa.Column("distribution", sa.JSON(), nullable=True),
        *_constraints(constraints, "published_figure", ("measure",)),
    ]


def _constraints(wanted: bool, table: str, key: tuple[str, ...]) -> list[Any]:
    if not wanted:
        return []
    return [
        sa.ForeignKeyConstraint(
            ["publication_id"],
            ["publication.id"],
            name=f"fk_{table}_publication_id_publication",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("publication_id", "group_key", *key, name=f"pk_{table}"),
    ]


def _comparison_table(constraints: bool = False) -> tuple[str, list[Any]]:
    return "published_comparison", [
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("group_key", sa.String(length=160), nullable=False),
        sa.Column("measure", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=160), nullable=False),
        sa.Column("reference_value", sa.Float(), nullable=True),
        sa.Column("difference", sa.Float(), nullable=True),
        sa.Column("ci_low", sa.Float(), nullable=True),
        sa.Column("ci_high", sa.Float(), nullable=True),
        sa.Column("test", sa.String(length=80), nullable=False),
        sa.Column("statistic", sa.Float(), nullable=True),
        sa.Column("p_value", sa.Float(), nullable=True),
        sa.Column("q_group", sa.Float(), nullable=True),
        sa.Column("q_overview", sa.Float(), nullable=True),
        sa.Column("effect", sa.Float(), nullable=True),
        sa.Column("effect_name", sa.String(length=40), nullable=True),
        sa.Column("significant", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=64), nullable=True),
        *_constraints(constraints, "published_comparison", ("measure", "metric", "kind")),
    ]


DOCUMENTS = ("figures", "index_comparisons", "item_comparisons")


def _group_table() -> sa.Table:
    return sa.Table(
        "published_group",
        sa.MetaData(),
        sa.Column("publication_id", sa.Integer()),
        sa.Column("key", sa.String(length=160)),
        *(sa.Column(name, sa.JSON()) for name in DOCUMENTS),
    )


def _as_documents(
    rows: Any, fields: tuple[str, ...], column: Any
) -> dict[tuple[int, str, str], dict[str, list]]:
    """Rows grouped into documents by publication, group and the document's column name
    (``column(row)``)."""
    documents: dict[tuple[int, str, str], dict[str, list]] = defaultdict(
        lambda: {name: [] for name in fields}
    )
    for row in rows:
        mapping = row._mapping
        place = (mapping["publication_id"], mapping["group_key"], column(mapping))
        for name in fields:
            value = mapping[name]
            documents[place][name].append(bool(value) if name == "significant" else value)
    return documents


def upgrade() -> None:
    with op.batch_alter_table("published_group", schema=None) as batch_op:
        for name in DOCUMENTS:
            batch_op.add_column(sa.Column(name, sa.JSON(), nullable=True))

    bind = op.get_bind()
    groups = _group_table()
    name, columns = _figure_table()
    figures = sa.Table(name, sa.MetaData(), *columns)
    name, columns = _comparison_table()
    comparisons = sa.Table(name, sa.MetaData(), *columns)
    # A measure's kind (item or index) is the same in every group of a publication.
    kind_of = {
        (pid, measure): kind
        for pid, measure, kind in bind.execute(
            sa.select(figures.c.publication_id, figures.c.measure, figures.c.kind).distinct()
        )
    }

    def comparison_column(row: Any) -> str:
        kind = kind_of.get((row["publication_id"], row["measure"]))
        return "index_comparisons" if kind == "index" else "item_comparisons"

    for table, fields, column in (
        (figures, FIGURE_FIELDS, lambda _row: "figures"),
        (comparisons, COMPARISON_FIELDS, comparison_column),
    ):
        ordered = sa.select(table).order_by(*[table.c[k] for k in KEY])
        for (pid, key, name), document in _as_documents(
            bind.execute(ordered), fields, column
        ).items():
            bind.execute(
                sa.update(groups)
                .where(groups.c.publication_id == pid, groups.c.key == key)
                .values({name: document})
            )

    op.drop_table("published_figure")
    op.drop_table("published_comparison")


def downgrade() -> None:
    name, columns = _figure_table(constraints=True)
    figure_table = op.create_table(name, *columns)
    name, columns = _comparison_table(constraints=True)
    comparison_table = op.create_table(name, *columns)
    bind = op.get_bind()

    groups = _group_table()
    for column, table, fields in (
        ("figures", figure_table, FIGURE_FIELDS),
        ("index_comparisons", comparison_table, COMPARISON_FIELDS),
        ("item_comparisons", comparison_table, COMPARISON_FIELDS),
    ):
        stored = bind.execute(
            sa.select(groups.c.publication_id, groups.c.key, groups.c[column]).where(
                groups.c[column].is_not(None)
            )
        )
        for pid, key, document in stored:
            if isinstance(document, str):
                document = json.loads(document)
            rows = [
                {"publication_id": pid, "group_key": key, **dict(zip(fields, values))}
                for values in zip(*(document[name] for name in fields))
            ]
            if rows:
                bind.execute(sa.insert(table), rows)

    with op.batch_alter_table("published_group", schema=None) as batch_op:
        for name in reversed(DOCUMENTS):
            batch_op.drop_column(name)
