"""The local stack for the runner and browser tests: one `Stack` (its own memcached, DynamoDB
Local, functions and pollers) shared by the tests of this folder, stopped at the end."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tatourney_local.stack import Options, Stack

CHROMIUM = Path("/usr/bin/chromium")
# Root needs --no-sandbox; the rest keeps Chromium from reaching out (this machine has no network).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
WAIT_SECONDS = 60.0  # generous: CI runs every test in one session on a loaded 2-core machine


def wait_until(condition: Callable[[], bool], timeout: float = WAIT_SECONDS) -> None:
    """Poll until `condition()` holds; fail with the condition's name after `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{getattr(condition, '__name__', condition)} not true after {timeout}s")
        time.sleep(0.05)


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole local system on free ports, without the random games (tests write their own)."""
    state_dir: Path = tmp_path_factory.mktemp("stack")
    running = Stack(Options(port=0, games_per_minute=0, seed_rounds=2, state_dir=state_dir))
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), "Chromium is missing: run `make install-os`"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
