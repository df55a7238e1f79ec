"""The respondent's pages: open a link or a code, answer page by page, review, submit.

URL rules of the area::

    /s/<token>             personal link: exchanged for a session, then redirected
    /kod                   paper code entry
    /survey/               welcome: who runs the survey, how anonymity is protected
    /survey/page/<n>       one section per page
    /survey/review         all answers, with links back to each page
    /survey/submit         POST: store the response
    /survey/saved          answers saved, come back later with the same link
    /survey/thanks         receipt
"""

from flask import Blueprint

bp = Blueprint("respond", __name__)

from survey.respond import views  # noqa: E402,F401
