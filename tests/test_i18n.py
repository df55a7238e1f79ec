"""Every UI text has a Swedish translation; questionnaire texts exist in both languages."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "survey/translations/sv/LC_MESSAGES/messages.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def source_messages() -> set[str]:
    found: set[str] = set()
    method_map = [("survey/**.py", "python"), ("templates/**.html", "jinja2")]
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=method_map, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def catalog() -> Catalog:
    with CATALOG.open("rb") as handle:
        return read_po(handle)


def test_every_ui_text_is_translated_to_swedish() -> None:
    translated = {m.id for m in catalog() if m.id and m.string and "fuzzy" not in m.flags}
    missing = sorted(source_messages() - translated)
    assert missing == [], f"run `make extract-messages` and translate: {missing}"


def test_swedish_translations_keep_their_placeholders() -> None:
    """A translation that drops or renames a ``%(name)s`` fails, or shows the wrong value, only
    when its page is rendered: compare the placeholders of every message at once."""
    different = [
        message.id
        for message in catalog()
        if message.id
        and message.string
        and sorted(PLACEHOLDER.findall(str(message.id)))
        != sorted(PLACEHOLDER.findall(str(message.string)))
    ]
    assert different == []
