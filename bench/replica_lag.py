"""Read units per change under the replica-lag fault (tatourney_local.faults.ReplicaLag): what
settling the rebuild's reads against the change log costs.

One warm container follows `changes` games on a board of `players` (one player's row changed and
invalidated each, then one read), twice: the normal case (no replica behind: every eventually
consistent read returns the write) and the worst case (every eventually consistent read of a
changed row within the lag returns the row before it, so every changed player is read again
consistently). Its own table and key prefix, on the bench's services, on a client outside the
capacity model (the figures are the read units DynamoDB Local reports, not throttling).
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any

import boto3

from bench.stack import Stack, bench_stack
from tatourney.cache import Cache, LeaderboardKeys
from tatourney.config import LeaderboardConfig
from tatourney.invalidation import Invalidator
from tatourney.leaderboard import Answer, Leaderboard, Served, Source
from tatourney.table import StatsTable
from tatourney_local.faults import ReplicaLag
from tatourney_local.services import LOCAL_KEY_ID, LOCAL_SECRET, REGION
from tatourney_local.tables import TableNames, create_tables

QUICK_PLAYERS, QUICK_CHANGES = 200, 10  # `python -m bench.replica_lag`, and make bench-quick
CASES = {"normal": 0.0, "worst": 3600.0}  # lag seconds: none behind; every read within it behind


def _client(stack: Stack) -> Any:
    """A DynamoDB client of a session of its own: none of the bench's capacity hooks."""
    return boto3.Session().client(
        "dynamodb",
        endpoint_url=stack.dynamodb.endpoint_url,
        region_name=REGION,
        aws_access_key_id=LOCAL_KEY_ID,
        aws_secret_access_key=LOCAL_SECRET,
    )


def _put(client: Any, table: str, player: str, games: int, wins: int) -> None:
    client.put_item(
        TableName=table,
        Item={
            "player": {"S": player},
            "games": {"N": str(games)},
            "wins": {"N": str(wins)},
            "total_score": {"N": str(500 * games)},
        },
    )


def _served(answer: Answer) -> Served:
    """The answer, which must be a rebuild (each read follows a change)."""
    if not isinstance(answer, Served) or answer.source is not Source.MISS:
        raise RuntimeError(f"expected a rebuild, got {answer}")
    return answer


def measure_case(stack: Stack, players: int, changes: int, lag_seconds: float) -> dict[str, Any]:
    names = TableNames(
        games=f"lag-games-{uuid.uuid4().hex[:8]}", stats=f"lag-{uuid.uuid4().hex[:8]}"
    )
    writer, reference, reader_client = _client(stack), _client(stack), _client(stack)
    create_tables(writer, names)
    for number in range(players):
        _put(writer, names.stats, f"player-{number:05}", 10, number % 10)
    env_config = LeaderboardConfig.from_env()
    config = dataclasses.replace(
        env_config,
        stats_table=names.stats,
        cache=dataclasses.replace(env_config.cache, key_prefix=f"lag-{uuid.uuid4().hex[:8]}"),
    )
    cache = Cache.connect(config.cache)
    reader = Leaderboard(cache, StatsTable(lambda: reader_client, names.stats), config)
    invalidator = Invalidator([cache], LeaderboardKeys.for_prefix(config.cache.key_prefix))
    lag = ReplicaLag(lag_seconds, reference, [names.stats])
    for client in (writer, reader_client):
        lag.install(client.meta.events)
    _served(reader.read())  # the board, built by a full Scan
    read_units = behind = players_read = old_served = 0.0
    for change in range(changes):
        player, games = f"player-{change % players:05}", 11 + change // players
        _put(writer, names.stats, player, games, games)
        invalidator.invalidate({player: (games, games, 500 * games)})
        answer = _served(reader.read())
        read_units += answer.trace.reads.read_units
        behind += answer.trace.reads.behind
        players_read += answer.trace.reads.players
        shown = next(p for p in answer.board.players() if p["player"] == player)
        old_served += shown["games"] != games
    return {
        "lag_seconds": lag_seconds,
        "changes": changes,
        "read_units_per_change": round(read_units / changes, 3),
        "consistent_rereads_per_change": round(behind / changes, 3),
        "players_read_per_change": round(players_read / changes, 3),
        "old_rows_served": int(old_served),
    }


def measure(stack: Stack, players: int, changes: int) -> dict[str, Any]:
    """Both cases on a board of `players`: read units per change and what they paid for."""
    return {
        "players": players,
        **{case: measure_case(stack, players, changes, lag) for case, lag in CASES.items()},
    }


def main() -> None:
    """The quick form alone, on services of its own: 200 players, 10 changes a case."""
    with bench_stack() as stack:
        print(json.dumps(measure(stack, QUICK_PLAYERS, QUICK_CHANGES), indent=1))


if __name__ == "__main__":
    main()
