from __future__ import annotations

from flask import render_template

from survey.admin import bp
from survey.auth.users import roles_required


@bp.get("/")
@roles_required("hr")
def index() -> str:
    return render_template("admin/index.html", rounds=[])
