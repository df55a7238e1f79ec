"""Publishing a round: run the gate once, store what passed and the suppression log."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import orjson
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import JSON, Boolean, Float, Integer, Table, insert, select, update
from sqlalchemy.orm import Session

from survey import anonymity
from survey.comparisons import Previous
from survey.db import Base
from survey.models import SurveyRound
from survey.models.publication import (
    COMPARISON_FIELDS,
    FIGURE_FIELDS,
    Publication,
    PublishedDriver,
    PublishedGroup,
    SuppressedCell,
)
from survey.services.aggregates import load_round
from survey.services.errors import Conflict
from survey.services.lineage import earlier_publications, lineage_edges

CHUNK = 5000
SQLITE_CACHE_KIB = 131072


Documents = list[tuple[str, list[tuple[int, str | None]]]]  # period, (unit, figures JSON)


def previous_documents(session: Session, survey_round: SurveyRound) -> Documents:
    """Earlier published rounds (oldest first): their period and each unit group's figures as
    JSON text, not decoded (see :func:`previous_rounds`)."""
    earlier = session.execute(
        earlier_publications(survey_round).order_by(SurveyRound.closes_on)
    ).all()
    result: Documents = []
    for prev_round, publication in earlier:
        stored = session.execute(
            select(PublishedGroup.unit_id, sa.cast(PublishedGroup.figures, sa.Text)).where(
                PublishedGroup.publication_id == publication.id,
                PublishedGroup.filter_question.is_(None),
            )
        )
        result.append((prev_round.period_label, [(u, d) for u, d in stored]))
    return result


def previous_rounds(documents: Documents) -> list[Previous]:
    """The earlier rounds' shown unit figures (:func:`previous_documents`), distributions
    only for the latest, the one the round is compared with item by item."""
    result = []
    names = ["measure", "kind", "n", "mean", "sd", "score_mean", "distribution"]
    for order, (period, stored) in enumerate(documents):
        latest = order == len(documents) - 1
        columns: dict[str, list[Any]] = {name: [] for name in ["unit", *names]}
        units: set[int] = set()
        for unit_id, text in stored:
            units.add(unit_id)
            document = orjson.loads(text) if text else None
            if not document:  # a hidden group (SQL NULL), or JSON null
                continue
            columns["unit"] += [unit_id] * len(document["measure"])
            for name in names:
                columns[name] += document[name]
        figures = pd.DataFrame(columns)
        figures["n"] = figures["n"].astype(np.int64)
        for name in ("mean", "sd", "score_mean"):  # null: NaN
            figures[name] = pd.to_numeric(figures[name]).astype(np.float64)
        if not latest:
            figures["distribution"] = None
        result.append(Previous(period, order, figures, frozenset(units)))
    return result


def _clean(value: Any) -> Any:
    """Plain Python values for the database: NaN and NA become NULL, numpy scalars unboxed."""
    if isinstance(value, list | tuple | dict | str):
        return [_clean(v) for v in value] if isinstance(value, list | tuple) else value
    if value is None or pd.isna(value):
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _python(values: pd.Series, kind: str) -> list[Any]:
    """A column as plain Python values (None for NaN/NA), converted column-wise."""
    if kind in ("int", "float"):
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        missing = np.isnan(numbers)
        out = (
            np.where(missing, 0, numbers).astype(np.int64) if kind == "int" else numbers
        ).tolist()
    elif kind == "bool":
        return values.to_numpy(dtype=bool).tolist()
    else:
        array = values.to_numpy(dtype=object)
        missing = pd.isna(array)
        out = array.tolist()
    for i in np.flatnonzero(missing).tolist():
        out[i] = None
    return out


@dataclass(frozen=True)
class _Rows:
    """Rows for one publication table, column by column (in primary-key order)."""

    table: Table
    columns: list[str]
    kinds: list[str]  # int, float, bool or str, per column
    data: list[pd.Series]

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """The rows as plain Python values (JSON columns as their text)."""
        values = [_python(column, kind) for column, kind in zip(self.data, self.kinds, strict=True)]
        return zip(*values, strict=True)


def _rows(
    model: type[Base],
    frame: pd.DataFrame,
    columns: dict[str, str],
    publication_id: int,
    *,
    in_key_order: bool = True,
    encoded: tuple[str, ...] = (),
) -> _Rows:
    """``frame``'s columns (``source → target``) as rows of ``model``'s table (``encoded``:
    JSON columns whose values are JSON text already)."""
    table = cast(Table, model.__table__)
    # In primary-key order: on SQLite the rows then go to the end of the table's B-tree.
    source_of = {target: source for source, target in columns.items()}
    key = [source_of[c.name] for c in table.primary_key.columns if c.name in source_of]
    if in_key_order and len(frame) > 1 and key:
        frame = frame.sort_values(key, kind="stable", ignore_index=True)
    data = [pd.Series(np.full(len(frame), publication_id), name="publication_id")]
    kinds = ["int"]
    for source, target in columns.items():
        column = table.c[target]
        if isinstance(column.type, JSON) and target not in encoded:
            raise ValueError(f"{target}: JSON columns are written as their text")
        if target in encoded:
            kind = "str"
        elif isinstance(column.type, Boolean):
            kind = "bool"
        elif isinstance(column.type, Integer):
            kind = "int"
        elif isinstance(column.type, Float):
            kind = "float"
        else:
            kind = "str"
        data.append(frame[source].reset_index(drop=True))
        kinds.append(kind)
    return _Rows(table, ["publication_id", *columns.values()], kinds, data)


class _Writer:
    """Bulk inserts into the session's transaction: COPY on PostgreSQL (psycopg), one
    executemany on SQLite, Core inserts elsewhere. Values are stored as the column types
    store them."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.dialect = session.connection().dialect
        self.driver: Any = session.connection().connection.driver_connection
        self.copy = self.dialect.name == "postgresql" and self.dialect.driver == "psycopg"

    def write(
        self,
        model: type[Base],
        frame: pd.DataFrame,
        columns: dict[str, str],
        pid: int,
        encoded: tuple[str, ...] = (),
    ) -> None:
        """``frame``'s rows into ``model``'s table (in primary-key order, except by COPY)."""
        if frame.empty:
            return
        if self.copy:
            self._copy(_rows(model, frame, columns, pid, in_key_order=False, encoded=encoded))
            return
        rows = _rows(model, frame, columns, pid, encoded=encoded)
        if self.dialect.name == "sqlite":
            statement = insert(rows.table).compile(dialect=self.dialect, column_keys=rows.columns)
            cursor = self.driver.cursor()
            try:
                cursor.executemany(str(statement), rows.rows())
            finally:
                cursor.close()
            return
        # Other drivers: through SQLAlchemy, which encodes JSON values itself.
        records = [dict(zip(rows.columns, row, strict=True)) for row in rows.rows()]
        for record in records:
            for name in encoded:
                if record[name] is not None:
                    record[name] = orjson.loads(record[name])
        for start in range(0, len(records), CHUNK):
            self.session.execute(insert(rows.table), records[start : start + CHUNK])

    def _copy(self, rows: _Rows) -> None:
        quote = self.dialect.identifier_preparer.quote
        names = ", ".join(quote(c) for c in rows.columns)
        table = self.dialect.identifier_preparer.format_table(rows.table)
        cursor = self.driver.cursor()
        with cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows.rows():
                copy.write_row(row)


