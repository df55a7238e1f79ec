"""Driving the respondent pages in Chromium, and axe-core checks with readable failures."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

# WCAG 2.1 A and AA, plus axe's best practices (they gave no false positives on these pages).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
_axe = Axe()

PAGE_URL = re.compile(r"/survey/page/(\d+)(\?.*)?$")
PROGRESS = re.compile(r"Sida (\d+) av (\d+)")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run the bundled axe-core on the page as it is now."""
    return list(_axe.run(page, options=AXE_OPTIONS).response["violations"])


def describe_violations(label: str, violations: list[dict[str, Any]]) -> str:
    """Each violation's id, impact, help and the nodes it was found on."""
    lines = [f"{label}: {len(violations)} axe violation(s)"]
    for v in violations:
        lines.append(f"  {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            summary = " ".join(
                line.strip() for line in (node.get("failureSummary") or "").splitlines()
            )
            lines.append(f"    - {target}: {node['html'][:160]}")
            if summary:
                lines.append(f"      {summary}")
    return "\n".join(lines)


class AxeAudit:
    """Collects violations over several pages so one failure reports all of them."""

    def __init__(self) -> None:
        self.reports: list[str] = []
        self.checked: list[str] = []

    def check(self, page: Page, label: str) -> None:
        violations = axe_violations(page)
        self.checked.append(label)
        if violations:
            self.reports.append(describe_violations(f"{label} ({page.url})", violations))

    def assert_clean(self) -> None:
        assert not self.reports, "\n\n".join(self.reports)


@dataclass(frozen=True)
class Given:
    """One answer given on a page: the field name, its kind (radio, checkbox, text) and the
    value sent or the text typed."""

    key: str
    kind: str
    value: str


def page_number(page: Page) -> tuple[int, int]:
    """(this page, page count) from the visible progress text."""
    match = PROGRESS.search(page.locator("#progress-label").inner_text())
    assert match, f"no progress text on {page.url}"
    return int(match.group(1)), int(match.group(2))


def answer_every_question(page: Page, comment: str = "Bra kollegor.") -> list[Given]:
    """Choose a radio in every radio group, tick the first box of every checkbox group and
    type in every free-text field of the current question page, as a user would (clicks and
    typing; the page needs no JavaScript)."""
    targets: list[tuple[str, str, str] | None] = page.eval_on_selector_all(
        "#page-form fieldset",
        """sets => sets.map(set => {
            const radios = set.querySelectorAll('input[type=radio]');
            const input = radios.length ? radios[Math.min(1, radios.length - 1)]  // 2nd choice
                : set.querySelector('input[type=checkbox]');
            return input ? [input.name, input.type, input.value] : null;
        })""",
    )
    given: list[Given] = []
    for target in targets:
        assert target is not None, f"a question without inputs on {page.url}"
        name, kind, value = target
        page.locator(f"#page-form input[name='{name}'][value='{value}']").check()
        given.append(Given(name, kind, value))
    for number, textarea in enumerate(page.locator("#page-form textarea").all(), start=1):
        text = f"{comment} ({number})"
        textarea.fill(text)
        given.append(Given(textarea.get_attribute("name") or "", "text", text))
    return given


def start_survey(page: Page, link: str) -> None:
    """Open a personal link, land on the welcome page and press 'Börja svara'."""
    page.goto(link)
    expect(page).to_have_url(re.compile(r"/survey/$"))
    page.get_by_role("link", name="Börja svara").click()
    expect(page).to_have_url(PAGE_URL)


def has_required_question(page: Page) -> bool:
    return page.locator("#page-form .question:not(:has(.optional))").count() > 0


def press_next_unanswered(page: Page) -> None:
    """Press Next on a page with a required question left empty: the page comes back with
    an error summary and the errors next to the questions."""
    page.get_by_role("button", name="Nästa", exact=True).click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Fel:"))


def walk_survey(
    page: Page,
    on_page: Callable[[Page, int], None] | None = None,
    comment: str = "Bra kollegor.",
) -> list[Given]:
    """From question page 1, answer every page and press Next until the review page.

    ``on_page(page, number)`` runs on each question page before it is filled in."""
    given: list[Given] = []
    expected = 1
    while True:
        expect(page).to_have_url(PAGE_URL)
        number, count = page_number(page)
        assert number == expected, f"expected page {expected}, got {number} ({page.url})"
        if on_page is not None:
            on_page(page, number)
        given += answer_every_question(page, comment)
        if number < count:
            page.get_by_role("button", name="Nästa", exact=True).click()
            expected += 1
            continue
        page.get_by_role("button", name="Granska alla svar först").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Granska dina svar")
        return given


def submit_from_review(page: Page) -> None:
    page.get_by_role("button", name="Skicka in mina svar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tack för dina svar")
