"""Demo data: a socialförvaltning, staff users, three rounds (two published, one open) with
realistic synthetic answers and a reorganisation between the first two.

Everything goes through the same services as real use (rounds, invitations, responses), so
the demo exercises the real paths, including small units below the minimum group size.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from survey.models import Invitation, Questionnaire, SurveyRound, Unit, UnitLineage, User
from survey.services import accounts, rounds
from survey.services.publishing import publish_round
from survey.services.questionnaires import build_questionnaire
from survey.services.responses import Draft, store_response
from survey.services.specs import QuestionnaireSpec, QuestionSpec, build_spec

DEMO_MARKER = "lyhord-demo"

# code, name, parent code, respondents placed directly at this level (headcount)
UNITS: list[tuple[str, str, str | None, int]] = [
    ("SOC", "Socialförvaltningen", None, 0),
    ("IFO", "Individ- och familjeomsorg", "SOC", 2),
    ("IFO-BU", "Barn och unga, utredning", "IFO", 16),
    ("IFO-BUF", "Barn och unga, uppföljning", "IFO", 9),
    ("IFO-VUX", "Vuxenenheten", "IFO", 11),
    ("IFO-MOT", "Mottagningsenheten", "IFO", 4),
    ("IFO-VNR", "Våld i nära relationer", "IFO", 8),
    ("EKB", "Ekonomiskt bistånd", "SOC", 0),
    ("EKB-NY", "Nybesök", "EKB", 7),
    ("EKB-AKT", "Aktualiserade ärenden", "EKB", 13),
    ("EKB-HDL", "Handläggning ekonomiskt bistånd", "EKB", 20),
    ("ARB", "Arbetsmarknadsenheten", "SOC", 3),
    ("SOB", "Stöd och behandling", "SOC", 0),
    ("SOB-FAM", "Familjebehandling", "SOB", 8),
    ("SOB-OV", "Öppenvård vuxna", "SOB", 6),
    ("STAB", "Förvaltningsstab", "SOC", 5),
]
# The reorganisation after the first year: Nybesök and Aktualiserade ärenden were merged into
# Handläggning ekonomiskt bistånd (its results page compares with the two together), and
# Våld i nära relationer started (a new unit: nothing to compare with). Units not listed take
# part every year.
YEARS = {"EKB-NY": (0,), "EKB-AKT": (0,), "EKB-HDL": (1, 2), "IFO-VNR": (1, 2)}
MERGED = (("EKB-NY", "EKB-HDL"), ("EKB-AKT", "EKB-HDL"))
# How each unit's climate moves over three years (latent scale): Barn och unga, utredning
# loses staff and gets worse; Ekonomiskt bistånd recovers after a reorganisation.
CLIMATE = {
    "IFO-BU": (0.0, -0.3, -0.7),
    "IFO-BUF": (0.1, 0.2, 0.3),
    "IFO-VUX": (0.0, 0.0, 0.1),
    "IFO-MOT": (-0.2, -0.2, 0.0),
    "EKB-NY": (-0.6, -0.5, 0.2),
    "EKB-AKT": (-0.5, -0.4, 0.3),
    "EKB-HDL": (-0.5, -0.4, 0.3),
    "IFO-VNR": (0.0, 0.1, 0.0),
    "ARB": (0.3, 0.3, 0.2),
    "SOB-FAM": (0.4, 0.5, 0.5),
    "SOB-OV": (0.1, 0.1, -0.1),
    "STAB": (0.4, 0.4, 0.4),
    "IFO": (0.3, 0.3, 0.3),
}
RESPONSE_RATES = (0.86, 0.84, 0.7)
# Units of several sizes, where the demo prints fresh links to the open round.
LINK_UNITS = ("IFO-BU", "EKB-HDL", "SOB-FAM", "IFO-MOT", "STAB")

USERS = [
    ("hr@demo.lyhord.se", "Hanna Rask (HR)", "hr", "lyhord-hr-demo", None),
    ("namnd@demo.lyhord.se", "Nils Ämbetsman (nämnd)", "namnd", "lyhord-namnd-demo", None),
    (
        "chef.ifo@demo.lyhord.se",
        "Ingrid Fors (avdelningschef IFO)",
        "manager",
        "lyhord-chef-demo",
        "IFO",
    ),
    (
        "skyddsombud@demo.lyhord.se",
        "Sven Ombud (skyddsombud)",
        "auditor",
        "lyhord-revisor-demo",
        None,
    ),
]

COMMENTS = [
    "Bra sammanhållning i gruppen, vi hjälper varandra när det är tungt.",
    "För många ärenden per handläggare, det går ut över kvaliteten.",
    "Handledningen är värdefull, önskar att den var oftare.",
    "Dokumentationssystemet tar för mycket tid.",
    "Tydligare prioriteringar från ledningen skulle hjälpa.",
    "Jag uppskattar att chefen finns tillgänglig.",
]


@dataclass(frozen=True)
class DemoResult:
    links: list[str]
    users: list[tuple[str, str, str]]  # email, password, role
    round_ids: list[int]


def _same_day(today: dt.date, year: int) -> dt.date:
    return today.replace(year=year, day=min(today.day, 28))


def is_demo(session: Session) -> bool:
    return (
        session.scalars(select(Questionnaire).where(Questionnaire.key == DEMO_MARKER)).first()
        is not None
    )


def create_units(session: Session) -> dict[str, Unit]:
    units: dict[str, Unit] = {}
    for code, name, parent, _headcount in UNITS:
        unit = Unit(code=code, name=name, parent=units[parent] if parent else None)
        if code.startswith("IFO"):
            unit.verksamhet = "IFO"
        session.add(unit)
        units[code] = unit
    session.flush()
    return units


def _latent(rng: random.Random, climate: float) -> float:
    return rng.gauss(climate, 0.8)


def _answer(
    rng: random.Random, q: QuestionSpec, latent: float, reverse: bool
) -> list[int] | str | None:
    if q.kind == "text":
        return rng.choice(COMMENTS) if rng.random() < 0.12 else None
    if q.kind == "likert":
        if q.dont_know and rng.random() < 0.04:
            return [0]
        points = q.scale_points or 5
        # HME in Swedish social services lands around 75 (mean answer ≈ 4).
        centre = (points + 1) / 2 + 0.9 + (-latent if reverse else latent)
        return [min(points, max(1, round(rng.gauss(centre, 0.75))))]
    values = [o.value for o in q.options]
    if q.background:
        if rng.random() < 0.06:
            return None
        return [rng.choice(values)]
    if q.kind == "multi":
        return sorted(rng.sample(values, k=rng.randint(1, min(2, len(values)))))
    # Other single choices (e.g. exposure to threats): the first option is the most common.
    weights = [max(0.05, 1.0 - i * (0.55 + 0.1 * latent)) for i in range(len(values))]
    return [rng.choices(values, weights=weights)[0]]


def _reverse_keys(questionnaire: Questionnaire) -> set[str]:
    return {
        item.question.key for index in questionnaire.indices for item in index.items if item.reverse
    }


def synthetic_draft(
    rng: random.Random, spec: QuestionnaireSpec, climate: float, reverse: set[str]
) -> Draft:
    latent = _latent(rng, climate)
    answers = {}
    for q in spec.questions():
        value = _answer(rng, q, latent, q.key in reverse)
        if value is not None:
            answers[q.key] = value
    return Draft(answers=answers)


def _fill_round(
    session: Session,
    rng: random.Random,
    survey_round: SurveyRound,
    units: dict[str, Unit],
    spec: QuestionnaireSpec,
    reverse: set[str],
    year_index: int,
    response_rate: float,
    secret_key: str,
    answered_until: dt.date,
) -> list[str]:
    """Invite everyone, let a share answer; returns the tokens of those who did not."""
    unused: list[str] = []
    for code, _name, _parent, headcount in UNITS:
        if headcount == 0 or not _takes_part(code, year_index):
            continue
        unit = units[code]
        tokens = rounds.issue_invitations(
            session, survey_round, unit, headcount, secret_key, survey_round.opens_on
        )
        climate = CLIMATE.get(code, (0.0, 0.0, 0.0))[year_index]
        for token in tokens:
            if rng.random() < response_rate:
                day = survey_round.opens_on + dt.timedelta(
                    days=rng.randint(0, max(0, (answered_until - survey_round.opens_on).days))
                )
                draft = synthetic_draft(rng, spec, climate, reverse)
                store_response(session, spec, survey_round.id, unit.id, draft, day)
                _mark_used(session, secret_key, token, day)
            else:
                unused.append(token)
    return unused


def _takes_part(code: str, year_index: int) -> bool:
    return year_index in YEARS.get(code, (0, 1, 2))


def _mark_used(session: Session, secret_key: str, token: str, day: dt.date) -> None:
    from survey.services.tokens import token_hash

    session.execute(
        update(Invitation)
        .where(Invitation.token_hash == token_hash(secret_key, token))
        .values(used_on=day)
    )


def create_demo(
    session: Session,
    secret_key: str,
    today: dt.date,
    thresholds: rounds.Thresholds,
    seed: int = 2026,
) -> DemoResult:
    """Create the whole demo in ``session`` (flushed, not committed)."""
    rng = random.Random(seed)
    units = create_units(session)
    questionnaire = build_questionnaire(
        session,
        DEMO_MARKER,
        {"sv": "Medarbetar- och arbetsmiljöenkät", "en": "Employee and work-environment survey"},
        ["background", "hme", "arbetsmiljo"],
        intro={
            "sv": "Enkäten har tre delar: några bakgrundsfrågor, HME (hållbart "
            "medarbetarengagemang) och frågor om din arbetsmiljö.",
            "en": "The survey has three parts: a few background questions, HME (sustainable "
            "employee engagement) and questions about your work environment.",
        },
    )
    spec = build_spec(questionnaire)
    reverse = _reverse_keys(questionnaire)
    made: list[SurveyRound] = []
    unused: list[str] = []
    periods = [
        (
            year,
            _same_day(today, year) - dt.timedelta(days=20),
            _same_day(today, year) + dt.timedelta(days=10),
        )
        for year in (today.year - 2, today.year - 1)
    ]
    periods.append((today.year, today - dt.timedelta(days=12), today + dt.timedelta(days=18)))
    for year_index, (year, opens, closes) in enumerate(periods):
        if year_index == 1:  # the reorganisation, in force from the second round
            session.add_all(
                UnitLineage(
                    predecessor_id=units[before].id,
                    successor_id=units[after].id,
                    kind="merge",
                    effective_on=opens,
                )
                for before, after in MERGED
            )
        headcounts = {
            units[code].id: h
            for code, _n, _p, h in UNITS
            if h > 0 and _takes_part(code, year_index)
        }
        survey_round = rounds.create_round(
            session,
            rounds.NewRound(
                questionnaire_id=questionnaire.id,
                title=f"Medarbetar- och arbetsmiljöenkät {year}",
                period_label=str(year),
                opens_on=opens,
                closes_on=closes,
                organiser="HR-avdelningen, Socialförvaltningen",
                contact="hr@demo.lyhord.se",
                headcounts=headcounts,
                thresholds=thresholds,
            ),
            by="demo",
            today=opens,
        )
        rounds.open_round(session, survey_round)
        answered_until = min(closes, today - dt.timedelta(days=1))
        rate = RESPONSE_RATES[year_index]
        unused = _fill_round(
            session,
            rng,
            survey_round,
            units,
            spec,
            reverse,
            year_index,
            rate,
            secret_key,
            answered_until,
        )
        made.append(survey_round)
        if year_index < 2:  # earlier years: closed and published, in order
            rounds.close_round(session, survey_round)
            publish_round(session, survey_round.id, today, by="demo")
    # Five more links in the open round for the newcomer to try, in units of several sizes.
    extra: list[str] = []
    for code in LINK_UNITS:
        extra += rounds.issue_invitations(session, made[-1], units[code], 1, secret_key, today)
    users: list[tuple[str, str, str]] = []
    for email, name, role, password, unit_code in USERS:
        accounts.create_user(
            session, email, name, password, role, [units[unit_code]] if unit_code else None
        )
        users.append((email, password, role))
    session.flush()
    return DemoResult(links=extra + unused[:5], users=users, round_ids=[r.id for r in made])


def latest_open_round(session: Session) -> SurveyRound | None:
    return session.scalars(
        select(SurveyRound)
        .where(SurveyRound.status == "open")
        .order_by(SurveyRound.opens_on.desc())
    ).first()


def fresh_links(
    session: Session, secret_key: str, today: dt.date, codes: Sequence[str]
) -> list[str]:
    """New unused links in the open demo round (old ones are stored hashed, so cannot be shown)."""
    survey_round = latest_open_round(session)
    if survey_round is None:
        return []
    links: list[str] = []
    for code in codes:
        unit = session.scalars(select(Unit).where(Unit.code == code)).one()
        links += rounds.issue_invitations(session, survey_round, unit, 1, secret_key, today)
    return links


def demo_users() -> list[tuple[str, str, str]]:
    return [(email, password, role) for email, _name, role, password, _unit in USERS]


__all__ = ["DemoResult", "User", "create_demo", "demo_users", "fresh_links", "is_demo"]
