"""axe-core (WCAG 2.1 A and AA, plus best practices) on every page a respondent or a staff
member sees, with zero violations allowed.

To check another page, add one line to ``PUBLIC_PAGES`` or ``STAFF_PAGES`` (or
``FORM_ERRORS`` for a form's error state). Pages that need a respondent session are
checked along the way in ``test_every_respondent_page``.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ContextFactory, LiveServer
from tests.browser.helpers import (
    AxeAudit,
    has_required_question,
    press_next_unanswered,
    start_survey,
    submit_from_review,
    walk_survey,
)

pytestmark = pytest.mark.browser

# Pages anyone can open without a link, a session or an account.
PUBLIC_PAGES = [
    "/",
    "/?lang=en",
    "/kod",
    "/tillganglighet",
    "/login",
    "/s/den-har-lanken-finns-inte",  # "the link does not work"
    "/survey/",  # no respondent session: "open your survey link"
    "/sidan-finns-inte",  # the 404 page
]

# Staff pages, checked signed in as the demo user with the role given.
STAFF_PAGES = [
    ("namnd", "/results/"),
]

# Forms sent with these fields (by label) filled in and the rest empty, to check the page
# with its validation errors shown.
FORM_ERRORS = [
    ("/kod", {}),
    ("/kod", {"Kod": "ABCD-EFGH-JKLM"}),
    ("/login", {}),
    ("/login", {"E-postadress": "namnd@demo.lyhord.se", "Lösenord": "inte-rätt-lösenord"}),
]


def check(page: Page, label: str) -> None:
    audit = AxeAudit()
    audit.check(page, label)
    audit.assert_clean()


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_page(page: Page, path: str) -> None:
    response = page.goto(path)
    assert response is not None
    assert response.status < 500, f"{path}: {response.status}"
    check(page, path)


def sign_in(page: Page, live_server: LiveServer, role: str) -> None:
    email, password = live_server.users[role]
    page.goto("/login")
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill(password)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("button", name="Logga ut")).to_be_visible()


@pytest.mark.parametrize(("role", "path"), STAFF_PAGES)
def test_staff_page(page: Page, live_server: LiveServer, role: str, path: str) -> None:
    sign_in(page, live_server, role)
    response = page.goto(path)
    assert response is not None
    assert response.status == 200, f"{path} as {role}: {response.status}"
    check(page, f"{path} as {role}")


@pytest.mark.parametrize(
    ("path", "fields"), FORM_ERRORS, ids=[f"{p} {'+'.join(f) or 'empty'}" for p, f in FORM_ERRORS]
)
def test_form_with_errors(page: Page, path: str, fields: dict[str, str]) -> None:
    page.goto(path)
    for label, value in fields.items():
        page.get_by_label(label, exact=True).fill(value)
    page.locator("main form button.primary").click()
    expect(page.locator("main .error").first).to_be_visible()
    check(page, f"{path} with errors after sending {sorted(fields)}")


def test_every_respondent_page(
    page: Page, new_context: ContextFactory, live_server: LiveServer
) -> None:
    """Welcome, every question page (and one with errors), review, receipt, used link; then,
    with a second link, the review with errors, a page in English and the 'saved' page."""
    audit = AxeAudit()
    link = live_server.link()
    page.goto(link)
    audit.check(page, "welcome")
    start_survey(page, link)
    with_errors: list[int] = []

    def question_page(page: Page, number: int) -> None:
        audit.check(page, f"question page {number}")
        if not with_errors and has_required_question(page):
            press_next_unanswered(page)
            audit.check(page, f"question page {number} with errors")
            with_errors.append(number)

    walk_survey(page, on_page=question_page)
    audit.check(page, "review")
    submit_from_review(page)
    audit.check(page, "receipt")
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Du har redan svarat")
    audit.check(page, "already answered")

    other = new_context().new_page()
    start_survey(other, live_server.link())
    other.goto("/survey/review")
    other.get_by_role("button", name="Skicka in mina svar").click()
    expect(other.locator(".error-summary")).to_be_visible()
    audit.check(other, "review with errors")
    other.goto("/survey/page/1?lang=en")
    expect(other.locator("html")).to_have_attribute("lang", "en")
    audit.check(other, "question page 1 in English")
    other.get_by_role("button", name="Save and continue later").click()
    expect(other.get_by_role("heading", level=1)).to_have_text("Your answers are saved")
    audit.check(other, "saved, in English")

    assert with_errors, "no question page with a required question was found"
    audit.assert_clean()


def test_the_axe_check_can_fail(page: Page) -> None:
    """The audit is not vacuous: a page with an unlabelled image and field is reported."""
    page.set_content('<html><body><main><img src="x.png"><input type="text"></main></body>')
    audit = AxeAudit()
    audit.check(page, "a broken page")
    with pytest.raises(AssertionError) as failure:
        audit.assert_clean()
    report = str(failure.value)
    for rule in ("image-alt", "label", "html-has-lang", "document-title"):
        assert f"  {rule} (" in report, report
    assert "img" in report


def test_results_pages_for_the_namnd(page: Page, live_server: LiveServer) -> None:
    """Overview, a shown unit, a hidden unit, drivers and the suppression log."""
    sign_in(page, live_server, "namnd")
    page.goto("/results/")
    page.locator("main ul.round-list a").first.click()
    expect(page.locator("table.heatmap")).to_be_visible()
    check(page, "results overview")
    overview = page.url
    for unit in ("Barn och unga, utredning", "Mottagningsenheten", "Socialförvaltningen"):
        page.goto(overview)
        page.get_by_role("link", name=unit, exact=True).first.click()
        expect(page.get_by_role("heading", level=1, name=unit)).to_be_visible()
        check(page, f"results for {unit}")
    for name in ("Vad som hänger ihop med engagemang", "Vad som doldes och varför"):
        page.goto(overview)
        page.get_by_role("link", name=name).click()
        expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()
        check(page, name)


def test_results_overview_for_a_manager(page: Page, live_server: LiveServer) -> None:
    sign_in(page, live_server, "manager")
    page.goto("/results/")
    page.locator("main ul.round-list a").first.click()
    expect(page.locator("table.heatmap")).to_be_visible()
    check(page, "results overview as manager")


def test_hr_round_pages(page: Page, live_server: LiveServer) -> None:
    sign_in(page, live_server, "hr")
    page.goto("/admin/")
    check(page, "admin round list")
    page.locator("main table a").first.click()  # the newest round: open, with live counts
    expect(page.get_by_role("heading", level=2, name="Svar")).to_be_visible()
    check(page, "admin round page")
    page.get_by_label("Hur många").fill("0")
    page.get_by_role("button", name="Skapa").click()
    expect(page.locator("main .error").first).to_be_visible()
    check(page, "admin round page with an error")
    page.get_by_label("Hur många").fill("3")
    page.get_by_role("button", name="Skapa").click()
    expect(page.locator(".slip").first).to_be_visible()
    check(page, "printable code slips")
