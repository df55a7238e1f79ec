"""Checks the shipped questionnaire templates in ``survey/questionnaires/`` against the file format
that the loader reads (documented in ``survey/questionnaires/README.md``).

Only the standard library and pytest: these tests must pass before the application can even be
imported, so that a broken template is caught where it is written.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

QDIR = Path(__file__).resolve().parent.parent / "survey" / "questionnaires"
FILES = ("hme", "arbetsmiljo", "background")
LANGS = {"sv", "en"}
KINDS = ("likert", "single", "multi", "text")
RULES = ("item_mean", "respondent_mean")
# Keys are stored in String(64) columns (survey.models.types.code_str).
MAX_KEY_LEN = 64
KEY_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")

TOP_KEYS = {"key", "title", "scales", "sections", "indices"}
SCALE_KEYS = {"points", "low", "high"}
SECTION_KEYS = {"key", "title", "questions"}
SECTION_OPTIONAL = {"intro"}
QUESTION_KEYS = {"key", "kind", "required", "sensitive", "background", "text"}
QUESTION_OPTIONAL = {"help"}
KIND_KEYS = {
    "likert": {"scale", "dont_know"},
    "single": {"options"},
    "multi": {"options"},
    "text": {"max_length"},
}
OPTION_KEYS = {"value", "label"}
INDEX_KEYS = {"key", "name", "rule", "min_answered_share", "items"}
INDEX_ITEM_KEYS = {"question", "reverse"}
# Fields whose value is a text in several languages.
# Question keys start with their section's key, except where a short prefix is the convention.
SECTION_PREFIX = {"background": "bg"}
I18N_FIELDS = {"title", "intro", "text", "help", "label", "low", "high", "name"}

# Negatively phrased items: a high answer means a worse work environment, so every index that
# uses them must reverse-score them (and no other item may be reversed).
NEGATIVE_ITEMS = {"am.workload.4", "am.role_clarity.4", "am.health.3"}

# HME as SKR and RKA publish it (the nine items, verbatim) and as Kolada indexes it.
HME_ITEMS = {
    "hme.motivation.1": "Mitt arbete känns meningsfullt.",
    "hme.motivation.2": "Jag lär nytt och utvecklas i mitt dagliga arbete.",
    "hme.motivation.3": "Jag ser fram emot att gå till arbetet.",
    "hme.ledarskap.1": "Min närmaste chef visar uppskattning för mina arbetsinsatser.",
    "hme.ledarskap.2": "Min närmaste chef visar förtroende för mig som medarbetare.",
    "hme.ledarskap.3": "Min närmaste chef ger mig förutsättningar att ta ansvar i mitt arbete.",
    "hme.styrning.1": "Jag är insatt i min arbetsplats mål.",
    "hme.styrning.2": "Min arbetsplats mål följs upp och utvärderas på ett bra sätt.",
    "hme.styrning.3": "Jag vet vad som förväntas av mig i mitt arbete.",
}


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    counts = Counter(key for key, _ in pairs)
    duplicates = sorted(key for key, n in counts.items() if n > 1)
    if duplicates:
        raise ValueError(f"duplicate JSON keys: {duplicates}")
    return dict(pairs)


def _load(name: str) -> dict[str, Any]:
    with (QDIR / f"{name}.json").open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh, object_pairs_hook=_no_duplicate_keys)
    return data


@pytest.fixture(scope="module")
def templates() -> dict[str, dict[str, Any]]:
    return {name: _load(name) for name in FILES}


@pytest.fixture(params=FILES)
def template(request: pytest.FixtureRequest) -> dict[str, Any]:
    return _load(request.param)


def _questions(data: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for section in data["sections"]:
        for question in section["questions"]:
            yield section, question


def _question_map(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {q["key"]: q for _, q in _questions(data)}


def _walk(node: Any, path: str = "") -> Iterator[tuple[str, str | None, Any]]:
    """Yield (path, field name, value) for every value in the tree."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield f"{path}/{key}", key, value
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield f"{path}[{i}]", None, value
            yield from _walk(value, f"{path}[{i}]")


def _all_keys(templates: dict[str, dict[str, Any]], what: str) -> list[str]:
    keys: list[str] = []
    for data in templates.values():
        if what == "section":
            keys += [s["key"] for s in data["sections"]]
        elif what == "question":
            keys += [q["key"] for _, q in _questions(data)]
        elif what == "index":
            keys += [i["key"] for i in data["indices"]]
    return keys


# --------------------------------------------------------------------------- file structure


def test_all_three_templates_exist() -> None:
    present = {p.stem for p in QDIR.glob("*.json")}
    assert set(FILES) <= present


