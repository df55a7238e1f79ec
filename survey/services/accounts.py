"""Staff accounts: argon2id password hashes (argon2-cffi), never plain text."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey.models import Unit, User
from survey.models.user import ROLES
from survey.services.errors import Invalid

_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps the timing alike.
_DUMMY = _hasher.hash("lyhord-no-such-user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def authenticate(session: Session, email: str, password: str) -> User | None:
    user = session.scalars(
        select(User).where(func.lower(User.email) == email.strip().lower())
    ).one_or_none()
    try:
        _hasher.verify(user.password_hash if user else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def create_user(
    session: Session,
    email: str,
    name: str,
    password: str,
    role: str,
    units: list[Unit] | None = None,
) -> User:
    errors: dict[str, str] = {}
    if role not in ROLES:
        errors["role"] = "unknown_role"
    if len(password) < 10:
        errors["password"] = "too_short"  # noqa: S105 (an error code)
    if "@" not in email:
        errors["email"] = "invalid"
    elif session.scalars(select(User).where(func.lower(User.email) == email.lower())).first():
        errors["email"] = "taken"
    if errors:
        raise Invalid(errors)
    user = User(email=email.strip(), name=name, password_hash=hash_password(password), role=role)
    user.units = list(units or [])
    session.add(user)
    session.flush()
    return user
