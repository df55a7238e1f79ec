"""HR administration.

URL rules of the area::

    /admin/                          rounds with response rates
    /admin/rounds/<round>            one round: units, response rates, close, publish
"""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from survey.admin import views  # noqa: E402,F401