@pytest.mark.parametrize("name", FILES)
def test_template_key_matches_file_name(name: str) -> None:
    data = _load(name)
    assert set(data) == TOP_KEYS
    assert data["key"] == name


def test_duplicate_json_keys_are_detected() -> None:
    # The loader hook above must really reject what json.load would silently accept.
    with pytest.raises(ValueError, match="duplicate JSON keys"):
        json.loads('{"a": 1, "a": 2}', object_pairs_hook=_no_duplicate_keys)


def test_objects_have_exactly_the_documented_fields(template: dict[str, Any]) -> None:
    assert isinstance(template["scales"], dict)
    assert isinstance(template["indices"], list)
    assert template["sections"], "a template needs at least one section"
    for name, scale in template["scales"].items():
        assert set(scale) == SCALE_KEYS, name
    for section in template["sections"]:
        assert SECTION_KEYS <= set(section) <= SECTION_KEYS | SECTION_OPTIONAL, section["key"]
        assert section["questions"], f"empty section {section['key']}"
        for question in section["questions"]:
            assert question["kind"] in KINDS, question["key"]
            allowed = QUESTION_KEYS | KIND_KEYS[question["kind"]]
            assert allowed <= set(question) <= allowed | QUESTION_OPTIONAL, question["key"]
    for index in template["indices"]:
        assert set(index) == INDEX_KEYS, index["key"]
        for item in index["items"]:
            assert set(item) == INDEX_ITEM_KEYS, index["key"]


def test_flags_are_real_booleans(template: dict[str, Any]) -> None:
    for _, question in _questions(template):
        for flag in ("required", "sensitive", "background"):
            assert type(question[flag]) is bool, (question["key"], flag)
        if question["kind"] == "likert":
            assert type(question["dont_know"]) is bool, question["key"]
    for index in template["indices"]:
        for item in index["items"]:
            assert type(item["reverse"]) is bool, (index["key"], item["question"])


# --------------------------------------------------------------------------- texts


def test_every_text_has_non_empty_swedish_and_english(template: dict[str, Any]) -> None:
    texts = [(path, value) for path, field, value in _walk(template) if field in I18N_FIELDS]
    # The walk must reach every question text, or the check below proves nothing.
    assert len(texts) > sum(1 for _ in _questions(template))
    for path, value in texts:
        assert isinstance(value, dict), path
        assert set(value) == LANGS, path
        for lang, s in value.items():
            assert isinstance(s, str), f"{path}/{lang}"
            assert s.strip(), f"{path}/{lang} is empty"
            assert s == s.strip(), f"{path}/{lang} has surrounding whitespace"
            assert "  " not in s, f"{path}/{lang} has a double space"


def test_language_dicts_appear_only_in_text_fields(template: dict[str, Any]) -> None:
    for path, field, value in _walk(template):
        if isinstance(value, dict) and "sv" in value:
            assert field in I18N_FIELDS, path


def test_question_texts_end_alike_in_both_languages(template: dict[str, Any]) -> None:
    for _, question in _questions(template):
        sv, en = question["text"]["sv"], question["text"]["en"]
        assert sv[-1] in ".?", question["key"]
        assert sv[-1] == en[-1], f"{question['key']}: statement in one language, question in other"


def test_english_is_not_a_copy_of_swedish(template: dict[str, Any]) -> None:
    for _, question in _questions(template):
        assert question["text"]["sv"] != question["text"]["en"], question["key"]


# --------------------------------------------------------------------------- keys


def test_keys_are_lower_case_dotted_and_fit_the_column(
    templates: dict[str, dict[str, Any]],
) -> None:
    for what in ("section", "question", "index"):
        for key in _all_keys(templates, what):
            assert KEY_RE.match(key), f"{what} key {key!r}"
            assert len(key) <= MAX_KEY_LEN, key


@pytest.mark.parametrize("what", ["section", "question", "index"])
def test_keys_are_unique_across_all_files(templates: dict[str, dict[str, Any]], what: str) -> None:
    keys = _all_keys(templates, what)
    duplicates = [key for key, n in Counter(keys).items() if n > 1]
    assert not duplicates
    assert keys


def test_question_keys_are_prefixed_by_their_section(template: dict[str, Any]) -> None:
    for section, question in _questions(template):
        prefix = SECTION_PREFIX.get(section["key"], section["key"])
        assert question["key"].startswith(prefix + "."), question["key"]


# --------------------------------------------------------------------------- scales and kinds


