"""The ``lyhord`` command: ``lyhord migrate``, ``lyhord demo``, ``lyhord export-results`` …

Each command runs in one transaction (``db.transaction()``), committed at the end.
"""

from __future__ import annotations

from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from survey.db import db, today


def _create_app() -> Flask:
    from survey import create_app

    return create_app()


main = FlaskGroup(
    create_app=_create_app,
    add_version_option=False,
    help="Lyhörd: anonymous work-environment and employee surveys.",
)


@click.command("migrate")
@with_appcontext
def migrate_command() -> None:
    """Create or upgrade the database schema to the latest version."""
    from survey.migrate import upgrade

    assert db.engine is not None
    upgrade(db.engine)
    click.echo("Database is up to date.")


def _thresholds() -> Any:
    from survey.services.rounds import Thresholds

    settings = current_app.config["SETTINGS"]
    return Thresholds(
        settings.min_group_size, settings.min_group_size_text, settings.min_group_size_sensitive
    )


def _print_demo(base_url: str, links: list[str], users: list[tuple[str, str, str]]) -> None:
    click.echo("")
    click.echo(f"Lyhörd demo: {base_url}/")
    click.echo("")
    click.echo("Staff sign-in (" + base_url + "/login):")
    for email, password, role in users:
        click.echo(f"  {role:<8} {email:<30} password: {password}")
    click.echo("")
    click.echo("Unused respondent links (each works once):")
    for token in links:
        click.echo(f"  {base_url}/s/{token}")
    click.echo("")


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Only create the data and print the links.")
@with_appcontext
def demo_command(host: str, port: int, no_serve: bool) -> None:
    """Migrate, create demo data (once), print logins and links, then serve the app."""
    from survey import demo
    from survey.migrate import upgrade

    assert db.engine is not None
    upgrade(db.engine)
    secret = current_app.config["SECRET_KEY"]
    base_url = current_app.config["BASE_URL"]
    if base_url == "http://127.0.0.1:5000" and (host, port) != ("127.0.0.1", 5000):
        base_url = f"http://{host}:{port}"
    with db.transaction() as session:
        if demo.is_demo(session):
            links = demo.fresh_links(session, secret, today(), demo.LINK_UNITS)
            users = demo.demo_users()
        else:
            result = demo.create_demo(session, secret, today(), _thresholds())
            links, users = result.links, result.users
    _print_demo(base_url, links, users)
    if not no_serve:
        from werkzeug.serving import run_simple

        current_app.config["BASE_URL"] = base_url
        # Flask refuses app.run() inside a CLI command; serve with Werkzeug directly.
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        import logging

        from survey.logs import RedactingFilter

        logging.getLogger("werkzeug").addFilter(RedactingFilter())
        click.echo("Serving the demo; stop with Ctrl+C.")
        run_simple(host, port, app, threaded=True, use_reloader=False)


def register(app: Flask) -> None:
    from survey import commands

    for command in (migrate_command, demo_command):
        app.cli.add_command(command)
    commands.register(app)
