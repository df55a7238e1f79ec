"""A synthetic region for the results benchmark, written with bulk inserts.

The organisation, questionnaire, rounds and users are made through the real services
(:func:`survey.services.questionnaires.build_from_templates`, :mod:`survey.services.rounds`,
:mod:`survey.services.accounts`); the respondents' rows (invitations, responses, answers, free
text) are bulk-inserted in exactly the shape :func:`survey.services.responses.store_response`
writes them, because answering 200,000 questionnaires one request at a time would take hours.
Each round is closed with :func:`survey.services.rounds.close_round` (on PostgreSQL that
rewrites the round's rows in random-id order, as in production).

The region: one root, 6 förvaltningar, 40 avdelningar, 150 enheter (20 of them without
groups) and 803 arbetsgrupper, i.e. 1,000 units in five levels. Leaves have 5–80 respondents
(some below k), managers answer at the units above. About 50,000 respondents answer the latest
round; four yearly rounds; before the latest one a few groups merge, split or are renamed
(with unit lineage). The questionnaire is the shipped background + HME + arbetsmiljö templates
(50 questions) plus two benchmark sections (9 Likert items and one multiple choice), 60
questions and 14 indices.

Answers come from a latent climate per unit and round (the sum of effects of the unit and its
ancestors, drifting between rounds), a respondent effect and one effect per section, so items
of a section correlate and units differ per theme; about 5 % "vet ej" where offered, some
skipped optional items, background questions with realistic shares and 6 % unanswered.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.orm import Session

from survey.db import make_engine
from survey.demo import COMMENTS
from survey.migrate import upgrade
from survey.models import Questionnaire, SurveyRound, Unit, UnitLineage
from survey.services import accounts, rounds
from survey.services.questionnaires import build_from_templates, read_template

VERSION = "3"  # bump whenever what is generated changes: cached databases are then rebuilt
SEED = 20261125
TARGET_RESPONDENTS = 50_000  # in the latest round
RESPONSE_RATES = (0.78, 0.81, 0.83, 0.85)
YEARS = (2023, 2024, 2025, 2026)
QUESTIONNAIRE_KEY = f"bench-results-v{VERSION}"
K, K_TEXT, K_SENSITIVE = 5, 10, 10

USERS = {
    "namnd": ("namnd@bench.lyhord.se", "Nämndledamot (benchmark)", "bench-namnd-password"),
    "hr": ("hr@bench.lyhord.se", "HR (benchmark)", "bench-hr-password-0"),
}

FORVALTNINGAR = (
    "Socialförvaltningen",
    "Vård- och omsorgsförvaltningen",
    "Funktionsstödsförvaltningen",
    "Arbetsmarknadsförvaltningen",
    "Utbildningsförvaltningen",
    "Stadsbyggnadsförvaltningen",
)


# --- the questionnaire -------------------------------------------------------------------------


def _text(sv: str, en: str) -> dict[str, str]:
    return {"sv": sv, "en": en}


def _likert(key: str, sv: str, en: str, *, dont_know: bool = False) -> dict[str, Any]:
    return {
        "key": key,
        "kind": "likert",
        "scale": "agree5",
        "dont_know": dont_know,
        "required": False,
        "sensitive": False,
        "background": False,
        "text": _text(sv, en),
    }


def extra_template() -> dict[str, Any]:
    """Ten more questions (nine Likert items, one multiple choice) and two indices."""
    agree5 = read_template("arbetsmiljo")["scales"]["agree5"]
    development = [
        _likert(
            "utveckling.1",
            "Jag har möjlighet att utvecklas i mitt arbete.",
            "I can develop in my job.",
        ),
        _likert(
            "utveckling.2",
            "Jag får den kompetensutveckling jag behöver.",
            "I get the training I need.",
        ),
        _likert(
            "utveckling.3",
            "Nya medarbetare får en bra introduktion.",
            "New colleagues get a good introduction.",
            dont_know=True,
        ),
        _likert(
            "utveckling.4",
            "Jag kan använda min kompetens fullt ut.",
            "I can make full use of my skills.",
        ),
        {
            "key": "utveckling.5",
            "kind": "multi",
            "required": False,
            "sensitive": False,
            "background": False,
            "text": _text(
                "Vilken kompetensutveckling har du fått det senaste året?",
                "What training have you had in the past year?",
            ),
            "options": [
                {"value": 1, "label": _text("Kurs eller utbildning", "Course or training")},
                {"value": 2, "label": _text("Handledning", "Supervision")},
                {"value": 3, "label": _text("Nätverk", "Network")},
                {"value": 4, "label": _text("Mentor", "Mentor")},
                {"value": 5, "label": _text("Ingen", "None")},
            ],
        },
    ]
    cooperation = [
        _likert(
            "samverkan.1",
            "Samarbetet med andra enheter fungerar bra.",
            "Cooperation with other units works well.",
            dont_know=True,
        ),
        _likert(
            "samverkan.2",
            "Jag vet vem jag ska vända mig till i andra verksamheter.",
            "I know whom to contact in other services.",
        ),
        _likert(
            "samverkan.3",
            "Information mellan enheter når fram i tid.",
            "Information between units arrives in time.",
            dont_know=True,
        ),
        _likert(
            "samverkan.4",
            "Vi har gemensamma mål med andra verksamheter.",
            "We share goals with other services.",
        ),
        _likert(
            "samverkan.5",
            "Samverkan med externa aktörer fungerar bra.",
            "Cooperation with external partners works well.",
            dont_know=True,
        ),
    ]
    return {
        "key": "bench",
        "title": _text("Benchmarkfrågor", "Benchmark questions"),
        "scales": {"agree5": agree5},
        "sections": [
            {
                "key": "utveckling",
                "title": _text("Kompetens och utveckling", "Skills and development"),
                "questions": development,
            },
            {
                "key": "samverkan",
                "title": _text("Samverkan", "Cooperation"),
                "questions": cooperation,
            },
        ],
        "indices": [
            {
                "key": "utveckling",
                "name": _text("Kompetens och utveckling", "Skills and development"),
                "rule": "respondent_mean",
                "min_answered_share": 0.5,
                "items": [{"question": f"utveckling.{i}", "reverse": False} for i in range(1, 5)],
            },
            {
                "key": "samverkan",
                "name": _text("Samverkan", "Cooperation"),
                "rule": "respondent_mean",
                "min_answered_share": 0.5,
                "items": [{"question": f"samverkan.{i}", "reverse": False} for i in range(1, 6)],
            },
        ],
    }


# --- the organisation --------------------------------------------------------------------------


@dataclass
class Org:
    """Units (index = position): code, name, parent position, level, headcount, climate."""

    code: list[str]
    name: list[str]
    parent: list[int]
    level: list[int]
    headcount: np.ndarray
    effect: np.ndarray  # the unit's own climate effect (ancestors' are added)
    theme: np.ndarray  # (units, themes) per-section effects


def _split(rng: np.random.Generator, total: int, parts: int, low: int) -> list[int]:
    """``total`` split into ``parts`` random sizes of at least ``low``."""
    sizes = np.full(parts, low)
    extra = rng.multinomial(total - low * parts, rng.dirichlet(np.full(parts, 2.0)))
    return (sizes + extra).tolist()


def make_org(rng: np.random.Generator, n_themes: int) -> Org:
    code: list[str] = ["REG"]
    name: list[str] = ["Regionen"]
    parent: list[int] = [-1]
    level: list[int] = [0]

    def add(c: str, n: str, p: int, lvl: int) -> int:
        code.append(c)
        name.append(n)
        parent.append(p)
        level.append(lvl)
        return len(code) - 1

    forv = [add(f"F{i + 1}", FORVALTNINGAR[i], 0, 1) for i in range(6)]
    avd = []
    for f, count in zip(forv, _split(rng, 40, 6, 4), strict=True):
        for j in range(count):
            avd.append(
                add(f"{code[f]}-A{j + 1:02d}", f"{name[f].split('för')[0]}avdelning {j + 1}", f, 2)
            )
    enh = []
    for a, count in zip(avd, _split(rng, 150, 40, 2), strict=True):
        for j in range(count):
            enh.append(add(f"{code[a]}-E{j + 1:02d}", f"Enhet {code[a][-3:]}.{j + 1}", a, 3))
    with_groups = sorted(rng.choice(enh, size=130, replace=False).tolist())
    for e, count in zip(with_groups, _split(rng, 803, 130, 2), strict=True):
        for j in range(count):
            add(f"{code[e]}-G{j + 1:02d}", f"Arbetsgrupp {code[e][-6:]}.{j + 1}", e, 4)
    n = len(code)
    parents = np.array(parent)
    is_leaf = np.ones(n, dtype=bool)
    is_leaf[parents[parents >= 0]] = False
    lv = np.array(level)
    headcount = np.zeros(n, dtype=np.int64)
    leaves = np.flatnonzero(is_leaf)
    # Most groups have 15–95 staff; about 6 % are tiny (3–8), so some fall below k.
    big = 15 + np.round(80 * rng.beta(2.6, 1.4, size=len(leaves))).astype(np.int64)
    tiny = rng.random(len(leaves)) < 0.06
    headcount[leaves] = np.where(tiny, rng.integers(3, 9, size=len(leaves)), big)
    # Managers and staff functions directly at the units above the groups.
    direct = {0: (3, 8), 1: (3, 12), 2: (1, 4), 3: (1, 3)}
    for lvl, (lo, hi) in direct.items():
        at = np.flatnonzero(~is_leaf & (lv == lvl))
        headcount[at] = rng.integers(lo, hi + 1, size=len(at))
    # Scale the groups so that about TARGET_RESPONDENTS answer the latest round.
    want = TARGET_RESPONDENTS / RESPONSE_RATES[-1]
    fixed = headcount[~is_leaf].sum() + headcount[leaves][tiny].sum()
    scale = (want - fixed) / headcount[leaves][~tiny].sum()
    grown = np.round(headcount[leaves] * scale).astype(np.int64)
    headcount[leaves] = np.where(tiny, headcount[leaves], np.clip(grown, 6, 95))
    sd = {0: 0.0, 1: 0.15, 2: 0.15, 3: 0.15, 4: 0.2}
    effect = np.array([rng.normal(0, sd[lvl]) for lvl in level])
    theme = rng.normal(0, 0.25, size=(n, n_themes))
    return Org(code, name, parent, level, headcount, effect, theme)


@dataclass(frozen=True)
class Reorg:
    """Before the latest round: merged pairs, split groups, renamed groups (positions)."""

    merges: list[tuple[int, int]]
    splits: list[int]
    renames: list[int]


def plan_reorg(rng: np.random.Generator, org: Org) -> Reorg:
    parents = np.array(org.parent)
    groups = [i for i, lvl in enumerate(org.level) if lvl == 4 and org.headcount[i] >= 10]
    rng.shuffle(groups)
    used: set[int] = set()
    merges: list[tuple[int, int]] = []
    for g in groups:
        if len(merges) == 8:
            break
        if g in used:
            continue
        mates = [s for s in np.flatnonzero(parents == parents[g]) if s != g and s not in used]
        mates = [s for s in mates if org.level[s] == 4 and org.headcount[s] >= 10]
        if mates:
            merges.append((g, int(mates[0])))
            used |= {g, int(mates[0])}
    rest = [g for g in groups if g not in used]
    return Reorg(merges, rest[:8], rest[8:14])


# --- answers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionInfo:
    id: int
    key: str
    kind: str
    points: int
    dont_know: bool
    required: bool
    background: bool
    options: tuple[int, ...]
    theme: int
    mean: float
    loading: float
    reverse: bool


BACKGROUND_SHARES = {
    "bg.age": (0.18, 0.50, 0.32),
    "bg.gender": (0.79, 0.18, 0.03),
    "bg.profession": (0.58, 0.10, 0.06, 0.12, 0.14),
    "bg.years": (0.08, 0.15, 0.22, 0.23, 0.32),
}


def question_infos(session: Session, questionnaire: Questionnaire) -> list[QuestionInfo]:
    rng = np.random.default_rng(SEED + 1)
    reverse = {
        item.question.key for index in questionnaire.indices for item in index.items if item.reverse
    }
    themes: dict[str, int] = {}
    out = []
    for q in questionnaire.questions():
        if q.kind == "text":
            continue
        theme_key = q.section.title["en"]
        theme = themes.setdefault(theme_key, len(themes))
        hme = q.key.startswith("hme.")
        mean = rng.normal(4.05, 0.15) if hme else rng.normal(3.6, 0.35)
        if q.key in reverse:
            mean = rng.normal(2.7, 0.2)
        out.append(
            QuestionInfo(
                id=q.id,
                key=q.key,
                kind=q.kind,
                points=q.scale_points or 5,
                dont_know=q.dont_know,
                required=q.required,
                background=q.background,
                options=tuple(int(o["value"]) for o in q.options or []),
                theme=theme,
                mean=float(mean),
                loading=float(rng.uniform(0.7, 1.0)),
                reverse=q.key in reverse,
            )
        )
    return out


def _choose(rng: np.random.Generator, n: int, shares: np.ndarray) -> np.ndarray:
    """Index of an option for each of n respondents; ``shares`` is (n, options) or (options,)."""
    p = np.broadcast_to(shares, (n, shares.shape[-1]))
    p = p / p.sum(axis=1, keepdims=True)
    return (rng.random((n, 1)) > np.cumsum(p, axis=1)).sum(axis=1)


def simulate_answers(
    rng: np.random.Generator,
    questions: list[QuestionInfo],
    unit: np.ndarray,
    climate: np.ndarray,
    theme: np.ndarray,
    is_manager: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(respondent, question id, value) for every stored answer of ``len(unit)`` respondents.

    ``climate``/``theme``: the unit's latent climate and per-theme effects for this round.
    """
    n = len(unit)
    person = climate[unit] + rng.normal(0, 0.7, n)
    n_themes = theme.shape[1]
    facet = theme[unit] + rng.normal(0, 0.45, (n, n_themes))
    resp_parts, q_parts, v_parts = [], [], []

    def emit(who: np.ndarray, qid: int, values: np.ndarray) -> None:
        resp_parts.append(who)
        q_parts.append(np.full(len(who), qid, dtype=np.int64))
        v_parts.append(values.astype(np.int64))

    everyone = np.arange(n)
    profession = None
    for q in questions:
        if q.background:
            shares = np.array(BACKGROUND_SHARES[q.key])
            picked = _choose(rng, n, shares)
            if q.key == "bg.profession":
                picked = np.where(is_manager, 2, picked)  # "Chef"
                profession = picked
            answered = rng.random(n) >= 0.06
            emit(everyone[answered], q.id, np.array(q.options)[picked[answered]])
        elif q.kind == "likert":
            sign = -1.0 if q.reverse else 1.0
            latent = q.mean + sign * q.loading * (person + facet[:, q.theme])
            value = np.clip(np.rint(latent + rng.normal(0, 0.6, n)), 1, q.points)
            if q.dont_know:
                value = np.where(rng.random(n) < 0.05, 0, value)
            skip = 0.0 if q.required else 0.015
            answered = rng.random(n) >= skip
            emit(everyone[answered], q.id, value[answered])
        elif q.kind == "single":
            k = len(q.options)
            if q.key == "am.caseload.1":
                shares = np.array([0.08, 0.12, 0.2, 0.25, 0.2, 0.1, 0.05])
                picked = _choose(rng, n, shares)
                if profession is not None:
                    picked = np.where(profession == 2, 0, picked)
            else:  # exposure: the first option ("Nej") is the most common
                base = 0.12 if "threats" in q.key else 0.05
                yes = np.clip(base * np.exp(-0.6 * person), 0.01, 0.6)
                shares = np.column_stack([1 - yes, yes * 0.75, yes * 0.25])[:, :k]
                picked = _choose(rng, n, shares)
            answered = rng.random(n) >= 0.03
            emit(everyone[answered], q.id, np.array(q.options)[picked[answered]])
        else:  # multi: each option independently; "Ingen" (last) when none
            chosen = rng.random((n, len(q.options) - 1)) < np.array([0.5, 0.35, 0.15, 0.1])
            answered = rng.random(n) >= 0.03
            for j, value in enumerate(q.options[:-1]):
                who = everyone[answered & chosen[:, j]]
                emit(who, q.id, np.full(len(who), value))
            none = everyone[answered & ~chosen.any(axis=1)]
            emit(none, q.id, np.full(len(none), q.options[-1]))
    return np.concatenate(resp_parts), np.concatenate(q_parts), np.concatenate(v_parts)


