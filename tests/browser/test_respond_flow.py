"""The respondent's whole journey in Chromium: by mouse, on a phone, by keyboard, without
JavaScript and in English."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Select, select

from survey.db import make_engine
from survey.models import Answer, FreeTextAnswer, Invitation, Response
from survey.services.tokens import token_hash
from tests.browser.conftest import SECRET, ContextFactory, LiveServer
from tests.browser.helpers import (
    PAGE_URL,
    answer_every_question,
    has_required_question,
    press_next_unanswered,
    start_survey,
    submit_from_review,
    walk_survey,
)

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}


def query(live_server: LiveServer, statement: Select[Any]) -> list[Any]:
    """Read through an engine of our own on the same file, as another process would."""
    engine = make_engine(live_server.database_url)
    try:
        with engine.connect() as conn:
            return list(conn.scalars(statement))
    finally:
        engine.dispose()


def response_ids(live_server: LiveServer) -> set[uuid.UUID]:
    return set(query(live_server, select(Response.id)))


def test_a_respondent_answers_every_page_and_gets_a_receipt(
    page: Page, live_server: LiveServer
) -> None:
    link = live_server.link()
    before = response_ids(live_server)

    page.goto(link)
    expect(page).to_have_url(re.compile(r"/survey/$"))  # the token is gone from the address
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("Medarbetar- och"))
    anonymity = page.get_by_role("region", name="Hur din anonymitet skyddas")
    expect(anonymity).to_contain_text("minst 5")
    page.get_by_role("link", name="Börja svara").click()

    comment = f"Bra kollegor, men för många ärenden ({uuid.uuid4().hex[:8]})"
    given = walk_survey(page, comment=comment)
    review = page.locator("main")
    expect(review.locator(".review-row")).to_have_count(len(given))  # one answer per question
    expect(review.get_by_text("Inte besvarad")).to_have_count(0)
    chosen = [g for g in given if g.kind in ("radio", "checkbox")]
    typed = [g.value for g in given if g.kind == "text"]
    assert chosen, "no choice questions were found"
    assert typed, "no free-text questions were found"
    for text in typed:
        expect(review).to_contain_text(text)
    submit_from_review(page)
    expect(page.get_by_role("status")).to_contain_text(dt.date.today().isoformat())

    new = response_ids(live_server) - before
    assert len(new) == 1, f"{len(new)} new responses"
    stored = query(live_server, select(Answer.value).where(Answer.response_id == new.pop()))
    assert sorted(stored) == sorted(int(g.value) for g in chosen)
    comments = query(
        live_server, select(FreeTextAnswer.text).where(FreeTextAnswer.text.contains(comment))
    )
    assert sorted(comments) == sorted(typed)
    digest = token_hash(SECRET, link.removeprefix("/s/"))
    used = query(live_server, select(Invitation.used_on).where(Invitation.token_hash == digest))
    assert used == [dt.date.today()]

    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Du har redan svarat")


def test_the_survey_works_on_a_360_px_phone_screen(
    new_context: ContextFactory, live_server: LiveServer
) -> None:
    page = new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True).new_page()

    def fits(page: Page, primary_button: bool = True) -> None:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{page.url} scrolls sideways: {width} px wide"
        if not primary_button:
            return
        primary = page.locator("main .primary").first
        expect(primary).to_be_visible()
        primary.scroll_into_view_if_needed()
        expect(primary).to_be_in_viewport()
        box = primary.bounding_box()
        assert box is not None
        assert box["x"] >= 0, f"{page.url}: {box}"
        assert box["x"] + box["width"] <= PHONE["width"], f"{page.url}: {box}"

    page.goto("/")
    fits(page, primary_button=False)  # the landing page has links, no button
    for path in ("/kod", "/login"):
        page.goto(path)
        fits(page)
    link = live_server.link()
    page.goto(link)
    fits(page)  # welcome
    page.get_by_role("link", name="Börja svara").click()
    errors_shown: list[int] = []

    def question_page(page: Page, number: int) -> None:  # every page, as walk_survey asserts
        fits(page)
        if not errors_shown and has_required_question(page):
            press_next_unanswered(page)
            fits(page)  # the error summary and messages fit too
            errors_shown.append(number)

    walk_survey(page, on_page=question_page)
    fits(page)  # review
    submit_from_review(page)
    fits(page, primary_button=False)  # the receipt
    assert errors_shown, "no page with a required question was found"


def _focused(page: Page, selector: str) -> bool:
    return bool(page.evaluate("s => document.activeElement?.matches(s) ?? false", selector))


def tab_to(page: Page, selector: str, limit: int = 40) -> None:
    """Press Tab until the focused element matches ``selector``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if _focused(page, selector):
            return
    raise AssertionError(f"Tab never reached {selector} on {page.url}")


