"""The site in a real browser (the OS's Chromium, driven by Playwright; no browser download)
against the local stack: the ranked table, a new game reaching the page, the busy message."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from pymemcache.client.base import Client

from tatourney_local.faults import throttled
from tatourney_local.services import REPO_ROOT
from tatourney_local.simulator import PLAYERS, record_game
from tatourney_local.stack import Stack
from tests.local.conftest import WAIT_SECONDS

SCREENSHOTS = REPO_ROOT / "test-output" / "site"
WAIT_MS = WAIT_SECONDS * 1000


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    opened = context.new_page()
    yield opened
    context.close()


def open_board(page: Page, stack: Stack) -> None:
    page.goto(stack.url)
    expect(page.locator("body")).to_have_attribute("data-state", "ready", timeout=WAIT_MS)


def row_of(page: Page, player: str) -> dict[str, str]:
    row = page.locator("#rows tr").filter(has=page.get_by_role("cell", name=player, exact=True))
    cells = row.locator("th, td").all_inner_texts()
    return dict(zip(["rank", "player", "games", "wins", "win", "avg"], cells, strict=True))


def test_the_page_shows_ten_players_ranked_by_wins(page: Page, stack: Stack) -> None:
    open_board(page, stack)

    rows = page.locator("#rows tr")
    expect(rows).to_have_count(10)
    table = [row.locator("th, td").all_inner_texts() for row in rows.all()]
    assert [int(cells[0]) for cells in table] == list(range(1, 11))
    assert sorted(cells[1] for cells in table) == sorted(PLAYERS)
    wins = [int(cells[3]) for cells in table]
    assert wins == sorted(wins, reverse=True)
    assert all(re.fullmatch(r"\d+\.\d%", cells[4]) for cells in table)
    expect(page.get_by_role("columnheader", name="Win %")).to_be_visible()
    expect(page.locator("#source")).to_have_text(re.compile(r"^(HIT|MISS|STALE)$"))
    expect(page.locator("#latency")).to_have_text(re.compile(r"^\d+ ms$"))
    expect(page.locator("#age")).to_have_text(re.compile(r"^\d+\.\d s$"))
    expect(page.locator("#page-range")).to_have_text("Players 1\u201310 of 10")
    expect(page.get_by_role("button", name="Next")).to_be_disabled()
    expect(page.get_by_role("button", name="Previous")).to_be_disabled()
    # The next poll sends the page's ETag; the board has not changed, so nothing is downloaded.
    expect(page.locator("#answer")).to_contain_text("304", timeout=WAIT_MS)

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "leaderboard.png", full_page=True)
    page.set_viewport_size({"width": 375, "height": 800})
    expect(rows).to_have_count(10)
    # On a phone the whole table fits the screen: nothing to scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=SCREENSHOTS / "leaderboard-phone.png", full_page=True)


def test_a_game_written_to_the_games_table_reaches_the_page(page: Page, stack: Stack) -> None:
    open_board(page, stack)
    last = page.locator("#rows tr").last.locator("td").first.inner_text()
    first = page.locator("#rows tr").first.locator("td").first.inner_text()
    before = row_of(page, last)

    games_table = stack.options.tables.games
    record_game(stack.dynamodb.client(), games_table, 80_001, {last: 900, first: 100})

    # The page refreshes on its own: aggregate, then invalidate, then the next poll shows it.
    cells = page.locator("#rows tr").filter(has=page.get_by_role("cell", name=last, exact=True))
    expect(cells.locator("td").nth(1)).to_have_text(str(int(before["games"]) + 1), timeout=WAIT_MS)
    assert row_of(page, last)["wins"] == str(int(before["wins"]) + 1)


def test_a_throttled_table_shows_the_busy_message_throttling_injected(
    page: Page, stack: Stack
) -> None:
    # DynamoDB Local never throttles: every Scan of the leaderboard function is answered with
    # ProvisionedThroughputExceededException, and the cache is emptied so there is no copy.
    function = stack.functions["leaderboard"]
    leaderboard = function.module.leaderboard
    with throttled(leaderboard._table._client, "Scan"):
        with function.invoking():  # a new container: no board in memory either
            for node in stack.memcached:
                Client(node.endpoint).flush_all()
            leaderboard._memory = None
        page.goto(stack.url)
        notice = page.get_by_role("alert")
        expect(notice).to_contain_text("busy", timeout=WAIT_MS)
        expect(notice).to_contain_text(re.compile(r"Trying again in \d+ s"))
        expect(page.locator("body")).to_have_attribute("data-state", "busy")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "busy.png", full_page=True)

    # Once the table answers again, the page retries by itself and shows the board.
    expect(page.locator("body")).to_have_attribute("data-state", "ready", timeout=WAIT_MS)
    expect(notice).to_be_hidden()
    expect(page.locator("#rows tr")).to_have_count(10)