# --- writing -----------------------------------------------------------------------------------


def _copy(conn: Connection, table: str, columns: list[str], frame: pd.DataFrame) -> None:
    """PostgreSQL: COPY a frame (text format; NULL as \\N) into ``table``."""
    buffer = io.StringIO()
    frame.to_csv(buffer, sep="\t", header=False, index=False, na_rep="\\N")
    raw = conn.connection.driver_connection
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        copy.write(buffer.getvalue())


def _bulk(conn: Connection, table: str, frame: pd.DataFrame) -> None:
    """Insert a frame: COPY on PostgreSQL, one executemany on SQLite."""
    columns = list(frame.columns)
    if conn.dialect.name == "postgresql":
        out = frame.copy()
        for c in columns:
            if out[c].dtype == object and len(out) and isinstance(out[c].iloc[0], bytes):
                out[c] = ["\\\\x" + b.hex() for b in out[c]]
        _copy(conn, table, columns, out)
        return
    marks = ", ".join("?" for _ in columns)
    rows = list(zip(*(frame[c].tolist() for c in columns), strict=True))
    conn.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def _uuid_text(conn: Connection, ids: list[uuid.UUID]) -> list[str]:
    """How the ``Uuid`` type stores an id: 32 hex digits on SQLite, a uuid on PostgreSQL."""
    return [u.hex for u in ids] if conn.dialect.name == "sqlite" else [str(u) for u in ids]


