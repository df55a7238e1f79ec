"""Request hygiene shared by every blueprint."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from flask import Flask, g, request


def undecodable_fields() -> set[str]:
    """Names of urlencoded form fields whose value is not valid UTF-8.

    Werkzeug leaves such bytes as literal ``%FF`` text, which would be stored as if the
    respondent had typed it; the page shows a message next to the field instead.
    """
    return set(g.get("undecodable_fields", ()))


def _scan_form_body() -> None:
    if request.method != "POST" or request.mimetype != "application/x-www-form-urlencoded":
        return
    # Runs before CSRF protection parses the form; the body is cached for the parser.
    body = request.get_data(cache=True, parse_form_data=False)
    broken: set[str] = set()
    for pair in body.split(b"&"):
        name, _, value = pair.partition(b"=")
        try:
            unquote_to_bytes(value.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            broken.add(unquote_to_bytes(name.replace(b"+", b" ")).decode("utf-8", "replace"))
    g.undecodable_fields = broken


def init_app(app: Flask) -> None:
    """Register before the CSRF check, which parses the form."""
    app.before_request(_scan_form_body)
