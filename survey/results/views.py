from __future__ import annotations

from flask import render_template

from survey.auth.users import roles_required
from survey.results import bp


@bp.get("/")
@roles_required("hr", "manager", "namnd", "auditor")
def index() -> str:
    return render_template("results/index.html", rounds=[])