@dataclass
class Generated:
    """What the benchmark needs to know about a generated database."""

    version: str
    url: str
    round_ids: list[int]
    page_unit_id: int
    page_unit_code: str
    units_in_latest: int
    respondents: list[int]
    answers: list[int]
    generation_seconds: float
    users: dict[str, tuple[str, str]]

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2))

    @staticmethod
    def load(path: Path) -> Generated | None:
        try:
            raw = json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        if raw.get("version") != VERSION:
            return None
        raw["users"] = {k: tuple(v) for k, v in raw["users"].items()}
        return Generated(**raw)


def _fill_round(
    session: Session,
    rng: np.random.Generator,
    survey_round: SurveyRound,
    round_index: int,
    unit_ids: np.ndarray,
    headcount: np.ndarray,
    manager_units: np.ndarray,
    climate: np.ndarray,
    theme: np.ndarray,
    questions: list[QuestionInfo],
    comment_ids: list[int],
) -> tuple[int, int]:
    """Invitations, responses, answers and comments of one round (positions → unit ids)."""
    conn = session.connection()
    in_round = np.flatnonzero(headcount > 0)
    rate = np.clip(rng.normal(RESPONSE_RATES[round_index], 0.07, size=len(headcount)), 0.35, 1.0)
    answered = rng.binomial(headcount, rate)
    opens, closes = survey_round.opens_on, survey_round.closes_on
    days = (closes - opens).days
    # Invitations: one per employee, with random stored hashes; used ones carry their date.
    inv_unit = np.repeat(in_round, headcount[in_round])
    used = np.concatenate([np.arange(headcount[u]) < answered[u] for u in in_round])
    used_on = [
        (opens + dt.timedelta(days=int(d))) if u else None
        for u, d in zip(used, rng.integers(0, days + 1, size=len(used)), strict=True)
    ]
    _bulk(
        conn,
        "invitation",
        pd.DataFrame(
            {
                "round_id": survey_round.id,
                "unit_id": unit_ids[inv_unit],
                "kind": "link",
                "token_hash": [os.urandom(32) for _ in range(len(inv_unit))],
                "created_on": opens,
                "used_on": used_on,
            }
        ),
    )
    # Responses: random ids; stored (and numbered by the gate) in id order.
    unit = np.repeat(in_round, answered[in_round])
    ids = sorted(uuid.uuid4() for _ in range(len(unit)))
    unit = rng.permutation(unit)
    n = len(unit)
    submitted = [opens + dt.timedelta(days=int(d)) for d in rng.integers(0, days + 1, size=n)]
    stored_ids = _uuid_text(conn, ids)
    _bulk(
        conn,
        "response",
        pd.DataFrame(
            {
                "id": stored_ids,
                "round_id": survey_round.id,
                "unit_id": unit_ids[unit],
                "submitted_on": submitted,
            }
        ),
    )
    is_manager = np.isin(unit, manager_units)
    resp, qid, value = simulate_answers(rng, questions, unit, climate, theme, is_manager)
    order = np.lexsort((value, qid, resp))
    id_array = np.array(stored_ids, dtype=object)
    _bulk(
        conn,
        "answer",
        pd.DataFrame(
            {
                "response_id": id_array[resp[order]],
                "question_id": qid[order],
                "value": value[order],
            }
        ),
    )
    # Free text: stored apart from the response, with its own random id.
    texts = []
    for question_id, share in zip(comment_ids, (0.10, 0.05), strict=False):
        who = np.flatnonzero(rng.random(n) < share)
        texts.append(
            pd.DataFrame(
                {
                    "id": _uuid_text(conn, [uuid.uuid4() for _ in who]),
                    "round_id": survey_round.id,
                    "unit_id": unit_ids[unit[who]],
                    "question_id": question_id,
                    "text": [COMMENTS[i] for i in rng.integers(0, len(COMMENTS), len(who))],
                    "status": "new",
                }
            )
        )
    if texts:
        _bulk(conn, "free_text_answer", pd.concat(texts, ignore_index=True))
    return n, len(resp)


