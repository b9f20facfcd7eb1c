"""The site and the local metrics page in Chromium at a desktop and a phone width: axe-core (the
npm package, pinned) finds no violation, the site's Content-Security-Policy blocks nothing they
need. Each is screenshotted into test-output/pages/ (docs/images/ holds copies of these: the
README shows the site's)."""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tatourney_local.services import REPO_ROOT
from tatourney_local.stack import Stack
from tests.local.conftest import WAIT_SECONDS

AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO_ROOT / "test-output" / "pages"
WIDTHS = {"": 1280, "-phone": 390}  # screenshot name suffix: width
PAGES = {"site": "", "local-metrics": "local/metrics"}


@pytest.fixture(params=list(WIDTHS))
def sized_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[tuple[Page, str]]:
    context = browser.new_context(viewport={"width": WIDTHS[request.param], "height": 900})
    yield context.new_page(), request.param
    context.close()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is (evaluated through the DevTools protocol, so
    the page's CSP, which forbids inline scripts, still holds for everything the page runs)."""
    assert AXE.exists(), "axe-core is missing: run `make install`"
    page.evaluate(AXE.read_text())
    result: dict[str, Any] = page.evaluate("axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
    ]


@pytest.mark.parametrize("name", list(PAGES))
def test_no_axe_violation_and_nothing_blocked_by_the_csp(
    sized_page: tuple[Page, str], stack: Stack, name: str
) -> None:
    page, width = sized_page
    blocked: list[str] = []

    def note_csp(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            blocked.append(message.text)

    page.on("console", note_csp)
    # An answer of the leaderboard within the last minute, for the metrics page to show.
    with urllib.request.urlopen(f"{stack.url}stats", timeout=WAIT_SECONDS) as answer:
        assert answer.status == 200
    page.goto(f"{stack.url}{PAGES[name]}")
    # Each page marks itself ready once its script has rendered data it fetched.
    expect(page.locator("body")).to_have_attribute(
        "data-state", "ready", timeout=WAIT_SECONDS * 1000
    )
    if name == "local-metrics":
        expect(page.locator("#chart svg")).to_be_visible()
        expect(page.locator("#alarms")).to_contain_text("busy-answers")
        expect(page.locator("#functions")).to_contain_text("tatourney-leaderboard")
        latency = page.locator("#functions tr").filter(has_text="Latency")
        expect(latency.locator("td").last).to_have_text(re.compile(r"^\d+(\.\d)? ms$"))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}{width}.png", full_page=True)
    if name == "site":
        expect(page.locator("#rows tr.podium-1")).to_have_count(1)
        expect(page.locator("#latency")).to_be_hidden()  # the provenance, folded away
        page.locator(".status summary").click()
        expect(page.locator("#latency")).to_be_visible()

    assert axe_violations(page) == []
    assert blocked == []
    # Nothing to scroll sideways (the tables scroll inside their own region if they must).
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[width]
