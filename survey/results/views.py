"""Results pages. Every figure comes from the current publication, which passed the gate."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, render_template
from flask_login import current_user

from survey.auth.users import roles_required
from survey.db import db
from survey.models import SurveyRound
from survey.results import bp
from survey.results import presenters as present
from survey.services import results
from survey.services.errors import NotFound

STAFF = ("hr", "manager", "namnd", "auditor")


def _publication(round_id: int) -> tuple[SurveyRound, Any]:
    survey_round = db.session.get(SurveyRound, round_id)
    if survey_round is None:
        abort(404)
    try:
        publication = results.current_publication(db.session, round_id)
    except NotFound:
        abort(404)
    return survey_round, publication


@bp.get("/")
@roles_required(*STAFF)
def index() -> str:
    rounds = results.published_rounds(db.session)
    return render_template("results/index.html", rounds=rounds)


@bp.get("/<int:round_id>/")
@roles_required(*STAFF)
def overview(round_id: int) -> str:
    survey_round, publication = _publication(round_id)
    page = present.overview(db.session, survey_round, publication, current_user)
    return render_template("results/overview.html", round=survey_round, page=page)


@bp.get("/<int:round_id>/unit/<int:unit_id>")
@roles_required(*STAFF)
def unit(round_id: int, unit_id: int) -> str:
    survey_round, publication = _publication(round_id)
    visible = results.visible_unit_ids(db.session, current_user)
    if visible is not None and unit_id not in visible:
        abort(403)
    try:
        page = present.unit_report(db.session, survey_round, publication, unit_id, visible)
    except NotFound:
        abort(404)
    return render_template("results/unit.html", round=survey_round, page=page)


@bp.get("/<int:round_id>/drivers")
@roles_required(*STAFF)
def drivers(round_id: int) -> str:
    survey_round, publication = _publication(round_id)
    page = present.drivers(db.session, survey_round, publication)
    return render_template("results/drivers.html", round=survey_round, page=page)


@bp.get("/<int:round_id>/suppression")
@roles_required(*STAFF)
def suppression(round_id: int) -> str:
    survey_round, publication = _publication(round_id)
    page = present.suppression(db.session, survey_round, publication)
    return render_template("results/suppression.html", round=survey_round, page=page)


@bp.get("/<int:round_id>/export.csv")
@roles_required("hr", "namnd", "auditor")
def export_csv(round_id: int) -> Response:
    from survey.services.exports import results_csv

    survey_round = _publication(round_id)[0]
    body = results_csv(db.session, [survey_round.id])
    filename = f"lyhord-{survey_round.period_label}-{survey_round.id}.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
