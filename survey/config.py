"""Settings read from the environment (``LYHORD_*``).

Nothing is read at import time: :func:`load_settings` is called by ``create_app`` with the
environment it should use, so tests can build apps with any settings without touching
``os.environ``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PREFIX = "LYHORD_"


class ConfigError(RuntimeError):
    """A setting is missing or malformed."""


@dataclass(frozen=True)
class Settings:
    """Every ``LYHORD_*`` setting, with the defaults of the embedded demo.

    The README lists the same settings; ``tests/test_config.py`` keeps the two in step.
    """

    env: str = "development"
    database_url: str = ""
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:5000"
    default_locale: str = "sv"
    min_group_size: int = 5
    min_group_size_text: int = 10
    min_group_size_sensitive: int = 10
    session_cookie_secure: bool = False
    log_level: str = "INFO"

    @property
    def production(self) -> bool:
        return self.env == "production"


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(PREFIX + name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{PREFIX}{name} must be a whole number, got {raw!r}") from exc
    if value < minimum:
        raise ConfigError(f"{PREFIX}{name} must be at least {minimum}, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(PREFIX + name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{PREFIX}{name} must be true or false, got {raw!r}")


def _secret_key(env: Mapping[str, str], instance_path: Path, production: bool) -> str:
    key = env.get(PREFIX + "SECRET_KEY", "")
    if key:
        if production and len(key) < 32:
            raise ConfigError(f"{PREFIX}SECRET_KEY must be at least 32 characters in production")
        return key
    if production:
        raise ConfigError(f"{PREFIX}SECRET_KEY is required when {PREFIX}ENV=production")
    # The demo keeps one random key per instance folder so sessions survive a restart.
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def load_settings(
    env: Mapping[str, str] | None = None, instance_path: Path | None = None
) -> Settings:
    """Build :class:`Settings` from ``env`` (default: ``os.environ``)."""
    env = os.environ if env is None else env
    instance_path = instance_path or Path.cwd() / "instance"
    mode = env.get(PREFIX + "ENV", "development")
    if mode not in {"development", "production", "test"}:
        raise ConfigError(f"{PREFIX}ENV must be development, production or test, got {mode!r}")
    production = mode == "production"
    database_url = env.get(PREFIX + "DATABASE_URL", "")
    if not database_url:
        if production:
            raise ConfigError(f"{PREFIX}DATABASE_URL is required when {PREFIX}ENV=production")
        database_url = f"sqlite:///{instance_path / 'lyhord.sqlite3'}"
    k = _int(env, "MIN_GROUP_SIZE", 5, minimum=3)
    k_text = _int(env, "MIN_GROUP_SIZE_TEXT", max(10, k), minimum=k)
    k_sensitive = _int(env, "MIN_GROUP_SIZE_SENSITIVE", max(10, k), minimum=k)
    locale = env.get(PREFIX + "DEFAULT_LOCALE", "sv")
    if locale not in {"sv", "en"}:
        raise ConfigError(f"{PREFIX}DEFAULT_LOCALE must be sv or en, got {locale!r}")
    return Settings(
        env=mode,
        database_url=database_url,
        secret_key=_secret_key(env, instance_path, production),
        base_url=env.get(PREFIX + "BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        default_locale=locale,
        min_group_size=k,
        min_group_size_text=k_text,
        min_group_size_sensitive=k_sensitive,
        session_cookie_secure=_bool(env, "SESSION_COOKIE_SECURE", production),
        log_level=env.get(PREFIX + "LOG_LEVEL", "INFO").upper(),
    )
