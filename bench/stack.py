"""The benchmark's stack: memcached and DynamoDB Local on loopback, the stats table grown to N
players of about 300 bytes, and games played whose stats stream records come back as the Lambda
events an event source mapping would deliver."""

from __future__ import annotations

import json
import os
import random
import statistics
import string
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3

from bench.capacity import ProvisionedCapacity
from tatourney.aggregation import Game, StatsWriter
from tatourney_local.services import DynamoDBLocal, Memcached, lambda_environment, local_services
from tatourney_local.simulator import record_game
from tatourney_local.tables import TableNames, create_tables

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_dynamodbstreams import DynamoDBStreamsClient

TABLES = TableNames(games="bench-games", stats="bench-stats")
KEY_PREFIX = "bench"
# The original padded each stats item with 250 junk bytes, making items of about 300 bytes.
PADDING_BYTES = 250
BATCH_WRITE_ITEMS = 25  # DynamoDB's limit per BatchWriteItem
# The player who wins every game the benchmark plays: wins no generated player reaches, so the
# row is first on the default page, where a read can see each change.
CHAMPION = "player-00000"
CHAMPION_WINS_FROM = 100_000
CHAMPION_SCORE, OPPONENT_SCORE = 990, 10
RECORDS_PER_GAME = 2  # a game changes two stats rows, each one stream record
# memcached's item size limit: the default (1 MiB) holds the encoded board of 10,000 players; the
# Terraform variable cache_max_item_size_bytes sets the same on ElastiCache.
DEFAULT_ITEM_BYTES = 1 << 20
PROMPT_MS = 25.0


def player_name(index: int) -> str:
    return f"player-{index:05d}"


def player_item(index: int) -> dict[str, Any]:
    """A stats row as the aggregate function leaves it, plus the original's junk padding; the
    first is the champion's."""
    rng = random.Random(index)
    games = CHAMPION_WINS_FROM if index == 0 else rng.randint(1, 40)
    wins = CHAMPION_WINS_FROM if index == 0 else rng.randint(0, games)
    return {
        "player": {"S": player_name(index)},
        "games": {"N": str(games)},
        "wins": {"N": str(wins)},
        "total_score": {"N": str(rng.randint(0, 1000 * games))},
        "updated_at": {"S": "2026-11-22T11:30:00.000+00:00"},
        "padding": {"S": "".join(rng.choices(string.ascii_letters, k=PADDING_BYTES))},
    }


