"""A live Lyhörd server with the demo data, and one headless Chromium for the whole session.

The server runs on its own SQLite file in a temporary folder (never the database in
``LYHORD_TEST_DATABASE_URL``: the browser cannot join a test's rolled-back transaction),
migrated and filled exactly as ``lyhord demo --no-serve`` does, and served by werkzeug from a
background thread. Each test gets a fresh browser context (its own cookies), so tests do not
share respondent sessions.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from sqlalchemy import Engine
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from survey import create_app
from survey.config import load_settings
from survey.db import db, make_engine, today
from survey.demo import LINK_UNITS, create_demo, fresh_links
from survey.migrate import upgrade
from survey.services.rounds import Thresholds
from survey.services.specs import forget_cached_specs

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT_MS = 10_000
SECRET = "live-server-secret-key-that-is-long-enough-0123456789"

ContextFactory = Callable[..., BrowserContext]


class QuietHandler(WSGIRequestHandler):
    """Keeps the access log out of failure reports; errors are still logged."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@dataclass
class LiveServer:
    """The running app: its base URL, its engine and a pool of unused respondent links."""

    url: str
    database_url: str
    app: Flask
    engine: Engine
    users: dict[str, tuple[str, str]]  # role -> (email, password)
    errors: list[str] = field(default_factory=list)  # exceptions raised while serving
    _tokens: list[str] = field(default_factory=list)

    def link(self) -> str:
        """The path of a respondent link nobody has opened yet (each test takes its own)."""
        if not self._tokens:
            with self.app.app_context(), db.transaction() as session:
                self._tokens += fresh_links(session, SECRET, today(), LINK_UNITS)
        return f"/s/{self._tokens.pop(0)}"


def recording_errors(app: Flask, errors: list[str]) -> WSGIApplication:
    """The app, noting every exception it raises (the browser only sees a 500 page)."""

    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            return app(environ, start_response)
        except Exception:
            path = environ.get("PATH_INFO", "")
            errors.append(f"{environ['REQUEST_METHOD']} {path}\n{traceback.format_exc()}")
            raise

    return wsgi


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{folder / 'live.sqlite3'}"
    settings = load_settings(
        {
            "LYHORD_ENV": "test",
            "LYHORD_SECRET_KEY": SECRET,
            "LYHORD_DATABASE_URL": url,
        },
        instance_path=folder,
    )
    engine = make_engine(url)
    upgrade(engine)
    forget_cached_specs()
    app = create_app(settings, engine=engine)
    with app.app_context(), db.transaction() as session:  # as `lyhord demo --no-serve` does
        thresholds = Thresholds(
            settings.min_group_size, settings.min_group_size_text, settings.min_group_size_sensitive
        )
        result = create_demo(session, SECRET, today(), thresholds)
    errors: list[str] = []
    server: BaseWSGIServer = make_server(
        "127.0.0.1", 0, recording_errors(app, errors), threaded=True, request_handler=QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(
            url=f"http://127.0.0.1:{server.server_port}",
            database_url=url,
            app=app,
            engine=engine,
            users={role: (email, password) for email, password, role in result.users},
            errors=errors,
            _tokens=list(result.links),
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        engine.dispose()
        forget_cached_specs()


@pytest.fixture(autouse=True)
def _serve_the_live_database(live_server: LiveServer) -> Iterator[None]:
    """``db`` is one object per process: other tests may have bound it to their own
    connection (and cached their questionnaire snapshots) since the server started.
    After the test, any exception the server raised fails it."""
    db.bind(live_server.engine)
    forget_cached_specs()
    live_server.errors.clear()
    yield
    assert not live_server.errors, "the server failed:\n" + "\n".join(live_server.errors)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests drive Debian's Chromium and never "
            "download one. Install it with `make browser` (apt-get install chromium).",
            pytrace=False,
        )
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def new_context(browser: Browser, live_server: LiveServer) -> Iterator[ContextFactory]:
    """Make extra browser contexts (``new_context(java_script_enabled=False)``); all are
    closed after the test."""
    made: list[BrowserContext] = []

    def make(**options: Any) -> BrowserContext:
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(TIMEOUT_MS)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


@pytest.fixture
def page(new_context: ContextFactory) -> Page:
    return new_context().new_page()
