"""DynamoDB access: clients with bounded retries, and the leaderboard's reads of the stats table:
Scan pages (four attributes, resumable from a cursor) and BatchGetItem of named players,
eventually consistent unless asked otherwise (rebuild.py says when a read must be consistent).

boto3 and botocore are imported when the table is first read, not with this module: a hit never
reads the table, and importing boto3 costs a cold start more than everything else it does.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_dynamodb.type_defs import KeysAndAttributesTypeDef

THROTTLING_CODES = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)
BATCH_GET_LIMIT = 100  # keys per BatchGetItem request (DynamoDB's limit)
UNPROCESSED_ATTEMPTS = 3  # rounds for keys DynamoDB left unprocessed (it throttled them)
UNPROCESSED_BACKOFF_SECONDS = 0.05
ATTRIBUTES = {"#player": "player", "#games": "games", "#wins": "wins", "#total": "total_score"}
PROJECTION = "#player, #games, #wins, #total"

Cursor = dict[str, Any]  # a Scan's LastEvaluatedKey / ExclusiveStartKey, as DynamoDB JSON
logger = logging.getLogger(__name__)


class TableUnavailable(Exception):
    """The table could not be read after the SDK's bounded retries."""

    def __init__(self, message: str, *, throttled: bool) -> None:
        super().__init__(message)
        self.throttled = throttled


