"""Questionnaires built from the templates shipped in ``survey/questionnaires/*.json``.

A questionnaire may combine several templates (background + HME + arbetsmiljö): their
sections follow each other and their indices are all kept. The file format is documented in
``survey/questionnaires/README.md``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey.models import Index, IndexItem, Question, Questionnaire, Section
from survey.services.errors import Invalid

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "questionnaires"


def available_templates() -> list[str]:
    return sorted(p.stem for p in TEMPLATE_DIR.glob("*.json"))


def read_template(key: str) -> dict[str, Any]:
    if key not in available_templates():
        raise Invalid({"template": "unknown_template"})
    data: dict[str, Any] = json.loads((TEMPLATE_DIR / f"{key}.json").read_text(encoding="utf-8"))
    return data


def _question(
    section: Section, position: int, raw: dict[str, Any], scales: dict[str, Any]
) -> Question:
    scale = scales.get(raw.get("scale", ""), {}) if raw["kind"] == "likert" else {}
    if raw["kind"] == "likert" and not scale:
        raise Invalid({raw["key"]: "unknown_scale"})
    return Question(
        section=section,
        position=position,
        key=raw["key"],
        kind=raw["kind"],
        text=raw["text"],
        help=raw.get("help"),
        scale_points=scale.get("points"),
        low_label=scale.get("low"),
        high_label=scale.get("high"),
        dont_know=bool(raw.get("dont_know", False)) and raw["kind"] == "likert",
        options=raw.get("options"),
        required=bool(raw.get("required", False)),
        sensitive=bool(raw.get("sensitive", False)),
        background=bool(raw.get("background", False)),
        max_length=raw.get("max_length"),
    )


def build_questionnaire(
    session: Session,
    key: str,
    title: dict[str, str],
    template_keys: list[str],
    intro: dict[str, str] | None = None,
) -> Questionnaire:
    """A new questionnaire (next version of ``key``) from shipped templates."""
    templates = [read_template(k) for k in template_keys]
    return build_from_templates(session, key, title, templates, intro)


def build_from_templates(
    session: Session,
    key: str,
    title: dict[str, str],
    templates: list[dict[str, Any]],
    intro: dict[str, str] | None = None,
) -> Questionnaire:
    """A new questionnaire (next version of ``key``) from template data, in order."""
    latest = session.scalar(select(func.max(Questionnaire.version)).where(Questionnaire.key == key))
    questionnaire = Questionnaire(key=key, version=(latest or 0) + 1, title=title, intro=intro)
    session.add(questionnaire)
    session.flush()
    by_key: dict[str, Question] = {}
    position = 0
    for template in templates:
        for raw_section in template["sections"]:
            position += 1
            section = Section(
                questionnaire=questionnaire,
                position=position,
                title=raw_section["title"],
                intro=raw_section.get("intro"),
            )
            session.add(section)
            for q_pos, raw in enumerate(raw_section["questions"], start=1):
                if raw["key"] in by_key:
                    raise Invalid({raw["key"]: "duplicate_key"})
                question = _question(section, q_pos, raw, template.get("scales", {}))
                question.questionnaire_id = questionnaire.id
                session.add(question)
                by_key[raw["key"]] = question
    session.flush()
    for i_pos, raw_index in enumerate(
        (i for t in templates for i in t.get("indices", [])), start=1
    ):
        index = Index(
            questionnaire=questionnaire,
            position=i_pos,
            key=raw_index["key"],
            name=raw_index["name"],
            rule=raw_index["rule"],
            min_answered_share=float(raw_index.get("min_answered_share", 0.5)),
        )
        session.add(index)
        for item in raw_index["items"]:
            item_question = by_key.get(item["question"])
            if item_question is None or item_question.kind != "likert":
                raise Invalid({raw_index["key"]: "bad_index_item"})
            index.items.append(IndexItem(question=item_question, reverse=bool(item.get("reverse"))))
    session.flush()
    return questionnaire
