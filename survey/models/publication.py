"""Published results: what the anonymity gate let through, and its suppression log.

Publishing a round computes every figure once, through :mod:`survey.anonymity`, and stores
only what passed. Pages, exports and (later) the API read these tables; nothing that shows
results reads responses. Hidden cells are kept with the rule that hid them and no figures.

A group's figures and comparisons are stored with the group, column by column, as JSON
documents (the indices' comparisons apart from the questions', which overviews do not read):
a round has some 17,000 groups but a million figures and comparisons, and pages read a group's
figures together. Writing them as rows took most of the time of publishing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.db import Base
from survey.models.round import SurveyRound
from survey.models.types import intpk

WHOLE_GROUP = "*"  # SuppressedCell.measure when every figure of a group is hidden

# The statistics of one question or index in one shown group. ``mean`` follows the index's
# rule (Kolada's item mean for HME); ``score_mean`` is the respondents' mean score (indices
# only; equal when nobody skipped an item). Distributions: counts per scale point (items).
FIGURE_FIELDS = (
    "measure",
    "kind",  # item | index
    "n",
    "mean",
    "sd",
    "score_mean",
    "median",
    "pct_positive",
    "pct_negative",
    "distribution",
)
# A shown group's figure against a reference (previous round, parent, rest, trend...).
# metric: mean (Welch for indices, Mann–Whitney for items) or pct_positive (two proportions);
# q_group and q_overview: Benjamini–Hochberg within what is shown together (one group's
# table, one overview column).
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


def records(columns: dict[str, list[Any]] | None) -> list[dict[str, Any]]:
    """A stored column-by-column document as one dict per row."""
    if not columns:
        return []
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


class Publication(Base):
    __tablename__ = "publication"

    id: Mapped[intpk]
    round_id: Mapped[int] = mapped_column(
        ForeignKey("survey_round.id", ondelete="CASCADE"), index=True
    )
    published_on: Mapped[dt.date]
    published_by: Mapped[str] = mapped_column(String(320))
    # A round may be republished (e.g. after screening comments); one publication is current.
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    min_group_size: Mapped[int] = mapped_column(Integer)
    min_group_size_text: Mapped[int] = mapped_column(Integer)
    min_group_size_sensitive: Mapped[int] = mapped_column(Integer)
    engine: Mapped[str] = mapped_column(String(64))
    # Counts only (cells hidden per rule, audit findings): never a figure of a hidden cell.
    audit: Mapped[dict[str, Any]] = mapped_column(JSON)

    round: Mapped[SurveyRound] = relationship()


class PublishedGroup(Base):
    """A group of respondents a report may show: a unit (with descendants) or a unit × category."""

    __tablename__ = "published_group"

    publication_id: Mapped[int] = mapped_column(
        ForeignKey("publication.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="RESTRICT"), index=True)
    filter_question: Mapped[str | None] = mapped_column(String(64))
    filter_value: Mapped[int | None] = mapped_column(Integer)
    hidden: Mapped[bool] = mapped_column(Boolean)
    rule: Mapped[str | None] = mapped_column(String(32))
    # Only for groups that are shown (None when hidden): no n for small groups.
    respondents: Mapped[int | None] = mapped_column(Integer)
    headcount: Mapped[int | None] = mapped_column(Integer)
    response_rate: Mapped[float | None] = mapped_column(Float)
    # A shown group's figures and comparisons, column by column (see FIGURE_FIELDS and
    # COMPARISON_FIELDS; ``records`` gives them row by row). None when the group is hidden.
    # The indices' comparisons are apart from the questions': overviews read only those.
    figures: Mapped[dict[str, list[Any]] | None] = mapped_column(JSON)
    index_comparisons: Mapped[dict[str, list[Any]] | None] = mapped_column(JSON)
    item_comparisons: Mapped[dict[str, list[Any]] | None] = mapped_column(JSON)

    def figure_records(self) -> list[dict[str, Any]]:
        return records(self.figures)

    def comparison_records(self) -> list[dict[str, Any]]:
        return records(self.index_comparisons) + records(self.item_comparisons)


class SuppressedCell(Base):
    """The suppression log: a hidden cell and the rule that hid it. No figures."""

    __tablename__ = "suppressed_cell"

    publication_id: Mapped[int] = mapped_column(
        ForeignKey("publication.id", ondelete="CASCADE"), primary_key=True
    )
    group_key: Mapped[str] = mapped_column(String(160), primary_key=True)
    measure: Mapped[str] = mapped_column(String(64), primary_key=True)
    rule: Mapped[str] = mapped_column(String(32))


class PublishedDriver(Base):
    """Driver analysis across the organisation: how an item moves with an outcome index."""

    __tablename__ = "published_driver"

    publication_id: Mapped[int] = mapped_column(
        ForeignKey("publication.id", ondelete="CASCADE"), primary_key=True
    )
    outcome: Mapped[str] = mapped_column(String(64), primary_key=True)
    measure: Mapped[str] = mapped_column(String(64), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    rho: Mapped[float] = mapped_column(Float)
    ci_low: Mapped[float] = mapped_column(Float)
    ci_high: Mapped[float] = mapped_column(Float)
    p_value: Mapped[float] = mapped_column(Float)
    q_value: Mapped[float] = mapped_column(Float)
    rank: Mapped[int] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("publication_id", "outcome", "rank"),)