def dynamodb_client(max_attempts: int, environment: Mapping[str, str]) -> DynamoDBClient:
    """A DynamoDB client whose retries are bounded: standard mode backs off on throttling and
    gives up after `max_attempts` in all, so a throttled table costs a request seconds, not forever.

    Region, credentials and endpoint (AWS_ENDPOINT_URL, set by local stacks) come from
    `environment`: the function's environment as its cold start read it (the client may be made
    later, on the first read of the table). Those it lacks come from boto3's own chain."""
    import boto3  # noqa: PLC0415 - on the first read of the table (module docstring)
    from botocore.config import Config  # noqa: PLC0415

    config = Config(
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        connect_timeout=2,
        read_timeout=5,
    )
    return boto3.client(
        "dynamodb",
        config=config,
        region_name=environment.get("AWS_REGION") or environment.get("AWS_DEFAULT_REGION"),
        endpoint_url=environment.get("AWS_ENDPOINT_URL"),
        aws_access_key_id=environment.get("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=environment.get("AWS_SECRET_ACCESS_KEY"),
        aws_session_token=environment.get("AWS_SESSION_TOKEN"),
    )


@dataclass(frozen=True)
class StatsRow:
    player: str
    games: int
    wins: int
    total_score: int


@dataclass(frozen=True)
class ScanPage:
    rows: list[StatsRow]
    cursor: Cursor | None  # where the next page starts; None after the last page
    consumed_read_units: float
    requests: int = 1  # Scan requests it took (scan(): one a page)


@dataclass(frozen=True)
class Players:
    rows: list[StatsRow]  # the players found; an absent player has no row (removed)
    consumed_read_units: float


class StatsTable:
    """The reads a leaderboard makes of the stats table: eventually consistent by default (half
    the read units), strongly consistent when `consistent` (what was read is checked against the
    change log, and only the players found behind are read again consistently)."""

    def __init__(self, connect: Callable[[], DynamoDBClient], table_name: str) -> None:
        self._connect = connect  # called once, on the first read
        self._table_name = table_name

    @functools.cached_property
    def _client(self) -> DynamoDBClient:
        return self._connect()

    def scan_page(
        self, start: Cursor | None, limit: int | None = None, consistent: bool = False
    ) -> ScanPage:
        """One Scan page from `start` (None: the table's start), of at most `limit` items."""
        request: dict[str, Any] = {
            "TableName": self._table_name,
            "ProjectionExpression": PROJECTION,
            "ExpressionAttributeNames": ATTRIBUTES,
            "ConsistentRead": consistent,
            "ReturnConsumedCapacity": "TOTAL",
        }
        if start is not None:
            request["ExclusiveStartKey"] = start
        if limit is not None:
            request["Limit"] = limit
        with self._errors("scan"):
            page = self._client.scan(**request)
        return ScanPage(
            _rows(page.get("Items", [])),
            page.get("LastEvaluatedKey"),
            _units(page.get("ConsumedCapacity")),
        )

    def scan(self, consistent: bool = False) -> ScanPage:
        """Every row: the Scan read to its end (the cursor of the result is None)."""
        rows: list[StatsRow] = []
        consumed = 0.0
        requests = 0
        cursor: Cursor | None = None
        while True:
            page = self.scan_page(cursor, consistent=consistent)
            rows.extend(page.rows)
            consumed += page.consumed_read_units
            requests += 1
            cursor = page.cursor
            if cursor is None:
                return ScanPage(rows, None, consumed, requests)

    def get_players(self, players: Collection[str], consistent: bool = False) -> Players:
        """The rows of `players` (BatchGetItem, 100 keys a request); absent players are left out.
        Keys DynamoDB leaves unprocessed (its partial answer under throttling) are asked again."""
        rows: list[StatsRow] = []
        consumed = 0.0
        names = sorted(players)
        for start in range(0, len(names), BATCH_GET_LIMIT):
            keys = [{"player": {"S": name}} for name in names[start : start + BATCH_GET_LIMIT]]
            request: KeysAndAttributesTypeDef = {
                "Keys": keys,
                "ProjectionExpression": PROJECTION,
                "ExpressionAttributeNames": ATTRIBUTES,
                "ConsistentRead": consistent,
            }
            for attempt in range(UNPROCESSED_ATTEMPTS):
                with self._errors("batch_get_item"):
                    answer = self._client.batch_get_item(
                        RequestItems={self._table_name: request}, ReturnConsumedCapacity="TOTAL"
                    )
                rows.extend(_rows(answer["Responses"].get(self._table_name, [])))
                consumed += sum(_units(c) for c in answer.get("ConsumedCapacity", []))
                unprocessed = answer.get("UnprocessedKeys", {}).get(self._table_name)
                if not unprocessed:
                    break
                request = cast("KeysAndAttributesTypeDef", unprocessed)
                time.sleep(UNPROCESSED_BACKOFF_SECONDS * 2**attempt)
            else:
                raise TableUnavailable(
                    f"batch_get_item {self._table_name}: keys left unprocessed", throttled=True
                )
        return Players(rows, consumed)

    @contextmanager
    def _errors(self, operation: str) -> Iterator[None]:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - see above

        try:
            yield
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            raise TableUnavailable(
                f"{operation} {self._table_name}: {code}", throttled=code in THROTTLING_CODES
            ) from error
        except BotoCoreError as error:
            raise TableUnavailable(
                f"{operation} {self._table_name}: {error}", throttled=False
            ) from error


def _units(consumed: Any) -> float:
    return float((consumed or {}).get("CapacityUnits", 0.0))


@functools.cache
def _deserializer() -> Callable[[Any], Any]:
    from boto3.dynamodb.types import TypeDeserializer  # noqa: PLC0415 - see the module docstring

    return TypeDeserializer().deserialize


def row_of(values: Mapping[str, Any]) -> StatsRow | None:
    """The stats row of an item's deserialised attributes (a Scan's, or a stream record's
    image); None when it is not one (written by hand, say): the board leaves it out."""
    try:
        counts = [values.get(name, 0) for name in ("games", "wins", "total_score")]
        if not isinstance(values["player"], str) or any(
            isinstance(count, bool) or int(count) != count or count < 0 for count in counts
        ):
            return None
        return StatsRow(values["player"], *(int(count) for count in counts))
    except (KeyError, TypeError, ValueError, ArithmeticError):
        return None


def _rows(items: list[dict[str, Any]]) -> list[StatsRow]:
    """The items as rows; an item that is not a stats row is left out, logged."""
    _deserialize = _deserializer()
    rows = []
    for item in items:
        try:
            row = row_of({name: _deserialize(value) for name, value in item.items()})
        except (TypeError, ValueError, ArithmeticError):
            row = None
        if row is None:
            logger.warning("stats item left out of the board", extra={"item": repr(item)[:200]})
        else:
            rows.append(row)
    return rows
