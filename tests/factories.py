"""Small factories for units, questionnaires, rounds, invitations and users."""

from __future__ import annotations

import datetime as dt
import itertools
from types import SimpleNamespace
from typing import Any

from sqlalchemy.orm import Session

from survey.models import Questionnaire, SurveyRound, Unit, User
from survey.services import accounts, rounds
from survey.services.questionnaires import build_from_templates, build_questionnaire

TODAY = dt.date.today()
_counter = itertools.count(1)

AGREE5 = {
    "points": 5,
    "low": {"sv": "Stämmer mycket dåligt", "en": "Strongly disagree"},
    "high": {"sv": "Stämmer mycket bra", "en": "Strongly agree"},
}


def likert(key: str, sv: str, en: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "kind": "likert", "scale": "agree5", "text": {"sv": sv, "en": en}, **extra}


def small_template() -> dict[str, Any]:
    """Two pages: a background question, two Likert items (one required), free text, multi."""
    return {
        "key": "small",
        "title": {"sv": "Liten enkät", "en": "Small survey"},
        "scales": {"agree5": AGREE5},
        "sections": [
            {
                "key": "s1",
                "title": {"sv": "Arbetet", "en": "The work"},
                "questions": [
                    {
                        "key": "bg.gender",
                        "kind": "single",
                        "background": True,
                        "text": {"sv": "Kön", "en": "Gender"},
                        "options": [
                            {"value": 1, "label": {"sv": "Kvinna", "en": "Woman"}},
                            {"value": 2, "label": {"sv": "Man", "en": "Man"}},
                        ],
                    },
                    likert(
                        "t.meaning",
                        "Mitt arbete känns meningsfullt.",
                        "My work feels meaningful.",
                        required=True,
                        dont_know=True,
                    ),
                    likert(
                        "t.tempo", "Jag hinner med mina uppgifter.", "I have time for my tasks."
                    ),
                ],
            },
            {
                "key": "s2",
                "title": {"sv": "Övrigt", "en": "Other"},
                "questions": [
                    {
                        "key": "t.support",
                        "kind": "multi",
                        "text": {"sv": "Vem ger dig stöd?", "en": "Who supports you?"},
                        "options": [
                            {"value": 1, "label": {"sv": "Kollegor", "en": "Colleagues"}},
                            {"value": 2, "label": {"sv": "Chef", "en": "Manager"}},
                            {"value": 3, "label": {"sv": "Handledare", "en": "Supervisor"}},
                        ],
                    },
                    {
                        "key": "t.comment",
                        "kind": "text",
                        "max_length": 4000,
                        "text": {"sv": "Övriga synpunkter", "en": "Other comments"},
                    },
                ],
            },
        ],
        "indices": [
            {
                "key": "t.index",
                "name": {"sv": "Testindex", "en": "Test index"},
                "rule": "item_mean",
                "items": [{"question": "t.meaning"}, {"question": "t.tempo"}],
            }
        ],
    }


class Factory:
    def __init__(self, session: Session, secret: str) -> None:
        self.session = session
        self.secret = secret

    def unit(self, code: str | None = None, parent: Unit | None = None, name: str = "") -> Unit:
        code = code or f"U{next(_counter)}"
        unit = Unit(code=code, name=name or f"Enhet {code}", parent=parent)
        self.session.add(unit)
        self.session.flush()
        return unit

    def questionnaire(self, templates: list[str] | None = None) -> Questionnaire:
        key = f"q{next(_counter)}"
        title = {"sv": "Testenkät", "en": "Test survey"}
        if templates:
            return build_questionnaire(self.session, key, title, templates)
        return build_from_templates(self.session, key, title, [small_template()])

    def round(
        self,
        units: dict[Unit, int] | None = None,
        questionnaire: Questionnaire | None = None,
        status: str = "open",
        opens_on: dt.date | None = None,
        closes_on: dt.date | None = None,
        k: int = 5,
    ) -> SurveyRound:
        questionnaire = questionnaire or self.questionnaire()
        units = units or {self.unit(): 10}
        survey_round = rounds.create_round(
            self.session,
            rounds.NewRound(
                questionnaire_id=questionnaire.id,
                title="Arbetsmiljöenkät test",
                period_label=str(TODAY.year),
                opens_on=opens_on or TODAY - dt.timedelta(days=3),
                closes_on=closes_on or TODAY + dt.timedelta(days=10),
                organiser="HR-avdelningen",
                contact="hr@example.se",
                headcounts={u.id: h for u, h in units.items()},
                thresholds=rounds.Thresholds(k, max(10, k), max(10, k)),
            ),
            by="test",
            today=TODAY,
        )
        if status in ("open", "closed", "published"):
            rounds.open_round(self.session, survey_round)
        if status in ("closed", "published"):
            rounds.close_round(self.session, survey_round)
        return survey_round

    def links(
        self, survey_round: SurveyRound, unit: Unit | None = None, count: int = 1
    ) -> list[str]:
        unit = unit or survey_round.units[0].unit
        return rounds.issue_invitations(self.session, survey_round, unit, count, self.secret, TODAY)

    def user(self, role: str = "hr", units: list[Unit] | None = None) -> tuple[User, str]:
        password = "correct horse battery"
        user = accounts.create_user(
            self.session, f"{role}{next(_counter)}@example.se", role.title(), password, role, units
        )
        return user, password


def respond(
    session: Session,
    survey_round: SurveyRound,
    unit: Unit,
    answers: dict[str, Any],
    day: dt.date | None = None,
) -> None:
    """Store one response directly (what a submit stores), without the HTTP round trip."""
    from survey.services.responses import Draft, store_response
    from survey.services.specs import build_spec

    spec = build_spec(survey_round.questionnaire)
    stored = {k: ([v] if isinstance(v, int) else v) for k, v in answers.items()}
    store_response(session, spec, survey_round.id, unit.id, Draft(stored), day or TODAY)
    session.flush()


def stored_rows(session: Session, publication_id: int, what: str) -> list[SimpleNamespace]:
    """A publication's stored ``figures`` or ``comparisons``, one object per row with its
    ``group_key`` (they are stored per group, column by column)."""
    from sqlalchemy import select

    from survey.models.publication import PublishedGroup, records

    names = ["index_comparisons", "item_comparisons"] if what == "comparisons" else [what]
    columns = [getattr(PublishedGroup, name) for name in names]
    rows = session.execute(
        select(PublishedGroup.key, *columns).where(PublishedGroup.publication_id == publication_id)
    )
    return [
        SimpleNamespace(group_key=key, **record)
        for key, *documents in rows
        for document in documents
        for record in records(document)
    ]
