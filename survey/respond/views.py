"""Respondent views: parse the form, call one service, render or redirect."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import get_locale, get_translations
from flask_babel import gettext as _
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from werkzeug.wrappers import Response as WerkzeugResponse

from survey.db import db, today
from survey.http import undecodable_fields
from survey.respond import bp
from survey.respond.forms import (
    CodeForm,
    Prefilled,
    SubmitForm,
    message,
    page_form_class,
    stored_answers,
)
from survey.services import responses
from survey.services.answers import UNREADABLE_TEXT
from survey.services.errors import Invalid
from survey.services.responses import (
    AlreadyAnswered,
    LinkError,
    NotOpenYet,
    Respondent,
    RoundClosed,
    State,
    UnknownLink,
)
from survey.services.specs import QuestionSpec, SectionSpec
from survey.services.tokens import normalise_code

SESSION_KEY = "respondent"
CONTROL_FIELDS = {"csrf_token", "action"}


class NoSession(LinkError):
    """Survey pages were opened without first opening a link (or after submitting)."""


@bp.errorhandler(LinkError)
def link_problem(error: LinkError) -> tuple[str, int]:
    """A friendly page for every way a link can be unusable; nothing is stored."""
    pages: dict[type[LinkError], tuple[str, int]] = {
        UnknownLink: ("respond/link_unknown.html", 404),
        AlreadyAnswered: ("respond/link_used.html", 409),
        NotOpenYet: ("respond/link_not_open.html", 403),
        RoundClosed: ("respond/link_closed.html", 410),
        NoSession: ("respond/no_session.html", 403),
    }
    template, status = pages.get(type(error), ("respond/link_unknown.html", 404))
    if isinstance(error, AlreadyAnswered | RoundClosed):
        session.pop(SESSION_KEY, None)
    opens_on = error.opens_on if isinstance(error, NotOpenYet) else None
    return render_template(template, opens_on=opens_on), status


@bp.context_processor
def _translations_once() -> dict[str, Any]:
    """A ``gettext`` for respondent pages that looks the request's translations up once per
    page instead of once per text (a page has 10 to 16 texts, and Flask-Babel's lookup costs
    more than the translation). Jinja's ``_`` finds ``gettext`` in the template context
    before the environment's; this one does exactly what Flask-Babel's newstyle one does."""
    ugettext = get_translations().ugettext

    @pass_context
    def gettext(context: Context, string: str, **variables: Any) -> str:
        text = ugettext(string)
        if context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704  (catalogue text, as Jinja's own gettext does)
        return text % variables

    return {"gettext": gettext}


def _respondent() -> Respondent:
    data = session.get(SESSION_KEY)
    if not isinstance(data, dict) or "i" not in data or "k" not in data:
        raise NoSession()
    return Respondent(int(data["i"]), str(data["k"]))


def _state(read_only: bool = False) -> tuple[Respondent, State]:
    respondent = _respondent()
    session = db.read_only() if read_only else db.session
    return respondent, responses.load_state(session, respondent, today())


def _begin(token: str) -> WerkzeugResponse:
    secret_key = current_app.config["SECRET_KEY"]
    respondent = responses.open_link(db.read_only(), secret_key, token, today())
    lang = session.get("lang")
    session.clear()  # a fresh session: nothing from earlier visits travels with the answers
    if lang:
        session["lang"] = lang
    session[SESSION_KEY] = {"i": respondent.invitation_id, "k": respondent.key}
    session.permanent = True
    return redirect(url_for("respond.welcome"), code=303)


@bp.get("/s/<token>")
def open_link(token: str) -> WerkzeugResponse:
    return _begin(token)


@bp.route("/kod", methods=["GET", "POST"])
def enter_code() -> Any:
    form = CodeForm()
    if form.validate_on_submit():
        try:
            return _begin(normalise_code(form.code.data or ""))
        except UnknownLink:
            form.code.errors = [_("We did not find that code. Check it and try again.")]
        return render_template("respond/code.html", form=form), 422
    status = 422 if request.method == "POST" else 200
    return render_template("respond/code.html", form=form), status


@bp.get("/survey/")
def welcome() -> str:
    state = _state(read_only=True)[1]
    # The same for every respondent of the round who is as far: no form, nothing personal.
    started = (bool(state.draft.answers), state.draft.page)
    return _render_shared(("welcome", state.round, *started), "respond/welcome.html", state=state)


def _target(action: str, number: int, count: int) -> str:
    if action == "back":
        return url_for("respond.page", number=max(1, number - 1))
    if action == "save":
        return url_for("respond.saved")
    if action.startswith("lang:"):
        return url_for("respond.page", number=number, lang=action.removeprefix("lang:"))
    if number >= count:
        return url_for("respond.review")
    return url_for("respond.page", number=number + 1)


# A question's HTML depends only on the question (immutable), the language, its number and
# the answer shown, so the respondents of a page see a few variants of it, and of the whole
# list: both are rendered once per process. A question showing an error or typed free text
# is rendered afresh every time (free text is never kept).
_RENDERED: dict[tuple[Any, ...], Markup] = {}
_RENDERED_LIMIT = 20_000


def _remember(key: tuple[Any, ...], html: Markup) -> Markup:
    if len(_RENDERED) >= _RENDERED_LIMIT:
        _RENDERED.clear()
    _RENDERED[key] = html
    return html


def _render_shared(key: tuple[Any, ...], template: str, **context: Any) -> str:
    """A whole page that is the same for every respondent with the same ``key`` (it holds no
    form and nothing of the respondent), rendered once per process and language. Staff who
    are signed in see their own menu, so their pages are always rendered."""
    if "_user_id" in session:
        return render_template(template, **context)
    full = ("shared", template, str(get_locale()), request.script_root, *key)
    html = _RENDERED.get(full)
    if html is None:
        html = _remember(full, Markup(render_template(template, **context)))  # noqa: S704
    return html


def _shown(q: QuestionSpec, field: Any) -> tuple[bool, Any]:
    """Whether the question's HTML may be cached, and the answer it shows (hashable)."""
    if field.errors or (q.kind == "text" and field.data):
        return False, None
    return True, tuple(field.data) if isinstance(field.data, list) else field.data


