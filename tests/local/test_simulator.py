"""Games as the original tournament wrote them: two items per game, exactly one winner."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tatourney_local.simulator import PLAYERS, GameSimulator, record_game
from tatourney_local.tables import TableNames
from tests.support import LocalAws


def items(aws: LocalAws, table: str) -> list[dict[str, Any]]:
    return aws.client.scan(TableName=table, ConsistentRead=True)["Items"]


def test_a_game_is_two_items_of_the_contract_with_one_winner(
    aws: LocalAws, tables: TableNames
) -> None:
    when = datetime(2026, 11, 22, 11, 30, tzinfo=UTC)
    result = record_game(aws.client, tables.games, 7, {"Tia": 512, "Mark": 488}, when)

    assert (result.winner, result.loser) == ("Tia", "Mark")
    written = sorted(items(aws, tables.games), key=lambda item: item["player"]["S"])
    assert written == [
        {
            "player": {"S": "Mark"},
            "game": {"N": "7"},
            "date": {"S": "2026-11-22T11:30:00Z"},
            "score": {"N": "488"},
            "winner": {"BOOL": False},
        },
        {
            "player": {"S": "Tia"},
            "game": {"N": "7"},
            "date": {"S": "2026-11-22T11:30:00Z"},
            "score": {"N": "512"},
            "winner": {"BOOL": True},
        },
    ]


@pytest.mark.parametrize(
    "scores", [{"Tia": 500, "Mark": 500}, {"Tia": 500}, {"Tia": 1001, "Mark": 3}]
)
def test_a_game_without_exactly_one_winner_is_refused(
    aws: LocalAws, tables: TableNames, scores: dict[str, int]
) -> None:
    with pytest.raises(ValueError, match=r"winner|two players|scores"):
        record_game(aws.client, tables.games, 1, scores)
    assert items(aws, tables.games) == []


def test_a_game_number_a_player_already_played_is_not_overwritten_nor_half_written(
    aws: LocalAws, tables: TableNames
) -> None:
    record_game(aws.client, tables.games, 1, {"Tia": 700, "Mark": 300})
    with pytest.raises(ClientError, match="TransactionCanceled"):
        record_game(aws.client, tables.games, 1, {"Tia": 100, "Julie": 900})
    kept = {(item["player"]["S"], item["score"]["N"]) for item in items(aws, tables.games)}
    assert kept == {("Tia", "700"), ("Mark", "300")}


def test_each_seed_round_has_every_player_play_once(aws: LocalAws, tables: TableNames) -> None:
    simulator = GameSimulator(aws.client, tables.games, 0, random.Random(4))
    results = simulator.seed(rounds=2)

    assert [result.game for result in results] == list(range(1, 11))
    played = Counter(name for r in results for name in (r.winner, r.loser))
    assert played == dict.fromkeys(PLAYERS, 2)
    assert len(items(aws, tables.games)) == 20