def publish_round(
    session: Session, round_id: int, today: dt.date, by: str = "lyhord"
) -> Publication:
    """Close-and-publish step: compute through the gate and store (flushed, not committed)."""
    survey_round = session.get_one(SurveyRound, round_id)
    if survey_round.status not in ("closed", "published"):
        raise Conflict("round_not_closed")
    # The earlier rounds' figures are decoded in a thread while this one waits for the
    # database to gather the answers (the database calls let go of the GIL meanwhile).
    documents = previous_documents(session, survey_round)
    with ThreadPoolExecutor(max_workers=1) as thread:
        decoded = thread.submit(previous_rounds, documents)
        data = load_round(session, round_id)
        lineage = lineage_edges(session)
        previous = decoded.result()
    gated = anonymity.gate_round(data, previous, lineage)
    with _storage_settings(session):
        publication = _store(session, survey_round, gated, today, by)
    survey_round.status = "published"
    session.flush()
    return publication


@contextmanager
def _storage_settings(session: Session) -> Iterator[None]:
    """While a publication's rows are written: a larger page cache on SQLite; on PostgreSQL
    lz4 for the groups' documents where the server has it (pglz took seconds). Then the old."""
    connection = session.connection()
    name = connection.dialect.name
    if name == "sqlite":
        setting, value = "cache_size", str(-int(SQLITE_CACHE_KIB))
        before = connection.exec_driver_sql(f"PRAGMA {setting}").scalar()
        change = f"PRAGMA {setting} = {{}}"
    elif (
        name == "postgresql"
        and connection.exec_driver_sql(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        ).scalar()
    ):
        setting, value = "default_toast_compression", "lz4"
        before = connection.exec_driver_sql(f"SHOW {setting}").scalar()
        change = f"SET LOCAL {setting} = {{}}"
    else:
        yield
        return
    connection.exec_driver_sql(change.format(value))
    try:
        yield
    finally:
        connection.exec_driver_sql(change.format(before))


def _store(
    session: Session, survey_round: SurveyRound, gated: anonymity.Gated, today: dt.date, by: str
) -> Publication:
    round_id = survey_round.id
    session.execute(
        update(Publication).where(Publication.round_id == round_id).values(current=False)
    )
    publication = Publication(
        round_id=round_id,
        published_on=today,
        published_by=by,
        current=True,
        min_group_size=survey_round.min_group_size,
        min_group_size_text=survey_round.min_group_size_text,
        min_group_size_sensitive=survey_round.min_group_size_sensitive,
        engine=anonymity.ENGINE,
        audit={k: _clean(v) for k, v in gated.audit.items()},
    )
    session.add(publication)
    session.flush()
    pid = publication.id
    _store_rows(_Writer(session), gated, pid)
    return publication


