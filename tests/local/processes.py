"""The local runner and `make` as processes and over HTTP, for the tests that start them."""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest

from tatourney_local.runner import down
from tatourney_local.services import REPO_ROOT
from tests.local.conftest import WAIT_SECONDS

RUNNER_ENV = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")}


def get(url: str, **headers: str) -> tuple[int, Message, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def run(command: list[str]) -> subprocess.CompletedProcess[str]:
    """A command of the runner or of make, to its end (bounded), its output captured."""
    return subprocess.run(
        command,
        cwd=REPO_ROOT,
        env=RUNNER_ENV,
        capture_output=True,
        text=True,
        timeout=2 * WAIT_SECONDS,
        check=False,
    )


@contextlib.contextmanager
def started_until_ready(
    command: list[str], state_dir: Path
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Run `command` (the runner's `up`, or `make up`) until it prints `ready: URL`; yield the
    process and the URL. Afterwards, as `make down` does: the runner stops its servers; what it
    could not stop is stopped by the PIDs in its PID file. A test that failed midway leaves
    nothing running either."""
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=RUNNER_ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None

    def read_lines() -> None:
        for line in process.stdout or []:
            lines.put(line)

    reader = threading.Thread(target=read_lines)
    reader.start()
    output: list[str] = []
    try:
        deadline = time.monotonic() + 2 * WAIT_SECONDS
        while not output or not output[-1].startswith("ready: "):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{command} did not get ready:\n" + "".join(output))
            with contextlib.suppress(queue.Empty):
                output.append(lines.get(timeout=1))
        yield process, output[-1].split(" ", 1)[1].strip()
    finally:
        down(state_dir)
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        reader.join(timeout=30)
