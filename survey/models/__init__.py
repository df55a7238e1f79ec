"""SQLAlchemy models, one module per aggregate. Importing this package registers them all."""

from survey.models.org import Unit, UnitLineage
from survey.models.publication import (
    Publication,
    PublishedDriver,
    PublishedGroup,
    SuppressedCell,
)
from survey.models.questionnaire import Index, IndexItem, Question, Questionnaire, Section
from survey.models.response import (
    DONT_KNOW,
    Answer,
    FreeTextAnswer,
    Invitation,
    InvitationContact,
    Response,
)
from survey.models.round import RoundUnit, SurveyRound, ThresholdChange
from survey.models.user import User, UserUnit

__all__ = [
    "DONT_KNOW",
    "Answer",
    "FreeTextAnswer",
    "Index",
    "IndexItem",
    "Invitation",
    "InvitationContact",
    "Publication",
    "PublishedDriver",
    "PublishedGroup",
    "Question",
    "Questionnaire",
    "Response",
    "RoundUnit",
    "Section",
    "SuppressedCell",
    "SurveyRound",
    "ThresholdChange",
    "Unit",
    "UnitLineage",
    "User",
    "UserUnit",
]
