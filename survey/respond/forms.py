"""The question types as form fields: a registry from question kind to field builder.

A page's form class is built from the immutable :class:`SectionSpec` and cached by it, so a
locked questionnaire pays for building forms once per process. What counts as a valid answer
is decided in :mod:`survey.services.answers`; this module only turns its codes into messages.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from survey.services import answers as rules
from survey.services.answers import StoredAnswer
from survey.services.specs import QuestionSpec, SectionSpec

MESSAGES = {
    rules.REQUIRED: _l("Answer this question to continue."),
    rules.NOT_A_CHOICE: _l("Choose one of the answers shown."),
    rules.TOO_LONG: _l("The answer is too long. Shorten it and try again."),
    rules.UNREADABLE_TEXT: _l(
        "The text contains characters that cannot be stored. Remove them and try again."
    ),
    rules.UNKNOWN_QUESTION: _l("This question is not part of the survey."),
}


def message(code: str) -> str:
    return str(MESSAGES.get(code, MESSAGES[rules.NOT_A_CHOICE]))


class ChoiceField(RadioField):
    """A radio group whose 'not a choice' message is ours, and translated."""

    def pre_validate(self, form: Any) -> None:
        if self.data is not None and self.data not in {v for v, *_ in self.iter_choices()}:
            raise ValidationError(message(rules.NOT_A_CHOICE))


class MultiChoiceField(SelectMultipleField):
    def pre_validate(self, form: Any) -> None:
        allowed = {v for v, *_ in self.iter_choices()}
        if self.data and any(v not in allowed for v in self.data):
            raise ValidationError(message(rules.NOT_A_CHOICE))


def _coerce_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # fails pre_validate with a clear message instead of a crash


def _presence(q: QuestionSpec, strict: bool) -> Any:
    if strict and q.required:
        return InputRequired(message=message(rules.REQUIRED))
    return Optional()


def _text_rules(q: QuestionSpec) -> Callable[[Any, Field], None]:
    def validate(_form: Any, field: Field) -> None:
        if field.data:
            problem = rules.check_text(q, field.data)
            if problem == rules.TOO_LONG:
                raise ValidationError(
                    str(
                        _l(
                            "The answer is %(length)d characters long; at most %(limit)d fit. "
                            "Shorten it and try again.",
                            length=len(field.data),
                            limit=rules.max_length(q),
                        )
                    )
                )
            if problem:
                raise ValidationError(message(problem))

    return validate


def _choices(q: QuestionSpec) -> list[SelectChoice]:
    return [SelectChoice(v, str(v)) for v in rules.allowed_values(q)]


def _choice_field(q: QuestionSpec, strict: bool) -> Field:
    choices = _choices(q)
    return ChoiceField(choices=choices, coerce=_coerce_int, validators=[_presence(q, strict)])


def _multi_field(q: QuestionSpec, strict: bool) -> Field:
    choices = _choices(q)
    return MultiChoiceField(choices=choices, coerce=_coerce_int, validators=[_presence(q, strict)])


def _text_field(q: QuestionSpec, strict: bool) -> Field:
    return TextAreaField(validators=[_presence(q, strict), _text_rules(q)])


def _one(data: Any) -> StoredAnswer | None:
    return None if data is None else [int(data)]


def _many(data: Any) -> StoredAnswer | None:
    return sorted(set(data)) if data else None


def _text(data: Any) -> StoredAnswer | None:
    text = unicodedata.normalize("NFC", str(data or "")).strip()
    return text or None


def _first(stored: StoredAnswer) -> Any:
    return stored[0] if isinstance(stored, list) and stored else None


def _all(stored: StoredAnswer) -> Any:
    return list(stored) if isinstance(stored, list) else []


def _as_text(stored: StoredAnswer) -> Any:
    return stored if isinstance(stored, str) else ""


class Kind:
    """One question kind: its field, and how its form data maps to a stored answer."""

    def __init__(
        self,
        field: Callable[[QuestionSpec, bool], Field],
        to_stored: Callable[[Any], StoredAnswer | None],
        from_stored: Callable[[StoredAnswer], Any],
    ) -> None:
        self.field = field
        self.to_stored = to_stored
        self.from_stored = from_stored


REGISTRY: dict[str, Kind] = {
    "likert": Kind(_choice_field, _one, _first),
    "single": Kind(_choice_field, _one, _first),
    "multi": Kind(_multi_field, _many, _all),
    "text": Kind(_text_field, _text, _as_text),
}


class PageForm(FlaskForm):
    """Base of every generated page form: CSRF plus one field per question."""


@lru_cache(maxsize=512)
def page_form_class(section: SectionSpec, strict: bool) -> type[PageForm]:
    """``strict`` forms require required answers (Next, Submit); lenient ones do not (Back)."""
    fields = {q.key: REGISTRY[q.kind].field(q, strict) for q in section.questions}
    return type("PageForm", (PageForm,), fields)


def stored_answers(form: PageForm, questions: Sequence[QuestionSpec]) -> dict[str, StoredAnswer]:
    """The page's answers, ready for the draft (unanswered questions left out)."""
    result: dict[str, StoredAnswer] = {}
    for q in questions:
        value = REGISTRY[q.kind].to_stored(form[q.key].data)
        if value is not None:
            result[q.key] = value
    return result


def form_data(
    questions: Sequence[QuestionSpec], answers: dict[str, StoredAnswer]
) -> dict[str, Any]:
    """Keyword data to pre-fill a page form from the draft."""
    return {
        q.key: REGISTRY[q.kind].from_stored(answers[q.key]) for q in questions if q.key in answers
    }


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[
            InputRequired(message=_l("Type the code from your slip.")),
            Length(max=40, message=_l("The code is too long. Check it and try again.")),
        ],
    )


class SubmitForm(FlaskForm):
    """The review page's submit button: CSRF only."""
