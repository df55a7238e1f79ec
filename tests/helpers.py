"""Helpers for driving the respondent pages through the Flask test client."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

CSRF = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def csrf_token(html: str) -> str:
    match = CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1) or match.group(2)


def start(client: FlaskClient, token: str) -> TestResponse:
    """Open a personal link and follow the redirect to the welcome page."""
    return client.get(f"/s/{token}", follow_redirects=True)


def post_page(
    client: FlaskClient, number: int, data: dict[str, object], action: str = "next"
) -> TestResponse:
    page = client.get(f"/survey/page/{number}")
    form = {"csrf_token": csrf_token(page.text), "action": action, **data}
    return client.post(f"/survey/page/{number}", data=form)