def test_likert_questions_use_a_scale_defined_in_the_same_file(template: dict[str, Any]) -> None:
    for _, question in _questions(template):
        if question["kind"] == "likert":
            assert question["scale"] in template["scales"], question["key"]


def test_scales_are_well_formed_and_used(template: dict[str, Any]) -> None:
    used = {q["scale"] for _, q in _questions(template) if q["kind"] == "likert"}
    assert set(template["scales"]) == used, "every defined scale is used, and no other"
    for name, scale in template["scales"].items():
        points = scale["points"]
        assert type(points) is int, name
        # CheckConstraint likert_scale in survey.models.questionnaire.
        assert 2 <= points <= 11, name
        for lang in LANGS:
            assert scale["low"][lang] != scale["high"][lang], name


def test_a_scale_name_means_the_same_scale_in_every_file(
    templates: dict[str, dict[str, Any]],
) -> None:
    seen: dict[str, dict[str, Any]] = {}
    for data in templates.values():
        for name, scale in data["scales"].items():
            assert seen.setdefault(name, scale) == scale, f"scale {name!r} defined differently"


def test_choice_options_have_unique_positive_integer_values(template: dict[str, Any]) -> None:
    for _, question in _questions(template):
        if question["kind"] not in ("single", "multi"):
            continue
        options = question["options"]
        assert len(options) >= 2, question["key"]
        for option in options:
            assert set(option) == OPTION_KEYS, question["key"]
        values = [o["value"] for o in options]
        assert all(type(v) is int and v > 0 for v in values), question["key"]
        assert len(set(values)) == len(values), question["key"]
        # Ordered answer options (bands, frequencies) are numbered in order.
        assert values == sorted(values), question["key"]
        for lang in LANGS:
            labels = [o["label"][lang] for o in options]
            assert len(set(labels)) == len(labels), (question["key"], lang)


def test_text_questions_are_optional_and_bounded(template: dict[str, Any]) -> None:
    for _, question in _questions(template):
        if question["kind"] == "text":
            assert type(question["max_length"]) is int, question["key"]
            assert 1 <= question["max_length"] <= 10_000, question["key"]
            assert question["required"] is False, question["key"]


# --------------------------------------------------------------------------- flags


def test_background_questions_live_only_in_the_background_template(
    templates: dict[str, dict[str, Any]],
) -> None:
    for name, data in templates.items():
        for _, question in _questions(data):
            assert question["background"] is (name == "background"), question["key"]


def test_background_questions_are_optional_single_choice() -> None:
    data = _load("background")
    keys = set()
    for _, question in _questions(data):
        keys.add(question["key"])
        assert question["kind"] == "single", question["key"]
        assert question["required"] is False, question["key"]
        assert question["sensitive"] is False, question["key"]
    assert {"bg.age", "bg.gender", "bg.profession", "bg.years"} <= keys


def test_background_section_explains_that_answering_is_voluntary() -> None:
    (section,) = _load("background")["sections"]
    assert section["key"] == "background"
    assert "frivillig" in section["intro"]["sv"]
    assert "voluntary" in section["intro"]["en"]


def test_sensitive_questions_are_never_required(template: dict[str, Any]) -> None:
    for _, question in _questions(template):
        if question["sensitive"]:
            assert question["required"] is False, question["key"]


def test_required_questions_are_non_sensitive_likert(template: dict[str, Any]) -> None:
    for _, question in _questions(template):
        if question["required"]:
            assert question["kind"] == "likert", question["key"]
            assert not question["sensitive"], question["key"]


def test_exposure_to_threats_violence_and_victimisation_is_sensitive() -> None:
    data = _load("arbetsmiljo")
    exposure = [
        q
        for section, q in _questions(data)
        if section["key"] in ("am.threats", "am.victimisation") and q["kind"] == "single"
    ]
    assert len(exposure) >= 3
    for question in exposure:
        assert question["sensitive"] is True, question["key"]
        labels = [o["label"]["sv"] for o in question["options"]]
        assert labels == ["Nej", "Ja, någon gång", "Ja, flera gånger"], question["key"]
    # Nothing outside those two sections is marked sensitive by accident.
    for section, question in _questions(data):
        if question["sensitive"]:
            assert section["key"] in ("am.threats", "am.victimisation"), question["key"]


def test_free_text_sits_in_the_comments_section_with_a_warning() -> None:
    data = _load("arbetsmiljo")
    sections = {s["key"]: s for s in data["sections"]}
    text_keys = [q["key"] for s, q in _questions(data) if q["kind"] == "text"]
    assert text_keys == ["am.comments.1", "am.comments.2"]
    assert data["sections"][-1]["key"] == "am.comments"
    intro = sections["am.comments"]["intro"]
    assert "namn" in intro["sv"]
    assert "names" in intro["en"]
    assert "10" in intro["sv"]
    assert "10" in intro["en"]