def item_bytes(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute names plus values (numbers counted as their digits)."""
    return sum(len(name) + len(next(iter(value.values()))) for name, value in item.items())


@dataclass
class Stack:
    memcached: Memcached
    dynamodb: DynamoDBLocal
    capacity: ProvisionedCapacity
    admin: DynamoDBClient
    streams: DynamoDBStreamsClient
    players: int = 0
    load_seconds: dict[int, float] = field(default_factory=dict)
    # What settle() calls prompt: DynamoDB Local's shared database answers even a one-item Scan
    # of a small table more slowly as the stats table grows (about 57 ms at 100,000 players).
    prompt_ms: float = PROMPT_MS

    def grow_to(self, players: int) -> None:
        """Add players until the table holds `players` rows (BatchWriteItem, 25 at a time)."""
        started = time.perf_counter()
        pending: list[Any] = [
            {"PutRequest": {"Item": player_item(i)}} for i in range(self.players, players)
        ]
        while pending:
            batch, pending = pending[:BATCH_WRITE_ITEMS], pending[BATCH_WRITE_ITEMS:]
            unprocessed = self.admin.batch_write_item(RequestItems={TABLES.stats: batch})
            pending += unprocessed.get("UnprocessedItems", {}).get(TABLES.stats, [])
        self.load_seconds[players] = time.perf_counter() - started
        self.players = players
        idle_ms = statistics.median(self._probe_ms() for _ in range(5))  # nothing else runs yet
        self.prompt_ms = max(PROMPT_MS, 2 * idle_ms)

    def _probe_ms(self) -> float:
        started = time.perf_counter()
        self.admin.scan(TableName=TABLES.games, Limit=1)  # not the metered stats table
        return (time.perf_counter() - started) * 1000

    def settle(self, timeout: float = 120.0) -> None:
        """Wait until DynamoDB Local answers promptly again (within twice its idle time, at
        least PROMPT_MS): scans that timed-out readers abandoned keep it busy after their
        clients gave up, and would slow the next measure."""
        deadline = time.monotonic() + timeout
        prompt_in_a_row = 0
        while prompt_in_a_row < 3 and time.monotonic() < deadline:
            prompt = self._probe_ms() < self.prompt_ms
            prompt_in_a_row = prompt_in_a_row + 1 if prompt else 0


@contextmanager
def bench_stack(item_size_bytes: int = DEFAULT_ITEM_BYTES) -> Iterator[Stack]:
    """The services and empty tables; the functions' environment points at them, with memcached's
    item limit (`-I`) and CACHE_ITEM_LIMIT_BYTES both `item_size_bytes`."""
    capacity = ProvisionedCapacity(TABLES.stats)
    # Before any client exists: clients copy the session's hooks when they are created.
    boto3.DEFAULT_SESSION = session = boto3.Session()
    capacity.install(session.events)
    with local_services(memory_mb=256, item_size_bytes=item_size_bytes) as (memcached, dynamodb):
        endpoints = memcached.endpoint, dynamodb.endpoint_url
        os.environ.update(lambda_environment(*endpoints, TABLES.games, TABLES.stats))
        os.environ["CACHE_KEY_PREFIX"] = KEY_PREFIX
        os.environ["CACHE_ITEM_LIMIT_BYTES"] = str(item_size_bytes)
        admin = dynamodb.client()
        create_tables(admin, TABLES)
        yield Stack(memcached, dynamodb, capacity, admin, dynamodb.streams_client())


@dataclass(frozen=True)
class Change:
    """A visible change: the champion's wins at a value no earlier board showed."""

    wins: int

    def shown_in(self, body: str) -> bool:
        """Whether a GET /stats body (the JSON of the default page) already shows this change."""
        return self.among(json.loads(body).get("players", []))

    def among(self, players: list[dict[str, Any]]) -> bool:
        return any(p["player"] == CHAMPION and p["wins"] == self.wins for p in players)


class Changes:
    """Plays games (the champion beats the next opponent in turn) and reads their stats stream
    records back, in order.

    A game is written as the site's writers write it: both players' items into the games table
    in one transaction (the simulator's `record_game`), then each folded into its player's stats
    row by the aggregate function's own StatsWriter, so a change is two stats rows and two stream
    records, as in production.
    """

    def __init__(self, stack: Stack) -> None:
        self._stack = stack
        self._writer = StatsWriter(stack.admin, TABLES.games, TABLES.stats)
        self._tail = StreamTail(stack.admin, stack.streams, TABLES.stats)
        self._played = 0

    def follow_from_now(self) -> None:
        """Pass over the stream records written so far (a table load, say)."""
        self._tail = StreamTail(self._stack.admin, self._stack.streams, TABLES.stats)

    def write(self) -> Change:
        self._played += 1
        opponent = player_name(1 + (self._played - 1) % (self._stack.players - 1))
        scores = {CHAMPION: CHAMPION_SCORE, opponent: OPPONENT_SCORE}
        record_game(self._stack.admin, TABLES.games, self._played, scores)
        for player, score in scores.items():
            self._writer.apply(Game(player, self._played, score, winner=player == CHAMPION))
        return Change(CHAMPION_WINS_FROM + self._played)

    def next_event(self) -> dict[str, Any]:
        """The stream batch of the last game: both its records, as one Lambda event."""
        return self._tail.next_event(RECORDS_PER_GAME)


class StreamTail:
    """A table's stream from now on, batch by batch, as Lambda events: what an event source
    mapping at LATEST delivers (polled as fast as DynamoDB Local answers, not 4 times a second)."""

    def __init__(self, admin: DynamoDBClient, streams: DynamoDBStreamsClient, table: str) -> None:
        self._streams = streams
        self._arn = admin.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        shards = self._streams.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]
        self._shard = next(
            s["ShardId"] for s in shards if "EndingSequenceNumber" not in s["SequenceNumberRange"]
        )
        self._iterator = self._streams.get_shard_iterator(
            StreamArn=self._arn, ShardId=self._shard, ShardIteratorType="LATEST"
        )["ShardIterator"]

    def next_event(self, records: int, timeout: float = 10.0) -> dict[str, Any]:
        """The next `records` records (or more, if more are there) as one batch."""
        deadline = time.monotonic() + timeout
        batch: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            page = self._streams.get_records(ShardIterator=self._iterator, Limit=1000)
            self._iterator = page.get("NextShardIterator") or self._child_iterator()
            batch += [_lambda_record(record, self._arn) for record in page["Records"]]
            if len(batch) >= records:
                return {"Records": batch}
            time.sleep(0.002)
        raise TimeoutError(f"{len(batch)} of {records} stream records within {timeout:.0f}s")

    def _child_iterator(self) -> str:
        """The shard that follows a closed one (DynamoDB rolls shards over every few hours)."""
        shards = self._streams.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]
        self._shard = next(s["ShardId"] for s in shards if s.get("ParentShardId") == self._shard)
        return self._streams.get_shard_iterator(
            StreamArn=self._arn, ShardId=self._shard, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]


def _lambda_record(record: Any, arn: str) -> dict[str, Any]:
    """A stream record as Lambda delivers it: JSON types only, with its source ARN."""
    jsonable: dict[str, Any] = json.loads(json.dumps(record, default=_epoch_seconds))
    return {**jsonable, "eventSourceARN": arn}


def _epoch_seconds(value: Any) -> int:
    if isinstance(value, datetime):
        return int(value.timestamp())
    raise TypeError(f"{type(value).__name__} in a stream record")