def assert_focus_visible(page: Page) -> None:
    style = page.evaluate(
        """() => {
            const el = document.activeElement, s = getComputedStyle(el);
            return {tag: el.outerHTML.slice(0, 80), style: s.outlineStyle, width: s.outlineWidth};
        }"""
    )
    assert style["style"] != "none", f"no focus outline: {style}"
    assert style["width"] != "0px", f"no focus outline: {style}"


def answer_radio_groups_by_keyboard(page: Page, presses: list[int]) -> list[tuple[str, str]]:
    """Tab into each radio group in turn, Space to choose the first option, then press the
    arrow key ``presses[i]`` times. Returns (name, value) of the chosen radios, in order."""
    names: list[str] = page.eval_on_selector_all(
        "#page-form fieldset",
        "sets => sets.map(f => f.querySelector('input[type=radio]').name)",
    )
    assert len(names) == len(presses), f"{len(names)} groups on {page.url}"
    chosen: list[tuple[str, str]] = []
    for name, arrows in zip(names, presses, strict=True):
        tab_to(page, f"input[type=radio][name='{name}']")
        assert_focus_visible(page)
        page.keyboard.press("Space")
        for _ in range(arrows):
            page.keyboard.press("ArrowDown")
        value = page.evaluate("document.activeElement.value")
        assert page.evaluate("document.activeElement.checked"), f"{name} is not checked"
        assert_focus_visible(page)
        chosen.append((name, value))
    return chosen


def test_a_page_can_be_answered_with_the_keyboard_alone(
    page: Page, live_server: LiveServer
) -> None:
    page.goto(live_server.link())
    page.keyboard.press("Tab")
    assert _focused(page, "a.skip-link"), "the first Tab should reach the skip link"
    expect(page.locator("a.skip-link")).to_be_in_viewport()
    assert_focus_visible(page)
    tab_to(page, "a.button.primary")  # "Börja svara"
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    expect(page).to_have_url(PAGE_URL)

    first = answer_radio_groups_by_keyboard(page, [2, 1, 0, 3])  # four background questions
    tab_to(page, "button[value=next]")
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/survey/page/2$"))
    second = answer_radio_groups_by_keyboard(page, [3, 1, 4])  # three HME questions
    tab_to(page, "button[value=next]")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/survey/page/3$"))

    assert [value for _name, value in first] == ["3", "2", "1", "4"]
    assert [value for _name, value in second] == ["4", "2", "5"]
    page.goto("/survey/review")
    answers = page.locator(".review-row dd").all_inner_texts()
    assert answers[:4] == [
        "50 år eller äldre",
        "Man",
        "Socialsekreterare eller handläggare",
        "6–10 år",
    ]
    assert [a.split(" ")[0] for a in answers[4:7]] == ["4", "2", "5"]
    assert all(a.strip() == "Inte besvarad" for a in answers[7:])


def test_the_whole_survey_works_without_javascript(
    new_context: ContextFactory, live_server: LiveServer
) -> None:
    context = new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_content("<title>off</title><script>document.title = 'on'</script>")
    assert page.title() == "off", "JavaScript is still running in this context"

    before = response_ids(live_server)
    link = live_server.link()
    start_survey(page, link)
    walk_survey(page)
    submit_from_review(page)
    assert len(response_ids(live_server) - before) == 1
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Du har redan svarat")


def test_swedish_by_default_and_english_keeps_the_answers(
    page: Page, live_server: LiveServer
) -> None:
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    start_survey(page, live_server.link())
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.get_by_role("heading", level=1)).to_have_text("Om dig")
    given = answer_every_question(page)

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("About you")
    expect(page.get_by_role("button", name="Next", exact=True)).to_be_visible()
    for answer in given:
        expect(page.locator(f"input[name='{answer.key}'][value='{answer.value}']")).to_be_checked()
    expect(page.locator("#progress-label")).to_have_text(re.compile(r"^Page 1 of \d+$"))

    page.get_by_role("button", name="Svenska").click()
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.get_by_role("heading", level=1)).to_have_text("Om dig")
    for answer in given:
        expect(page.locator(f"input[name='{answer.key}'][value='{answer.value}']")).to_be_checked()
