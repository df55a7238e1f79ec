"""Results for staff: only figures that came out of the anonymity gate.

URL rules of the area::

    /results/                                rounds the user may see
    /results/<round>/                        overview: every unit the user may see
    /results/<round>/unit/<unit>             one unit: items, indices, comparisons
"""

from flask import Blueprint

bp = Blueprint("results", __name__, url_prefix="/results")

from survey.results import views  # noqa: E402,F401
