"""`make up UP_REPLICA_LAG_MS=...`: the local stack with the replica-lag fault (injected) on the
functions' DynamoDB clients still shows a game once its invalidation is processed."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tatourney_local.runner import Options, Stack
from tatourney_local.simulator import record_game
from tests.local.conftest import wait_until


@pytest.fixture
def lagging_stack(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(
        Options(port=0, games_per_minute=0, seed_rounds=1, state_dir=tmp_path, replica_lag_ms=3000)
    )
    running.start()
    yield running
    running.stop()


def stats(stack: Stack) -> tuple[str, dict[str, Any]]:
    with urllib.request.urlopen(f"{stack.url}stats", timeout=30) as response:
        body = json.loads(response.read())
        return response.headers["X-Cache"], {p["player"]: p for p in body["players"]}


def test_with_injected_replica_lag_up_shows_a_game_once_invalidated(
    lagging_stack: Stack,
) -> None:
    stack = lagging_stack
    _, before = stats(stack)
    winner, loser = sorted(before)[:2]
    record_game(
        stack.dynamodb.client(), stack.options.tables.games, 90_001, {winner: 700, loser: 300}
    )
    answers: list[tuple[str, dict[str, Any]]] = []

    def shown() -> bool:
        answers.append(stats(stack))
        return bool(answers[-1][1][winner]["games"] == before[winner]["games"] + 1)

    wait_until(shown)
    assert stack.replica_lag is not None
    assert stack.replica_lag.answered_behind >= 1, "a read was behind: the fault was on"
    source, after = answers[-1]
    assert source == "MISS", "the first answer with the game is a rebuild"
    assert after[loser]["games"] == before[loser]["games"] + 1
    assert stack.failure_log.entries() == []
