"""The question types as form fields: a registry from question kind to field builder.

A page's form class is built from the immutable :class:`SectionSpec` and cached by it, so a
locked questionnaire pays for building forms once per process. What counts as a valid answer
is decided in :mod:`survey.services.answers`; this module only turns its codes into messages.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, StopValidation, ValidationError

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


class ChoiceField(Field):
    """One answer out of ``allowed``. The template draws the radio buttons, so the field keeps
    only the set of allowed values (WTForms' choice fields rebuild and check a choice list on
    every form instance, which made up most of the cost of a 31-question page form)."""

    data: Any

    def __init__(
        self,
        label: str | None = None,
        validators: Sequence[Any] | None = None,
        allowed: frozenset[int] = frozenset(),
        **kwargs: Any,
    ) -> None:
        super().__init__(label, validators, **kwargs)
        self.allowed = allowed

    def process_data(self, value: Any) -> None:
        self.data = _as_one(value)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist:
            self.data = _coerce_int(valuelist[0])

    def pre_validate(self, form: Any) -> None:
        if self.data is not None and self.data not in self.allowed:
            raise ValidationError(message(rules.NOT_A_CHOICE))


class MultiChoiceField(ChoiceField):
    """Any number of answers out of ``allowed`` (check boxes)."""

    def process_data(self, value: Any) -> None:
        self.data = _as_many(value)

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = [_coerce_int(v) for v in valuelist]

    def pre_validate(self, form: Any) -> None:
        if self.data and any(v not in self.allowed for v in self.data):
            raise ValidationError(message(rules.NOT_A_CHOICE))


def _coerce_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # fails pre_validate with a clear message instead of a crash


class Required(InputRequired):
    """``InputRequired`` whose message is translated when it is shown, not when the (cached)
    form class was built, so each respondent reads it in their own language."""

    def __call__(self, form: Any, field: Field) -> None:
        if field.raw_data and field.raw_data[0]:
            return
        field.errors[:] = []
        raise StopValidation(message(rules.REQUIRED))


def _presence(q: QuestionSpec, strict: bool) -> Any:
    if strict and q.required:
        return Required()
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


# Labels are never shown (the templates print the question text), but WTForms translates a
# default label for every field of every form instance; giving the key avoids that.
def _choice_field(q: QuestionSpec, strict: bool) -> Field:
    allowed = frozenset(rules.allowed_values(q))
    return ChoiceField(q.key, validators=[_presence(q, strict)], allowed=allowed)


def _multi_field(q: QuestionSpec, strict: bool) -> Field:
    allowed = frozenset(rules.allowed_values(q))
    return MultiChoiceField(q.key, validators=[_presence(q, strict)], allowed=allowed)


def _text_field(q: QuestionSpec, strict: bool) -> Field:
    return TextAreaField(q.key, validators=[_presence(q, strict), _text_rules(q)])


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


def _as_one(data: Any) -> Any:
    return _coerce_int(data)


def _as_many(data: Any) -> Any:
    try:
        return [_coerce_int(v) for v in data]
    except TypeError:
        return None


def _as_is(data: Any) -> Any:
    return data


class Kind:
    """One question kind: its field, how its form data maps to a stored answer, and what
    the field's ``data`` is when the form is filled from the draft (``process_data``)."""

    def __init__(
        self,
        field: Callable[[QuestionSpec, bool], Field],
        to_stored: Callable[[Any], StoredAnswer | None],
        from_stored: Callable[[StoredAnswer], Any],
        field_data: Callable[[Any], Any],
    ) -> None:
        self.field = field
        self.to_stored = to_stored
        self.from_stored = from_stored
        self.field_data = field_data


REGISTRY: dict[str, Kind] = {
    "likert": Kind(_choice_field, _one, _first, _as_one),
    "single": Kind(_choice_field, _one, _first, _as_one),
    "multi": Kind(_multi_field, _many, _all, _as_many),
    "text": Kind(_text_field, _text, _as_text, _as_is),
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


class Shown:
    """A question's answer as page.html reads it from a form field."""

    __slots__ = ("data", "errors")

    def __init__(self, data: Any) -> None:
        self.data = data
        self.errors: list[str] = []


class Prefilled:
    """What page.html reads from a page form, for a page shown before anything was posted:
    each question's answer from the draft (as the field's ``process_data`` would hold it)
    and no errors. Binding the 32 WTForms fields of a form only to read this back cost as
    much as rendering the page."""

    errors: Mapping[str, list[str]] = MappingProxyType({})

    def __init__(self, section: SectionSpec, answers: dict[str, StoredAnswer]) -> None:
        data = form_data(section.questions, answers)
        self._fields = {
            q.key: Shown(REGISTRY[q.kind].field_data(data[q.key]) if q.key in data else None)
            for q in section.questions
        }

    def __getitem__(self, key: str) -> Shown:
        return self._fields[key]


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