# --------------------------------------------------------------------------- indices


def test_index_items_exist_in_the_same_file_and_are_likert(template: dict[str, Any]) -> None:
    questions = _question_map(template)
    for index in template["indices"]:
        assert index["rule"] in RULES, index["key"]
        share = index["min_answered_share"]
        assert isinstance(share, int | float), index["key"]
        assert not isinstance(share, bool), index["key"]
        assert 0 < share <= 1, index["key"]
        items = [item["question"] for item in index["items"]]
        assert items, index["key"]
        assert len(set(items)) == len(items), f"{index['key']} lists a question twice"
        for key in items:
            assert key in questions, f"{index['key']}: unknown question {key}"
            assert questions[key]["kind"] == "likert", f"{index['key']}: {key} is not likert"


def test_a_question_is_reversed_the_same_way_in_every_index(template: dict[str, Any]) -> None:
    reverse: dict[str, bool] = {}
    for index in template["indices"]:
        for item in index["items"]:
            assert reverse.setdefault(item["question"], item["reverse"]) == item["reverse"]


def test_negatively_phrased_items_and_only_those_are_reversed(
    templates: dict[str, dict[str, Any]],
) -> None:
    all_questions = {k for data in templates.values() for k in _question_map(data)}
    assert all_questions >= NEGATIVE_ITEMS
    reversed_items = set()
    indexed = set()
    for data in templates.values():
        for index in data["indices"]:
            for item in index["items"]:
                indexed.add(item["question"])
                if item["reverse"]:
                    reversed_items.add(item["question"])
    assert reversed_items == NEGATIVE_ITEMS & indexed
    assert indexed >= NEGATIVE_ITEMS, "every negatively phrased item is scored somewhere"


def test_hme_items_are_verbatim_and_offer_no_dont_know() -> None:
    data = _load("hme")
    questions = _question_map(data)
    assert [s["key"] for s in data["sections"]] == [
        "hme.motivation",
        "hme.ledarskap",
        "hme.styrning",
    ]
    assert {k: q["text"]["sv"] for k, q in questions.items()} == HME_ITEMS
    assert list(questions) == list(HME_ITEMS), "published order"
    for question in questions.values():
        assert question["kind"] == "likert"
        assert question["dont_know"] is False
        scale = data["scales"][question["scale"]]
        assert scale["points"] == 5
        assert scale["low"]["sv"] == "Stämmer mycket dåligt"
        assert scale["high"]["sv"] == "Stämmer mycket bra"


def test_hme_indices_follow_kolada() -> None:
    indices = {i["key"]: i for i in _load("hme")["indices"]}
    assert set(indices) == {"hme", "hme.motivation", "hme.ledarskap", "hme.styrning"}
    for key, index in indices.items():
        assert index["rule"] == "item_mean", key
        assert not any(item["reverse"] for item in index["items"]), key
        items = [item["question"] for item in index["items"]]
        if key == "hme":
            assert sorted(items) == sorted(HME_ITEMS)
        else:
            assert items == [f"{key}.{n}" for n in (1, 2, 3)]


def test_arbetsmiljo_indices_are_copsoq_style() -> None:
    indices = {i["key"]: i for i in _load("arbetsmiljo")["indices"]}
    assert {
        "am.workload",
        "am.support",
        "am.role_clarity",
        "am.supervision",
        "am.intention_to_stay",
    } <= set(indices)
    for key, index in indices.items():
        assert key.startswith("am."), key
        assert index["rule"] == "respondent_mean", key
        assert index["min_answered_share"] == 0.5, key
        assert len(index["items"]) >= 2, f"{key}: a one-item index is just the item"


def test_items_of_one_index_share_the_number_of_scale_points(template: dict[str, Any]) -> None:
    questions = _question_map(template)
    for index in template["indices"]:
        points = {
            template["scales"][questions[item["question"]]["scale"]]["points"]
            for item in index["items"]
        }
        assert len(points) == 1, index["key"]


# --------------------------------------------------------------------------- length


def test_the_combined_questionnaire_has_a_realistic_length(
    templates: dict[str, dict[str, Any]],
) -> None:
    total = sum(1 for data in templates.values() for _ in _questions(data))
    assert 40 <= total <= 50, total
    for section in templates["arbetsmiljo"]["sections"]:
        assert 1 <= len(section["questions"]) <= 5, section["key"]