def _reset_postgresql(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


def generate(url: str, log: Any = print) -> Generated:
    """Create the region in a fresh database at ``url`` (a SQLite file or scratch PostgreSQL)."""
    started = time.perf_counter()
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        _reset_postgresql(engine)
    upgrade(engine)
    rng = np.random.default_rng(SEED)
    respondents: list[int] = []
    answers: list[int] = []
    with Session(engine, expire_on_commit=False) as session:
        questionnaire = build_from_templates(
            session,
            QUESTIONNAIRE_KEY,
            _text("Medarbetarenkät (benchmark)", "Employee survey (benchmark)"),
            [
                read_template("background"),
                read_template("hme"),
                read_template("arbetsmiljo"),
                extra_template(),
            ],
        )
        questions = question_infos(session, questionnaire)
        comment_ids = [q.id for q in questionnaire.questions() if q.kind == "text"]
        n_themes = 1 + max(q.theme for q in questions)
        org = make_org(rng, n_themes)
        reorg = plan_reorg(rng, org)
        units = _create_units(session, org, reorg)
        unit_ids = np.array([u.id for u in units], dtype=np.int64)
        n_base = len(org.code)
        parents = np.array(org.parent + _reorg_parents(org, reorg))
        is_leaf = np.ones(len(units), dtype=bool)
        is_leaf[parents[parents >= 0]] = False
        manager_units = np.flatnonzero(~is_leaf)
        # Climate: own effect plus every ancestor's, drifting a little every round.
        effect = np.concatenate([org.effect, _reorg_values(org, reorg, org.effect)])
        themes = np.vstack([org.theme, _reorg_values(org, reorg, org.theme)])
        base_headcount = np.concatenate([org.headcount, _reorg_headcount(org, reorg)])
        drift = np.zeros(len(units))
        round_ids: list[int] = []
        for r, year in enumerate(YEARS):
            drift = drift + rng.normal(0, 0.12, len(units))
            own = effect + drift
            climate = _with_ancestors(own, parents)
            headcount = base_headcount.copy()
            if r < len(YEARS) - 1:
                headcount[n_base:] = 0  # the reorganised units exist from the latest round on
            else:
                gone = [u for pair in reorg.merges for u in pair] + reorg.splits + reorg.renames
                headcount[gone] = 0
            survey_round = rounds.create_round(
                session,
                rounds.NewRound(
                    questionnaire_id=questionnaire.id,
                    title=f"Medarbetarenkät {year}",
                    period_label=str(year),
                    opens_on=dt.date(year, 3, 1),
                    closes_on=dt.date(year, 3, 28),
                    organiser="HR-avdelningen, Regionen",
                    contact="hr@bench.lyhord.se",
                    headcounts={
                        int(unit_ids[u]): int(headcount[u]) for u in np.flatnonzero(headcount)
                    },
                    thresholds=rounds.Thresholds(K, K_TEXT, K_SENSITIVE),
                ),
                by="bench",
                today=dt.date(year, 2, 1),
            )
            rounds.open_round(session, survey_round)
            t0 = time.perf_counter()
            n, rows = _fill_round(
                session,
                rng,
                survey_round,
                r,
                unit_ids,
                headcount,
                manager_units,
                climate,
                themes,
                questions,
                comment_ids,
            )
            rounds.close_round(session, survey_round)
            session.commit()
            respondents.append(n)
            answers.append(rows)
            round_ids.append(survey_round.id)
            seconds = time.perf_counter() - t0
            log(f"  round {year}: {n:,} respondents, {rows:,} answers ({seconds:.1f} s)")
        for role, (email, name, password) in USERS.items():
            accounts.create_user(session, email, name, password, role)
        page_unit = _page_unit(org)
        session.commit()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    in_latest = int((headcount > 0).sum())
    return Generated(
        version=VERSION,
        url=url,
        round_ids=round_ids,
        page_unit_id=int(unit_ids[page_unit]),
        page_unit_code=org.code[page_unit],
        units_in_latest=in_latest,
        respondents=respondents,
        answers=answers,
        generation_seconds=time.perf_counter() - started,
        users={role: (email, password) for role, (email, _n, password) in USERS.items()},
    )


def _with_ancestors(own: np.ndarray, parents: np.ndarray) -> np.ndarray:
    total = own.copy()
    up = parents.copy()
    while (up >= 0).any():
        alive = up >= 0
        total[alive] += own[up[alive]]
        up = np.where(alive, parents[np.maximum(up, 0)], -1)
    return total


def _reorg_parents(org: Org, reorg: Reorg) -> list[int]:
    out = [org.parent[a] for a, _b in reorg.merges]
    out += [org.parent[s] for s in reorg.splits for _ in range(2)]
    out += [org.parent[u] for u in reorg.renames]
    return out


def _reorg_values(org: Org, reorg: Reorg, values: np.ndarray) -> np.ndarray:
    rows = [(values[a] + values[b]) / 2 for a, b in reorg.merges]
    rows += [values[s] for s in reorg.splits for _ in range(2)]
    rows += [values[u] for u in reorg.renames]
    return np.array(rows)


def _reorg_headcount(org: Org, reorg: Reorg) -> np.ndarray:
    h = org.headcount
    rows = [h[a] + h[b] for a, b in reorg.merges]
    for s in reorg.splits:
        rows += [h[s] // 2, h[s] - h[s] // 2]
    rows += [h[u] for u in reorg.renames]
    return np.array(rows, dtype=np.int64)


def _create_units(session: Session, org: Org, reorg: Reorg) -> list[Unit]:
    units: list[Unit] = []
    for code, name, parent in zip(org.code, org.name, org.parent, strict=True):
        unit = Unit(code=code, name=name, parent=units[parent] if parent >= 0 else None)
        if org.level[len(units)] >= 1 and code.startswith("F1"):
            unit.verksamhet = "IFO"
        units.append(unit)
    session.add_all(units)
    session.flush()
    closed = dt.date(YEARS[-1], 1, 1)
    new: list[tuple[Unit, list[int], str]] = []
    for a, b in reorg.merges:
        unit = Unit(
            code=f"{org.code[a]}+",
            name=f"{org.name[a]} och {org.name[b]}",
            parent=units[org.parent[a]],
        )
        new.append((unit, [a, b], "merge"))
    for s in reorg.splits:
        for part in ("a", "b"):
            unit = Unit(
                code=f"{org.code[s]}{part}",
                name=f"{org.name[s]} {part.upper()}",
                parent=units[org.parent[s]],
            )
            new.append((unit, [s], "split"))
    for u in reorg.renames:
        unit = Unit(
            code=f"{org.code[u]}n", name=f"{org.name[u]} (nytt namn)", parent=units[org.parent[u]]
        )
        new.append((unit, [u], "rename"))
    session.add_all(unit for unit, _p, _k in new)
    session.flush()
    for unit, predecessors, kind in new:
        for p in predecessors:
            units[p].closed_on = closed
            session.add(
                UnitLineage(
                    predecessor_id=units[p].id, successor_id=unit.id, kind=kind, effective_on=closed
                )
            )
    session.flush()
    return units + [unit for unit, _p, _k in new]


def _page_unit(org: Org) -> int:
    """A mid-level unit (avdelning) with siblings and several enheter below it."""
    parents = np.array(org.parent)
    candidates = []
    for i, lvl in enumerate(org.level):
        if lvl != 2:
            continue
        siblings = int((parents == parents[i]).sum()) - 1
        children = int((parents == i).sum())
        if siblings >= 3 and children >= 4:
            candidates.append(i)
    return candidates[len(candidates) // 2]


# --- the cache ---------------------------------------------------------------------------------


def sqlite_database(work_dir: Path, log: Any = print) -> tuple[Generated, Path, bool]:
    """The generated SQLite database (built once per VERSION) and its description."""
    work_dir.mkdir(parents=True, exist_ok=True)
    pristine = work_dir / f"results-v{VERSION}.sqlite3"
    meta = work_dir / f"results-v{VERSION}.json"
    info = Generated.load(meta)
    if info is not None and pristine.exists():
        _migrate(f"sqlite:///{pristine}")  # the data stays; the publication tables may change
        return info, pristine, True
    for old in work_dir.glob("results-v*.sqlite3*"):
        old.unlink()
    building = work_dir / "results-building.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{building}{suffix}").unlink(missing_ok=True)
    info = generate(f"sqlite:///{building}", log)
    engine = make_engine(f"sqlite:///{building}")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    building.rename(pristine)
    info.save(meta)
    return info, pristine, False


def sqlite_working_copy(pristine: Path, work_dir: Path) -> str:
    """A fresh copy of the pristine database for one run (publishing writes to it)."""
    target = work_dir / "results-run.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(pristine, target)
    return f"sqlite:///{target}"


def postgresql_database(url: str, work_dir: Path, log: Any = print) -> tuple[Generated, bool]:
    """The generated PostgreSQL database: reused (publications removed) when it is there."""
    work_dir.mkdir(parents=True, exist_ok=True)
    meta = work_dir / f"results-v{VERSION}-pg.json"
    info = Generated.load(meta)
    if info is not None and _pg_matches(url, info):
        _migrate(url)
        _pg_unpublish(url, info)
        return info, True
    info = generate(url, log)
    info.save(meta)
    return info, False


def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def _pg_matches(url: str, info: Generated) -> bool:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            found = session.scalar(
                select(func.count(SurveyRound.id))
                .join(Questionnaire, Questionnaire.id == SurveyRound.questionnaire_id)
                .where(Questionnaire.key == QUESTIONNAIRE_KEY, SurveyRound.id.in_(info.round_ids))
            )
            return found == len(info.round_ids)
    except Exception:  # no schema, or another benchmark's schema
        return False
    finally:
        engine.dispose()


def _pg_unpublish(url: str, info: Generated) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM publication"))
        conn.execute(
            text("UPDATE survey_round SET status = 'closed' WHERE id = ANY(:ids)"),
            {"ids": info.round_ids},
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in (
            "published_group",
            "suppressed_cell",
            "published_driver",
            "publication",
        ):
            conn.execute(text(f"VACUUM ANALYZE {table}"))
    engine.dispose()