# Frame columns → stored names, where they differ.
COMPARISON_NAMES = {
    "value_b": "reference_value",
    "effect_size": "effect",
    "effect_size_name": "effect_name",
}
STORED_DIGITS = 8
TEXT_FIELDS = frozenset({"measure", "kind", "metric", "reference", "test", "effect_name", "note"})


def significant(values: np.ndarray, digits: int) -> np.ndarray:
    """``values`` rounded to ``digits`` significant digits (NaN, 0 and ±inf as they are).

    The result is the double nearest to the rounded decimal, so it is written that short."""
    out = np.array(values, dtype=np.float64)
    finite = np.isfinite(out) & (out != 0)
    x = out[finite]
    decimals = digits - 1 - np.floor(np.log10(np.abs(x))).astype(np.int64)
    tiny = decimals > 300  # 10**decimals would overflow: left as they are
    power = 10.0 ** np.abs(np.minimum(decimals, 300))
    rounded = np.where(decimals >= 0, np.rint(x * power) / power, np.rint(x / power) * power)
    out[finite] = np.where(tiny, x, rounded)
    return out


def _documents(frame: pd.DataFrame, fields: tuple[str, ...]) -> dict[str, str]:
    """Each group's rows of ``frame`` (by its ``group`` column) as one JSON document of
    ``fields``, column by column: ``{"measure": [...], "n": [...], ...}``, NaN as null,
    numbers to ``STORED_DIGITS`` significant digits (pages show at most two decimals, the
    CSV export six significant digits; stored in full they took half as much room again).

    orjson writes whole numpy columns; the standard library's encoder took seconds for a
    round's million values."""
    if frame.empty:
        return {}
    # Rows grouped by key, in their order within a group (codes sort faster than text).
    codes, keys = pd.factorize(frame["group"], sort=True)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(keys) + 1)).tolist()
    columns: dict[str, Any] = {}
    for name in fields:
        values = frame[name]
        if name == "distribution" or name in TEXT_FIELDS:
            # Distributions: arrays (or lists) of counts for items, nothing for indices.
            array = values.to_numpy(dtype=object)[order]
            array[pd.isna(array)] = None
            columns[name] = array.tolist()
        elif name == "significant":
            columns[name] = values.to_numpy(dtype=bool)[order]
        elif name == "n":
            columns[name] = values.to_numpy(dtype=np.int64)[order]
        else:
            numbers = pd.to_numeric(values, errors="coerce").to_numpy(
                dtype=np.float64, na_value=np.nan
            )
            columns[name] = significant(numbers, STORED_DIGITS)[order]
    option = orjson.OPT_SERIALIZE_NUMPY
    return {
        key: orjson.dumps({k: v[a:b] for k, v in columns.items()}, option=option).decode()
        for key, (a, b) in zip(keys, itertools.pairwise(bounds), strict=True)
    }


def figure_documents(figures: pd.DataFrame) -> dict[str, str]:
    """The shown groups' figures, one JSON document per group (see ``FIGURE_FIELDS``)."""
    return _documents(figures, FIGURE_FIELDS)


def comparison_documents(comparisons: pd.DataFrame) -> dict[str, str]:
    """The shown groups' comparisons, one JSON document per group (``COMPARISON_FIELDS``)."""
    return _documents(comparisons.rename(columns=COMPARISON_NAMES), COMPARISON_FIELDS)


def _store_rows(writer: _Writer, gated: anonymity.Gated, pid: int) -> None:
    groups = gated.groups
    figures = figure_documents(gated.figures)
    compared = gated.comparisons
    shown = gated.figures
    indices = shown.loc[(shown["kind"] == "index").to_numpy(), "measure"].unique()
    of_index = compared["measure"].isin(indices).to_numpy(dtype=bool)
    keys = groups["key"]
    groups = groups.assign(
        figures=keys.map(figures).astype(object),
        index_comparisons=keys.map(comparison_documents(compared.loc[of_index])).astype(object),
        item_comparisons=keys.map(comparison_documents(compared.loc[~of_index])).astype(object),
    )
    writer.write(
        PublishedGroup,
        groups,
        {
            "key": "key",
            "unit": "unit_id",
            "filter_question": "filter_question",
            "filter_value": "filter_value",
            "hidden": "hidden",
            "rule": "rule",
            "respondents": "respondents",
            "headcount": "headcount",
            "response_rate": "response_rate",
            "figures": "figures",
            "index_comparisons": "index_comparisons",
            "item_comparisons": "item_comparisons",
        },
        pid,
        encoded=("figures", "index_comparisons", "item_comparisons"),
    )
    writer.write(
        SuppressedCell,
        gated.suppressed,
        {"group": "group_key", "measure": "measure", "rule": "rule"},
        pid,
    )
    writer.write(
        PublishedDriver,
        gated.drivers,
        {
            "outcome": "outcome",
            "measure": "measure",
            "n": "n",
            "rho": "rho",
            "ci_low": "ci_low",
            "ci_high": "ci_high",
            "p_value": "p_value",
            "q_value": "q_value",
            "rank": "rank",
        },
        pid,
    )
