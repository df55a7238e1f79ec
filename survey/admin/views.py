"""HR administration: rounds, their response rates (through the gate), open, close, publish."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from survey.admin import bp
from survey.admin.forms import ActionForm, IssueForm
from survey.auth.users import roles_required
from survey.db import db, today
from survey.models import SurveyRound, Unit
from survey.services import progress, publishing, rounds
from survey.services.errors import Conflict


def _round(round_id: int) -> SurveyRound:
    survey_round = db.session.get(SurveyRound, round_id)
    if survey_round is None:
        abort(404)
    return survey_round


def _unit_choices(survey_round: SurveyRound) -> list[SelectChoice]:
    return [SelectChoice(ru.unit_id, ru.unit.name) for ru in survey_round.units]


@bp.get("/")
@roles_required("hr")
def index() -> str:
    all_rounds = db.session.scalars(select(SurveyRound).order_by(SurveyRound.opens_on.desc())).all()
    return render_template("admin/index.html", rounds=all_rounds)


@bp.get("/rounds/<int:round_id>")
@roles_required("hr")
def round_detail(round_id: int) -> str:
    survey_round = _round(round_id)
    rows = progress.progress(db.session, survey_round, today())
    issue = IssueForm()
    issue.unit.choices = _unit_choices(survey_round)
    return render_template(
        "admin/round.html", round=survey_round, rows=rows, form=ActionForm(), issue=issue
    )


def _act(round_id: int, action: str) -> Response:
    survey_round = _round(round_id)
    if not ActionForm().validate():
        abort(400)
    try:
        if action == "open":
            rounds.open_round(db.session, survey_round)
            flash(_("The round is open."))
        elif action == "close":
            rounds.close_round(db.session, survey_round)
            flash(_("The round is closed. E-mail addresses and unfinished answers were deleted."))
        else:
            publishing.publish_round(db.session, round_id, today(), by=current_user.email)
            flash(_("The results are published."))
    except Conflict:
        flash(_("That cannot be done in the round's current state."))
    return redirect(url_for("admin.round_detail", round_id=round_id), code=303)


@bp.post("/rounds/<int:round_id>/open")
@roles_required("hr")
def open_round(round_id: int) -> Response:
    return _act(round_id, "open")


@bp.post("/rounds/<int:round_id>/close")
@roles_required("hr")
def close_round(round_id: int) -> Response:
    return _act(round_id, "close")


@bp.post("/rounds/<int:round_id>/publish")
@roles_required("hr")
def publish(round_id: int) -> Response:
    return _act(round_id, "publish")


@bp.post("/rounds/<int:round_id>/invitations")
@roles_required("hr")
def issue(round_id: int) -> Any:
    survey_round = _round(round_id)
    form = IssueForm()
    form.unit.choices = _unit_choices(survey_round)
    if not form.validate():
        rows = progress.progress(db.session, survey_round, today())
        return render_template(
            "admin/round.html", round=survey_round, rows=rows, form=ActionForm(), issue=form
        ), 422
    unit = db.session.get_one(Unit, form.unit.data)
    try:
        made = rounds.issue_invitations(
            db.session,
            survey_round,
            unit,
            form.count.data or 0,
            current_app.config["SECRET_KEY"],
            today(),
            kind=form.kind.data or "code",
        )
    except Conflict:
        flash(_("Links can only be made while the round is a draft or open."))
        return redirect(url_for("admin.round_detail", round_id=round_id), code=303)
    base = current_app.config["BASE_URL"]
    return render_template(
        "admin/slips.html",
        round=survey_round,
        unit=unit,
        kind=form.kind.data,
        items=[f"{base}/s/{t}" if form.kind.data == "link" else t for t in made],
        code_url=f"{base}/kod",
    )
