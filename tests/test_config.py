"""Settings come from LYHORD_* variables with safe demo defaults and none for production secrets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from survey.config import ConfigError, Settings, load_settings

README = Path(__file__).resolve().parent.parent / "README.md"


def test_demo_defaults(tmp_path: Path) -> None:
    settings = load_settings({}, instance_path=tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'lyhord.sqlite3'}"
    assert (settings.min_group_size, settings.min_group_size_text) == (5, 10)
    assert settings.min_group_size_sensitive == 10
    assert settings.default_locale == "sv"
    # the generated key is kept, so sessions survive a restart
    assert load_settings({}, instance_path=tmp_path).secret_key == settings.secret_key


def test_production_requires_secret_and_database(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings({"LYHORD_ENV": "production", "LYHORD_DATABASE_URL": "x"}, tmp_path)
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        load_settings({"LYHORD_ENV": "production", "LYHORD_SECRET_KEY": "s" * 40}, tmp_path)
    with pytest.raises(ConfigError, match="32"):
        load_settings(
            {"LYHORD_ENV": "production", "LYHORD_SECRET_KEY": "short", "LYHORD_DATABASE_URL": "x"},
            tmp_path,
        )
    settings = load_settings(
        {"LYHORD_ENV": "production", "LYHORD_SECRET_KEY": "s" * 40, "LYHORD_DATABASE_URL": "x"},
        tmp_path,
    )
    assert settings.session_cookie_secure


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LYHORD_MIN_GROUP_SIZE": "2"}, "at least 3"),
        ({"LYHORD_MIN_GROUP_SIZE": "fem"}, "whole number"),
        ({"LYHORD_MIN_GROUP_SIZE": "8", "LYHORD_MIN_GROUP_SIZE_TEXT": "6"}, "at least 8"),
        ({"LYHORD_DEFAULT_LOCALE": "de"}, "sv or en"),
        ({"LYHORD_SESSION_COOKIE_SECURE": "maybe"}, "true or false"),
        ({"LYHORD_ENV": "staging"}, "development, production or test"),
    ],
)
def test_bad_settings_are_refused(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env, tmp_path)


def test_readme_documents_every_setting() -> None:
    documented = set(re.findall(r"`(LYHORD_[A-Z_]+)`", README.read_text(encoding="utf-8")))
    names = {f"LYHORD_{name.upper()}" for name in Settings.__dataclass_fields__}
    names.discard("LYHORD_PRODUCTION")
    assert names - documented == set()
    source = "".join(p.read_text() for p in (README.parent / "survey").rglob("*.py"))
    source += (README.parent / "gunicorn.conf.py").read_text()
    used = set(re.findall(r"LYHORD_[A-Z_]+", source)) | {
        f"LYHORD_{m}" for m in re.findall(r'PREFIX \+ "([A-Z_]+)"', source)
    }
    used |= {f"LYHORD_{m}" for m in re.findall(r'_(?:int|bool)\(env, "([A-Z_]+)"', source)}
    used.discard("LYHORD_")
    assert used - documented == set()
