"""The per-change work of the delta path at 100,000 players, in a minute rather than the full
benchmark's: a board of 100,000 rows stored as a full Scan stores it (the table holds only the
rows the games write), then 15 games of two players, each rebuilt by the lease holder and then
served to another warm container; and the Python heap of a container that read the board whole.

    PYTHONPATH=src:. python -m bench.delta_probe
"""

from __future__ import annotations

import gc
import os
import random
import statistics
import time
import tracemalloc

from tatourney.board import Board
from tatourney.cache import Cache, LeaderboardKeys
from tatourney.changelog import version_of
from tatourney.config import LeaderboardConfig
from tatourney.invalidation import Invalidator
from tatourney.leaderboard import Leaderboard, Served, Source
from tatourney.rebuild import Update
from tatourney.table import StatsRow, StatsTable, dynamodb_client
from tatourney_local.services import DynamoDBLocal, Memcached, lambda_environment
from tatourney_local.tables import TableNames, create_tables

PLAYERS = 100_000
GAMES = 15
TABLES = TableNames("probe-games", "probe-stats")


def milliseconds_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def main() -> None:
    memcached, dynamodb = Memcached.start(), DynamoDBLocal.start()
    try:
        env = lambda_environment(
            memcached.endpoint, dynamodb.endpoint_url, TABLES.games, TABLES.stats
        )
        os.environ.update(env)
        create_tables(dynamodb.client(), TABLES)
        config = LeaderboardConfig.from_env(env)
        client = dynamodb_client(config.table_max_attempts, env)

        def container() -> Leaderboard:
            return Leaderboard(
                Cache.connect(config.cache), StatsTable(lambda: client, TABLES.stats), config
            )

        rows = [
            StatsRow(f"player-{n:06}", 30, random.randint(0, 30), random.randint(1000, 20000))
            for n in range(PLAYERS)
        ]
        holder = container()
        log = holder._create_log()
        whole = Update(log.position, None, 4181.5, {row.player: row for row in rows}, whole=True)
        holder._store(holder._generation(), None, whole)
        other = container()
        started = time.perf_counter()
        other.read()
        cold_ms = milliseconds_since(started)
        print(f"a cold container's first read (the whole board): {cold_ms:.0f} ms")
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        measured = container()
        measured.read()
        heap = (tracemalloc.get_traced_memory()[0] - before) / 2**20
        tracemalloc.stop()
        print(f"a container's board and served copy: {heap:.1f} MiB")
        invalidator = Invalidator(
            [Cache.connect(config.cache)], LeaderboardKeys.for_prefix(config.cache.key_prefix)
        )
        rebuilds: list[float] = []
        first_hits: list[float] = []
        for game in range(GAMES):
            players = random.sample([row.player for row in rows], 2)
            new = {p: StatsRow(p, 31 + game, random.randint(0, 31), 20000) for p in players}
            for row in new.values():
                item = {"player": {"S": row.player}, "games": {"N": str(row.games)}}
                item |= {"wins": {"N": str(row.wins)}, "total_score": {"N": str(row.total_score)}}
                client.put_item(TableName=TABLES.stats, Item=item)
            invalidator.invalidate({player: version_of(row) for player, row in new.items()})
            started = time.perf_counter()
            rebuilt = holder.read()
            rebuilds.append(milliseconds_since(started))
            started = time.perf_counter()
            served = other.read()
            first_hits.append(milliseconds_since(started))
            assert isinstance(rebuilt, Served), rebuilt
            assert rebuilt.source is Source.MISS, rebuilt
            assert isinstance(served, Served), served
            assert served.source is Source.HIT, served
            rows = [new.get(row.player, row) for row in rows]
            assert served.board.digest == rebuilt.board.digest == Board.of(rows).digest
            # A handler lets go of its answer once the request is answered: a board still held
            # when its container patches would cost that container a copy of the ranking.
            del served, rebuilt
        print(f"lease holder's rebuild: p50 {statistics.median(rebuilds):.1f} ms")
        print(f"another container's first hit: p50 {statistics.median(first_hits):.1f} ms")
    finally:
        memcached.stop()
        dynamodb.stop()


if __name__ == "__main__":
    main()
