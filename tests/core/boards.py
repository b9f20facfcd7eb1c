"""Shared setup of the protocol tests: stats rows, what an answer shows, clients of this test's
memcached keys, the replica-lag fault, and a `Tournament` (the `tournament` fixture) whose games
are written and invalidated as the stats stream would have them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tatourney.cache import Cache, LeaderboardKeys
from tatourney.changelog import Version, version_of
from tatourney.config import CacheConfig
from tatourney.invalidation import Invalidator
from tatourney.leaderboard import Served, Source
from tatourney.table import StatsTable
from tatourney_local.faults import ReplicaLag
from tatourney_local.services import Memcached, dynamodb_client
from tatourney_local.tables import TableNames
from tests.conftest import Reader
from tests.support import LocalAws

Row = tuple[str, int, int, int]  # player, games, wins, total_score

TEN_PLAYERS: list[Row] = [
    ("Tia", 10, 7, 5000),
    ("Julie", 10, 6, 4800),
    ("Kelby", 10, 5, 4700),
    ("Craig", 10, 5, 4600),
    ("Mike", 10, 4, 4500),
    ("Rich", 10, 4, 4400),
    ("Miles", 10, 3, 4300),
    ("John", 10, 3, 4200),
    ("Moosa", 10, 2, 4100),
    ("Mark", 10, 1, 4000),
]

LAG_SECONDS = 30.0  # longer than any test: every eventually consistent read of a change is behind


def players(answer: object) -> list[dict[str, Any]]:
    assert isinstance(answer, Served), answer
    return answer.board.players()


def wins_of(answer: object, player: str) -> object:
    return next(p["wins"] for p in players(answer) if p["player"] == player)


def source_of(answer: object) -> Source:
    assert isinstance(answer, Served), answer
    return answer.source


def cache_for(memcached: Memcached, key_prefix: str) -> Cache:
    return Cache.connect(
        CacheConfig(
            endpoints=(("127.0.0.1", memcached.port),),
            key_prefix=key_prefix,
            timeout_seconds=1,
            tls=False,
        )
    )


def invalidator(memcached: Memcached, key_prefix: str) -> Invalidator:
    return Invalidator([cache_for(memcached, key_prefix)], LeaderboardKeys.for_prefix(key_prefix))


def changes(aws: LocalAws, table: str, names: list[str]) -> dict[str, Version]:
    """What the stream records of the last writes to `names` carry: each one's version now."""
    found = StatsTable(lambda: aws.client, table).get_players(names, consistent=True)
    rows = {row.player: row for row in found.rows}
    return {name: version_of(rows.get(name)) for name in names}


def many_players(count: int, prefix: str = "player") -> list[Row]:
    return [(f"{prefix}-{n:05}", 10, n % 10, 1000 + n) for n in range(count)]


def put_many(aws: LocalAws, table: str, rows: list[Row]) -> None:
    for start in range(0, len(rows), 25):
        aws.client.batch_write_item(
            RequestItems={
                table: [
                    {
                        "PutRequest": {
                            "Item": {
                                "player": {"S": player},
                                "games": {"N": str(games)},
                                "wins": {"N": str(wins)},
                                "total_score": {"N": str(total)},
                            }
                        }
                    }
                    for player, games, wins, total in rows[start : start + 25]
                ]
            }
        )


@contextmanager
def replica_lag(
    aws: LocalAws, tables: TableNames, *readers: Reader, seconds: float = LAG_SECONDS
) -> Iterator[ReplicaLag]:
    """The fault on the test's writer client and on `readers`' table clients."""
    lag = ReplicaLag(seconds, dynamodb_client(aws.endpoint_url), [tables.stats])
    emitters = [aws.client.meta.events, *(reader.table_client.meta.events for reader in readers)]
    for events in emitters:
        lag.install(events)
    try:
        yield lag
    finally:
        for events in emitters:
            lag.uninstall(events)


def a_minute_on() -> float:
    """A reader's clock a minute ahead: a log just created is as old as REPLICA_LAG_BOUND_SECONDS
    and more, and vouches for what it holds (the lag tests need not wait for it)."""
    return time.time() + 60


@dataclass(frozen=True)
class Tournament:
    """One test's stats table and memcached keys, the readers of its board, and the games that
    change it: each written, then invalidated as the stats stream's records would have it."""

    aws: LocalAws
    tables: TableNames
    memcached: Memcached
    key_prefix: str
    make_reader: Callable[..., Reader]

    @property
    def keys(self) -> LeaderboardKeys:
        return LeaderboardKeys.for_prefix(self.key_prefix)

    def cache(self) -> Cache:
        """A client of this test's keys on the session's memcached."""
        return cache_for(self.memcached, self.key_prefix)

    def invalidator(self) -> Invalidator:
        return invalidator(self.memcached, self.key_prefix)

    def write(self, rows: list[Row]) -> None:
        """Stats rows written, their invalidation not (yet, or ever) processed."""
        self.aws.put_stats(self.tables.stats, rows)

    def remove(self, player: str) -> None:
        self.aws.client.delete_item(TableName=self.tables.stats, Key={"player": {"S": player}})

    def invalidate(self, names: list[str]) -> None:
        """The invalidation of the last writes to `names`, processed."""
        self.invalidator().invalidate(changes(self.aws, self.tables.stats, names))

    def write_many(self, rows: list[Row]) -> None:
        """As `write`, in batches: for boards of hundreds of players."""
        put_many(self.aws, self.tables.stats, rows)

    def play(self, rows: list[Row], removed: tuple[str, ...] = ()) -> None:
        """A game: `rows` written and `removed` deleted, then their invalidation processed."""
        self.write(rows)
        for player in removed:
            self.remove(player)
        self.invalidate([row[0] for row in rows] + list(removed))

    def board_cached(self, count: int = 200, **settings: Any) -> Reader:
        """A reader whose board of `count` players is built (one full Scan) and cached."""
        self.write_many(many_players(count))
        reader = self.make_reader(**settings)
        assert source_of(reader.leaderboard.read()) is Source.MISS
        assert len(reader.scans) == 1
        reader.requests.clear()
        return reader
