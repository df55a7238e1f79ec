"""Domain errors that views map to a message, a page or a form field."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain was broken; ``field`` names the form field it belongs to."""

    def __init__(self, message: str = "", field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    pass


class Invalid(DomainError):
    """Input that breaks a rule; ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
