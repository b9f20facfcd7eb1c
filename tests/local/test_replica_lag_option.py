"""`make up UP_REPLICA_LAG_MS=...`: the local stack with the replica-lag fault (injected) on the
functions' DynamoDB clients still shows a game once its invalidation is processed."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tatourney.changelog import REPLICA_LAG_BOUND_SECONDS
from tatourney_local.simulator import record_game
from tatourney_local.stack import Options, Stack
from tests.local.conftest import wait_until

# Longer than the whole test, so that every eventually consistent read of a row the game changed
# is behind, however slowly the machine runs the streams: the fault is sure to be exercised.
LAG_MS = 120_000


@pytest.fixture
def lagging_stack(tmp_path: Path) -> Iterator[tuple[Stack, float]]:
    running = Stack(
        Options(
            port=0, games_per_minute=0, seed_rounds=1, state_dir=tmp_path, replica_lag_ms=LAG_MS
        )
    )
    running.start()
    # The seed games' invalidations created the change log before start() returned.
    yield running, time.time()
    running.stop()


def stats(stack: Stack) -> tuple[str, dict[str, Any]]:
    with urllib.request.urlopen(f"{stack.url}stats", timeout=30) as response:
        body = json.loads(response.read())
        return response.headers["X-Cache"], {p["player"]: p for p in body["players"]}


def test_with_injected_replica_lag_up_shows_a_game_once_invalidated(
    lagging_stack: tuple[Stack, float],
) -> None:
    stack, log_exists_since = lagging_stack

    # A full Scan against a change log younger than the lag bound reads consistently; once the log
    # is older, the rebuild after the game reads eventually consistently, and the fault answers.
    def log_older_than_the_lag_bound() -> bool:
        return time.time() - log_exists_since >= REPLICA_LAG_BOUND_SECONDS

    wait_until(log_older_than_the_lag_bound)
    _, before = stats(stack)
    winner, loser = sorted(before)[:2]
    record_game(
        stack.dynamodb.client(), stack.options.tables.games, 90_001, {winner: 700, loser: 300}
    )
    answers: list[tuple[str, dict[str, Any]]] = []

    def has_played(answer: tuple[str, dict[str, Any]], player: str) -> bool:
        return bool(answer[1][player]["games"] == before[player]["games"] + 1)

    # Each player's row is its own change, invalidated in its own time: wait for both.
    def shown() -> bool:
        answers.append(stats(stack))
        return has_played(answers[-1], winner) and has_played(answers[-1], loser)

    wait_until(shown)
    assert stack.replica_lag is not None
    assert stack.replica_lag.answered_behind >= 1, "a read was behind: the fault was on"
    for player in (winner, loser):
        source, _ = next(answer for answer in answers if has_played(answer, player))
        assert source == "MISS", f"the first answer with {player}'s game is a rebuild"
    assert stack.failure_log.entries() == []
