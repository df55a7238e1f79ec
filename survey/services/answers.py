"""What a valid answer is, per question kind. No Flask: views map the codes to messages."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from survey.services.specs import QuestionnaireSpec, QuestionSpec

StoredAnswer = list[int] | str

# Control characters other than tab, line feed and carriage return; U+FFFD is what the
# form parser leaves where the browser sent bytes that are not valid UTF-8.
UNREADABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")
DEFAULT_MAX_LENGTH = 4000

# Error codes; survey.respond.forms.MESSAGES says them in the user's language.
REQUIRED = "required"
NOT_A_CHOICE = "not_a_choice"
TOO_LONG = "too_long"
UNREADABLE_TEXT = "unreadable"
UNKNOWN_QUESTION = "unknown_question"


def allowed_values(q: QuestionSpec) -> tuple[int, ...]:
    """The integer values an answer may take (empty for free text). 0 = "vet ej"."""
    if q.kind == "likert":
        points = tuple(range(1, (q.scale_points or 5) + 1))
        return (*points, 0) if q.dont_know else points
    if q.kind in ("single", "multi"):
        return tuple(option.value for option in q.options)
    return ()


def max_length(q: QuestionSpec) -> int:
    return q.max_length or DEFAULT_MAX_LENGTH


def check_text(q: QuestionSpec, value: str) -> str | None:
    if len(value) > max_length(q):
        return TOO_LONG
    if UNREADABLE.search(value):
        return UNREADABLE_TEXT
    return None


def check_value(q: QuestionSpec, value: Any) -> str | None:
    """The error code for one stored answer, or ``None`` when it is valid."""
    if q.kind == "text":
        return check_text(q, value) if isinstance(value, str) else NOT_A_CHOICE
    allowed = set(allowed_values(q))
    if not isinstance(value, list) or not value:
        return NOT_A_CHOICE
    if not all(isinstance(v, int) and not isinstance(v, bool) and v in allowed for v in value):
        return NOT_A_CHOICE
    if q.kind != "multi" and len(value) != 1:
        return NOT_A_CHOICE
    return None


def check_answers(spec: QuestionnaireSpec, answers: Mapping[str, Any]) -> dict[str, str]:
    """Every problem with a complete set of answers, by question key (empty when fine)."""
    errors: dict[str, str] = {}
    for q in spec.questions():
        value = answers.get(q.key)
        if value is None:
            if q.required:
                errors[q.key] = REQUIRED
            continue
        problem = check_value(q, value)
        if problem:
            errors[q.key] = problem
    for key in answers:
        if spec.question(key) is None:
            errors[key] = UNKNOWN_QUESTION
    return errors
