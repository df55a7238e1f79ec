"""Locale selection and helpers for multilingual questionnaire texts."""

from __future__ import annotations

from collections.abc import Mapping

from flask import current_app, request, session

LANGUAGES = ("sv", "en")


def select_locale() -> str:
    """The user's explicit choice (``?lang=``, then the session), else the installation default."""
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        session["lang"] = chosen
        return chosen
    stored = session.get("lang")
    if stored in LANGUAGES:
        return str(stored)
    return str(current_app.config["DEFAULT_LOCALE"])


def pick(
    texts: Mapping[str, str] | tuple[tuple[str, str], ...] | None, lang: str, fallback: str = "sv"
) -> str:
    """The text in ``lang``, else in ``fallback``, else any; ``""`` for no texts."""
    if not texts:
        return ""
    if isinstance(texts, tuple):
        texts = dict(texts)
    if lang in texts:
        return texts[lang]
    if fallback in texts:
        return texts[fallback]
    return next(iter(texts.values()))
