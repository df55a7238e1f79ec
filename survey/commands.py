"""``lyhord`` commands for HR's and the operator's work that has no screen yet."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.db import db, today
from survey.models import SurveyRound, Unit, UnitLineage
from survey.services import accounts, exports, publishing, rounds
from survey.services.errors import DomainError


def _round(session: Session, round_id: int) -> SurveyRound:
    survey_round = session.get(SurveyRound, round_id)
    if survey_round is None:
        raise click.BadParameter(f"no round with id {round_id}", param_hint="ROUND")
    return survey_round


def _unit(session: Session, code: str) -> Unit:
    unit = session.scalars(select(Unit).where(Unit.code == code)).one_or_none()
    if unit is None:
        raise click.BadParameter(f"no unit with code {code!r}")
    return unit


@click.command("export-results")
@click.argument("round_id", type=int, required=False)
@click.option("--all", "all_rounds", is_flag=True, help="Every published round in one file.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@with_appcontext
def export_results(round_id: int | None, all_rounds: bool, out: Path) -> None:
    """Write every published cell of ROUND (or --all) to a CSV file."""
    if (round_id is None) == (not all_rounds):
        raise click.UsageError("give a ROUND id or --all")
    with db.transaction() as session:
        ids = exports.published_round_ids(session) if all_rounds else [int(round_id or 0)]
        try:
            body = exports.results_csv(session, ids)
        except DomainError as error:
            raise click.ClickException(f"round {round_id} has no published results") from error
    out.write_text(body, encoding="utf-8")
    click.echo(f"Wrote {body.count(chr(10)) - 1} rows to {out}")


@click.command("export-kolada")
@click.argument("round_id", type=int)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@with_appcontext
def export_kolada(round_id: int, out: Path) -> None:
    """Write HME (total and sub-indices) for Kolada: organisation and each verksamhet."""
    with db.transaction() as session:
        try:
            body = exports.kolada_csv(session, round_id)
        except DomainError as error:
            raise click.ClickException(f"round {round_id} has no published results") from error
    out.write_text(body, encoding="utf-8")
    click.echo(f"Wrote {out}")


@click.command("publish")
@click.argument("round_id", type=int)
@with_appcontext
def publish(round_id: int) -> None:
    """Compute ROUND's results through the anonymity gate and publish them."""
    with db.transaction() as session:
        survey_round = _round(session, round_id)
        if survey_round.status == "open":
            rounds.close_round(session, survey_round)
        publication = publishing.publish_round(session, round_id, today(), by="lyhord publish")
        audit = publication.audit
    click.echo(f"Published round {round_id}: {audit}")


@click.command("close-round")
@click.argument("round_id", type=int)
@with_appcontext
def close_round(round_id: int) -> None:
    """Stop answers; delete e-mail addresses and unfinished drafts."""
    with db.transaction() as session:
        try:
            rounds.close_round(session, _round(session, round_id))
        except DomainError as error:
            raise click.ClickException(f"round {round_id} is not open") from error
    click.echo(f"Closed round {round_id}.")


@click.command("add-lineage")
@click.argument("predecessor")
@click.argument("successor")
@click.option("--kind", type=click.Choice(["rename", "merge", "split"]), required=True)
@click.option("--date", "effective_on", type=click.DateTime(["%Y-%m-%d"]), default=None)
@with_appcontext
def add_lineage(
    predecessor: str, successor: str, kind: str, effective_on: dt.datetime | None
) -> None:
    """Record that unit SUCCESSOR continues PREDECESSOR (codes), for comparisons over rounds."""
    with db.transaction() as session:
        before, after = _unit(session, predecessor), _unit(session, successor)
        if before.id == after.id:
            raise click.BadParameter("a unit cannot succeed itself")
        session.add(
            UnitLineage(
                predecessor_id=before.id,
                successor_id=after.id,
                kind=kind,
                effective_on=effective_on.date() if effective_on else today(),
            )
        )
    click.echo(f"{successor} now continues {predecessor} ({kind}).")


@click.command("import-units")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def import_units(csv_file: Path) -> None:
    """Create or update units from a CSV with columns code,name,parent_code[,verksamhet]."""
    with csv_file.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    missing = {"code", "name", "parent_code"} - set(rows[0] if rows else {})
    if missing:
        raise click.ClickException(f"missing columns: {', '.join(sorted(missing))}")
    with db.transaction() as session:
        units = {u.code: u for u in session.scalars(select(Unit))}
        for row in rows:
            unit = units.get(row["code"]) or Unit(code=row["code"], name=row["name"])
            unit.name = row["name"]
            unit.verksamhet = row.get("verksamhet") or None
            units[unit.code] = unit
            session.add(unit)
        session.flush()
        for row in rows:
            parent = row["parent_code"].strip()
            if parent and parent not in units:
                raise click.ClickException(f"unit {row['code']}: unknown parent {parent!r}")
            units[row["code"]].parent = units[parent] if parent else None
    click.echo(f"Imported {len(rows)} units.")


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["hr", "manager", "namnd", "auditor"]), required=True)
@click.option("--unit", "unit_codes", multiple=True, help="Unit code (managers), repeatable.")
@click.password_option()
@with_appcontext
def create_user(
    email: str, name: str, role: str, unit_codes: tuple[str, ...], password: str
) -> None:
    """Create a staff account (password hashed with argon2id)."""
    with db.transaction() as session:
        units = [_unit(session, code) for code in unit_codes]
        try:
            accounts.create_user(session, email, name, password, role, units)
        except DomainError as error:
            raise click.ClickException(f"cannot create user: {error}") from error
    click.echo(f"Created {role} {email}.")


def register(app: Flask) -> None:
    for command in (
        export_results,
        export_kolada,
        publish,
        close_round,
        add_lineage,
        import_units,
        create_user,
    ):
        app.cli.add_command(command)
