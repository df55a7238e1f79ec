"""The organisation tree: units, and how units became other units between rounds."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.db import Base
from survey.models.types import code_str, intpk, name_str


class Unit(Base):
    """A unit of the förvaltning: förvaltning, avdelning, enhet, arbetsgrupp."""

    __tablename__ = "unit"

    id: Mapped[intpk]
    code: Mapped[code_str] = mapped_column(unique=True)
    name: Mapped[name_str]
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("unit.id", ondelete="RESTRICT"), index=True
    )
    # Kolada's verksamhet (e.g. "IFO" for individ- och familjeomsorg), for export-kolada.
    verksamhet: Mapped[str | None] = mapped_column(String(32))
    closed_on: Mapped[dt.date | None]

    parent: Mapped[Unit | None] = relationship(remote_side="Unit.id", back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent", order_by="Unit.code")

    __table_args__ = (
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )

    def __repr__(self) -> str:
        return f"<Unit {self.code}>"


class UnitLineage(Base):
    """``successor`` continues ``predecessor`` (renamed, merged into, split from)."""

    __tablename__ = "unit_lineage"

    id: Mapped[intpk]
    predecessor_id: Mapped[int] = mapped_column(
        ForeignKey("unit.id", ondelete="CASCADE"), index=True
    )
    successor_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    effective_on: Mapped[dt.date]

    predecessor: Mapped[Unit] = relationship(foreign_keys=[predecessor_id])
    successor: Mapped[Unit] = relationship(foreign_keys=[successor_id])

    __table_args__ = (
        UniqueConstraint("predecessor_id", "successor_id"),
        CheckConstraint("kind IN ('rename', 'merge', 'split')", name="kind"),
        CheckConstraint("predecessor_id <> successor_id", name="not_self"),
    )
