"""DynamoDB access: clients with bounded retries, and the leaderboard's one read (a Scan)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeDeserializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient

THROTTLING_CODES = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)
_deserialize = TypeDeserializer().deserialize


class TableUnavailable(Exception):
    """The table could not be read after the SDK's bounded retries."""

    def __init__(self, message: str, *, throttled: bool) -> None:
        super().__init__(message)
        self.throttled = throttled


def dynamodb_client(max_attempts: int) -> DynamoDBClient:
    """A DynamoDB client whose retries are bounded: standard mode backs off on throttling and
    gives up after `max_attempts` in all, so a throttled table costs a request seconds, not forever.
    The endpoint comes from AWS_ENDPOINT_URL when a local stack sets it (boto3 reads it itself)."""
    config = Config(
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        connect_timeout=2,
        read_timeout=5,
    )
    return boto3.client("dynamodb", config=config)


@dataclass(frozen=True)
class StatsRow:
    player: str
    games: int
    wins: int
    total_score: int


@dataclass(frozen=True)
class ScanResult:
    rows: list[StatsRow]
    consumed_read_units: float


class StatsTable:
    """Reads every player's row: a paginated, eventually consistent Scan of four attributes."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table_name = table_name

    def scan(self) -> ScanResult:
        rows: list[StatsRow] = []
        consumed = 0.0
        pages = self._client.get_paginator("scan").paginate(
            TableName=self._table_name,
            ProjectionExpression="#player, #games, #wins, #total_score",
            ExpressionAttributeNames={
                "#player": "player",
                "#games": "games",
                "#wins": "wins",
                "#total_score": "total_score",
            },
            ConsistentRead=False,  # half the read units; the stream invalidation bounds staleness
            ReturnConsumedCapacity="TOTAL",
        )
        try:
            for page in pages:
                rows.extend(_row(item) for item in page.get("Items", []))
                consumed += page.get("ConsumedCapacity", {}).get("CapacityUnits", 0.0)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            raise TableUnavailable(
                f"scan {self._table_name}: {code}", throttled=code in THROTTLING_CODES
            ) from error
        except BotoCoreError as error:
            raise TableUnavailable(f"scan {self._table_name}: {error}", throttled=False) from error
        return ScanResult(rows, consumed)


def _row(item: dict[str, Any]) -> StatsRow:
    values = {name: _deserialize(value) for name, value in item.items()}
    return StatsRow(
        player=str(values["player"]),
        games=int(values.get("games", 0)),
        wins=int(values.get("wins", 0)),
        total_score=int(values.get("total_score", 0)),
    )
