"""The two tables as CreateTable requests: the local twin of modules/table (tests prove it)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient

STREAM = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
STATS_READ_CAPACITY = 1
STATS_WRITE_CAPACITY = 5


@dataclass(frozen=True)
class TableNames:
    games: str = "tatourney-games"
    stats: str = "tatourney-stats"


def games_table(name: str) -> dict[str, Any]:
    """One item per player per game, keyed so one player's games share a stream shard, in order."""
    return {
        "TableName": name,
        "AttributeDefinitions": [
            {"AttributeName": "player", "AttributeType": "S"},
            {"AttributeName": "game", "AttributeType": "N"},
        ],
        "KeySchema": [
            {"AttributeName": "player", "KeyType": "HASH"},
            {"AttributeName": "game", "KeyType": "RANGE"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": STREAM,
    }


def stats_table(name: str) -> dict[str, Any]:
    """One row per player; provisioned at 1 read unit, the constraint the cache exists for."""
    return {
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": "player", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "player", "KeyType": "HASH"}],
        "BillingMode": "PROVISIONED",
        "ProvisionedThroughput": {
            "ReadCapacityUnits": STATS_READ_CAPACITY,
            "WriteCapacityUnits": STATS_WRITE_CAPACITY,
        },
        "StreamSpecification": STREAM,
    }


def create_tables(client: DynamoDBClient, names: TableNames, timeout: float = 30.0) -> None:
    """Create both tables (if absent) and wait until they are ACTIVE."""
    existing = set(client.list_tables()["TableNames"])
    for request in (games_table(names.games), stats_table(names.stats)):
        if request["TableName"] not in existing:
            client.create_table(**request)
    deadline = time.monotonic() + timeout
    for name in (names.games, names.stats):
        while client.describe_table(TableName=name)["Table"]["TableStatus"] != "ACTIVE":
            if time.monotonic() > deadline:
                raise TimeoutError(f"table {name} not ACTIVE after {timeout:.0f}s")
            time.sleep(0.1)
