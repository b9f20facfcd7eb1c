"""The README's quickstart, run as written: its commands (`make up`, `make play`, `make down`)
against a real stack on free ports with a state folder of the test's own; a played game reaches
the leaderboard, and `make down` leaves none of the stack's processes running."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tatourney_local.runner import PROGRAMS, read_pid_file, running
from tatourney_local.services import REPO_ROOT
from tests.local.conftest import WAIT_SECONDS, wait_until
from tests.local.processes import get, run, started_until_ready


def quickstart_commands() -> list[str]:
    """The commands of the README's Quickstart code blocks, without their comments."""
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("\n## Quickstart\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    return [line.split("#", 1)[0].strip() for block in blocks for line in block.splitlines()]


def games_played(url: str) -> int:
    status, _, body = get(f"{url}stats")
    assert status == 200
    return sum(player["games"] for player in json.loads(body)["players"])


def test_the_readmes_quickstart_runs_as_written(tmp_path: Path) -> None:
    commands = quickstart_commands()
    assert commands == ["make up", "make play", "make down"]
    # Free ports and the test's own state folder, so that a stack the user runs is left alone;
    # no simulated games, so that the one played is the only change.
    settings = [f"UP_STATE_DIR={tmp_path}", "UP_PORT=0", "UP_GAMES_PER_MINUTE=0"]
    up, play, down = ([*command.split(), *settings] for command in commands)

    with started_until_ready(up, tmp_path) as (process, url):
        pids = read_pid_file(tmp_path / "up.pid")
        before = games_played(url)
        played = run(play)
        assert played.returncode == 0, played.stdout + played.stderr
        assert " beat " in played.stdout

        def the_game_is_on_the_board() -> bool:
            return games_played(url) == before + 2  # one game: two players' rows

        wait_until(the_game_is_on_the_board)
        stopped = run(down)
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert process.wait(timeout=WAIT_SECONDS) == 0
    assert pids
    assert not [name for name, pid in pids if running(pid, PROGRAMS[name])]
    assert not (tmp_path / "endpoints.json").exists()


def test_play_without_a_running_stack_says_so(tmp_path: Path) -> None:
    done = run(["make", "play", f"UP_STATE_DIR={tmp_path}"])
    assert done.returncode != 0
    assert "`make up` first" in done.stderr
