from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange


class ActionForm(FlaskForm):
    """A button that changes a round (open, close, publish): CSRF only."""


class IssueForm(FlaskForm):
    unit = SelectField(_l("Unit"), coerce=int, validators=[InputRequired()])
    count = IntegerField(
        _l("How many"),
        validators=[
            InputRequired(message=_l("Give a number between 1 and 500.")),
            NumberRange(min=1, max=500, message=_l("Give a number between 1 and 500.")),
        ],
    )
    kind = RadioField(
        _l("Kind"),
        choices=[
            SelectChoice("link", _l("Personal links")),
            SelectChoice("code", _l("Paper codes")),
        ],
        default="code",
        validators=[InputRequired()],
    )
