"""Staff users: HR, managers, the nämnd, auditors. Respondents never have accounts."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey.db import Base
from survey.models.org import Unit
from survey.models.types import intpk, name_str

ROLES = ("hr", "manager", "namnd", "auditor")


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[intpk]
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[name_str]
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str | None] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    units: Mapped[list[Unit]] = relationship(secondary="user_unit")

    __table_args__ = (
        CheckConstraint("role IN ('hr', 'manager', 'namnd', 'auditor')", name="role"),
    )

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class UserUnit(Base):
    """A manager sees the subtree below each of these units."""

    __tablename__ = "user_unit"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True
    )
