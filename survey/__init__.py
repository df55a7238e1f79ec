"""Lyhörd: anonymous work-environment and employee surveys.

``create_app`` wires settings, extensions, blueprints, error pages and CLI commands. It does
no I/O beyond reading settings: no queries and no migrations (those run as ``lyhord migrate``),
so many gunicorn workers can start at once.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import Engine
from werkzeug.exceptions import HTTPException

from survey.config import Settings, load_settings
from survey.db import db
from survey.extensions import babel, csrf, login_manager
from survey.i18n import LANGUAGES, select_locale

ROOT = Path(__file__).resolve().parent.parent


def create_app(
    settings: Settings | None = None, engine: Engine | None = None, **overrides: Any
) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    settings = settings or load_settings(instance_path=Path(app.instance_path))
    configure(app, settings)
    app.config.update(overrides)
    register_extensions(app, engine)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def configure(app: Flask, settings: Settings) -> None:
    app.config.update(
        SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        DATABASE_URL=settings.database_url,
        DEFAULT_LOCALE=settings.default_locale,
        BASE_URL=settings.base_url,
        BABEL_DEFAULT_LOCALE=settings.default_locale,
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        REMEMBER_COOKIE_SECURE=settings.session_cookie_secure,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session; a survey can take long
        # The signed cookie is written when the session changes, not on every request.
        SESSION_REFRESH_EACH_REQUEST=False,
        MAX_CONTENT_LENGTH=512 * 1024,
        MAX_FORM_MEMORY_SIZE=512 * 1024,
        TESTING=settings.env == "test",
    )
    logging.getLogger("survey").setLevel(settings.log_level)


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the serializer built once per app, not per request."""

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        cached = app.extensions.get("lyhord_session_serializer")
        if cached is None:
            cached = super().get_signing_serializer(app)
            app.extensions["lyhord_session_serializer"] = cached
        return cached


def register_extensions(app: Flask, engine: Engine | None) -> None:
    app.session_interface = _SessionInterface()
    from survey import http

    http.init_app(app)  # before csrf: it reads the raw form body first
    db.init_app(app, engine)
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    # No Flask-Login context processor: it loads the user for every page, and its session
    # protection then rewrites a respondent's session cookie on every request
    # (register_template_helpers passes ``current_user`` only to signed-in sessions).
    login_manager.init_app(app, add_context_processor=False)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"

    from survey.auth.users import load_user

    login_manager.user_loader(load_user)


def register_blueprints(app: Flask) -> None:
    from survey.admin import bp as admin_bp
    from survey.auth import bp as auth_bp
    from survey.respond import bp as respond_bp
    from survey.results import bp as results_bp

    app.register_blueprint(respond_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(results_bp)
    app.register_blueprint(admin_bp)


def register_errorhandlers(app: Flask) -> None:
    def render_error(error: HTTPException) -> tuple[str, int]:
        code = error.code or 500
        return render_template("error.html", code=code, error=error), code

    for code in (400, 403, 404, 405, 413, 500):
        app.register_error_handler(code, render_error)

    @app.errorhandler(CSRFError)
    def csrf_error(_error: CSRFError) -> tuple[str, int]:
        message = _(
            "Your session has expired or the form was sent from somewhere else. "
            "Nothing was saved. Go back, reload the page and try again."
        )
        return render_template("error.html", code=400, message=message), 400

    @app.errorhandler(UnicodeDecodeError)
    def bad_encoding(_error: UnicodeDecodeError) -> tuple[str, int]:
        message = _("The form contained characters that could not be read. Nothing was saved.")
        return render_template("error.html", code=400, message=message), 400


def register_template_helpers(app: Flask) -> None:
    from flask_babel import get_locale

    from survey.i18n import pick

    @app.context_processor
    def inject() -> dict[str, Any]:
        lang = str(get_locale() or app.config["DEFAULT_LOCALE"])
        return {
            # Staff only: a respondent's session never holds a user, and never loads one.
            "current_user": current_user if "_user_id" in session else None,
            "lang": lang,
            "languages": LANGUAGES,
            "t": lambda texts: pick(texts, lang),
            "lang_url": lang_url,
        }

    # POST-only endpoints re-render a GET page; its URL is where another language lives.
    get_equivalent = {"respond.submit": "respond.review", "respond.open_link": "respond.index"}

    def lang_url(code: str) -> str:
        """The current page in another language; never repeats a token from the URL."""
        endpoint = request.endpoint or "respond.index"
        if endpoint in get_equivalent:
            return url_for(get_equivalent[endpoint], lang=code)
        return url_for(endpoint, lang=code, **(request.view_args or {}))

    @app.after_request
    def security_headers(response: Any) -> Any:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'",
        )
        if request.path.startswith(("/s/", "/survey")):
            response.headers["Cache-Control"] = "no-store"
        return response


def register_commands(app: Flask) -> None:
    from survey.cli import register

    register(app)
