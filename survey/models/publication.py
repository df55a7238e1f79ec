"""Published results: what the anonymity gate let through, and its suppression log.

Publishing a round computes every figure once, through :mod:`survey.anonymity`, and stores
only what passed. Pages, exports and (later) the API read these tables; nothing that shows
results reads responses. Hidden cells are kept with the rule that hid them and no figures.
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


class PublishedFigure(Base):
    """The statistics of one question or index in one shown group."""

    __tablename__ = "published_figure"

    publication_id: Mapped[int] = mapped_column(
        ForeignKey("publication.id", ondelete="CASCADE"), primary_key=True
    )
    group_key: Mapped[str] = mapped_column(String(160), primary_key=True)
    measure: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # item | index
    n: Mapped[int] = mapped_column(Integer)
    mean: Mapped[float | None] = mapped_column(Float)
    sd: Mapped[float | None] = mapped_column(Float)
    # Indices: the respondents' mean score, which tests use; ``mean`` follows the index's
    # rule (Kolada's item mean for HME). Equal when nobody skipped an item.
    score_mean: Mapped[float | None] = mapped_column(Float)
    median: Mapped[float | None] = mapped_column(Float)
    pct_positive: Mapped[float | None] = mapped_column(Float)
    pct_negative: Mapped[float | None] = mapped_column(Float)
    distribution: Mapped[list[int] | None] = mapped_column(JSON)


class SuppressedCell(Base):
    """The suppression log: a hidden cell and the rule that hid it. No figures."""

    __tablename__ = "suppressed_cell"

    publication_id: Mapped[int] = mapped_column(
        ForeignKey("publication.id", ondelete="CASCADE"), primary_key=True
    )
    group_key: Mapped[str] = mapped_column(String(160), primary_key=True)
    measure: Mapped[str] = mapped_column(String(64), primary_key=True)
    rule: Mapped[str] = mapped_column(String(32))


class PublishedComparison(Base):
    """A shown group's figure against a reference: previous round, parent, rest, trend."""

    __tablename__ = "published_comparison"

    publication_id: Mapped[int] = mapped_column(
        ForeignKey("publication.id", ondelete="CASCADE"), primary_key=True
    )
    group_key: Mapped[str] = mapped_column(String(160), primary_key=True)
    measure: Mapped[str] = mapped_column(String(64), primary_key=True)
    # mean (Welch for indices, Mann–Whitney for items) or pct_positive (two proportions)
    metric: Mapped[str] = mapped_column(String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    reference: Mapped[str] = mapped_column(String(160))
    reference_value: Mapped[float | None] = mapped_column(Float)
    difference: Mapped[float | None] = mapped_column(Float)
    ci_low: Mapped[float | None] = mapped_column(Float)
    ci_high: Mapped[float | None] = mapped_column(Float)
    test: Mapped[str] = mapped_column(String(80))
    statistic: Mapped[float | None] = mapped_column(Float)
    p_value: Mapped[float | None] = mapped_column(Float)
    # Benjamini–Hochberg within what is shown together: one group's table, one overview column.
    q_group: Mapped[float | None] = mapped_column(Float)
    q_overview: Mapped[float | None] = mapped_column(Float)
    effect: Mapped[float | None] = mapped_column(Float)
    effect_name: Mapped[str | None] = mapped_column(String(40))
    significant: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(String(64))


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