def render_questions(macro: Any, section: SectionSpec, form: Any, offset: int, lang: str) -> Markup:
    """The page's questions, each ``macro(q, field, number)`` from ``respond/_macros.html``
    (an autoescaping template, so its result is :class:`Markup`), laid out as page.html's
    loop did; cached where that is safe."""
    fields = [form[q.key] for q in section.questions]
    shown = [_shown(q, field) for q, field in zip(section.questions, fields, strict=True)]
    page_key = None
    if all(cacheable for cacheable, _ in shown):
        page_key = ("page", section, lang, offset, tuple(answer for _, answer in shown))
        cached = _RENDERED.get(page_key)
        if cached is not None:
            return cached
    parts = []
    for number, (q, field, (cacheable, answer)) in enumerate(
        zip(section.questions, fields, shown, strict=True), start=offset + 1
    ):
        key = ("question", q, lang, number, answer)
        html: Markup | None = _RENDERED.get(key) if cacheable else None
        if html is None:
            html = macro(q, field, number)
            if cacheable:
                _remember(key, html)
        parts.append(Markup("\n    ") + html + Markup("\n  "))
    block = Markup("").join(parts)
    return block if page_key is None else _remember(page_key, block)


def _render_page(
    state: State, section: SectionSpec, form: Any, number: int, status: int = 200
) -> tuple[str, int]:
    return render_template(
        "respond/page.html",
        state=state,
        section=section,
        form=form,
        number=number,
        count=state.spec.section_count(),
        render_questions=render_questions,
    ), status


@bp.route("/survey/page/<int:number>", methods=["GET", "POST"])
def page(number: int) -> Any:
    respondent, state = _state(read_only=request.method == "GET")
    if not 1 <= number <= state.spec.section_count():
        abort(404)
    section = state.spec.sections[number - 1]
    if request.method == "GET":
        return _render_page(state, section, Prefilled(section, state.draft.answers), number)

    action = request.form.get("action", "next")
    if set(request.form) - CONTROL_FIELDS - {q.key for q in section.questions}:
        return render_template("respond/bad_form.html"), 400
    form = page_form_class(section, strict=action in ("next", "submit"))()
    valid = form.validate()
    for name in undecodable_fields() & set(form._fields):
        form[name].errors = [*form[name].errors, message(UNREADABLE_TEXT)]
        valid = False
    if not valid:
        return _render_page(state, section, form, number, status=422)
    answers = stored_answers(form, section.questions)
    target_page = number - 1 if action == "back" else number + 1
    if action == "submit":  # the draft is deleted on submit: no need to save it first
        draft = responses.merge_page(state, number, answers, target_page)
        return _submit(respondent, State(state.round, state.spec, draft))
    responses.save_page(db.session, respondent, state, number, answers, target_page)
    return redirect(_target(action, number, state.spec.section_count()), code=303)


@bp.get("/survey/saved")
def saved() -> str:
    state = _state(read_only=True)[1]
    return render_template("respond/saved.html", state=state)


@bp.get("/survey/review")
def review() -> str:
    state = _state(read_only=True)[1]
    return render_template("respond/review.html", state=state, errors={})


@bp.post("/survey/submit")
def submit() -> Any:
    respondent, state = _state()
    if not SubmitForm().validate():
        abort(400)
    return _submit(respondent, state)


def _submit(respondent: Respondent, state: State) -> Any:
    try:
        responses.submit(db.session, respondent, state, today())
    except Invalid as invalid:
        errors = {key: message(code) for key, code in invalid.errors.items()}
        return render_template("respond/review.html", state=state, errors=errors), 422
    session.pop(SESSION_KEY, None)
    session["receipt"] = {"title": state.round.title, "date": today().isoformat()}
    return redirect(url_for("respond.thanks"), code=303)


@bp.get("/survey/thanks")
def thanks() -> str:
    receipt = session.get("receipt")
    key = ("thanks", *(receipt or {}).items()) if isinstance(receipt, dict) else ("thanks",)
    return _render_shared(key, "respond/thanks.html", receipt=receipt)


@bp.get("/")
def index() -> str:
    return render_template("respond/index.html")


@bp.get("/tillganglighet")
def accessibility() -> str:
    return render_template("respond/accessibility.html")
