"""Test helpers: local clients, stats rows, and Lambda events read from the real stream."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from localstack_client.session import Session

from tatourney_local.lambdas import cold_start
from tatourney_local.services import dynamodb_client, streams_client
from tatourney_local.streams import as_delivered

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_dynamodbstreams import DynamoDBStreamsClient


@dataclass
class LocalAws:
    """A local DynamoDB endpoint (DynamoDB Local, or LocalStack) and clients for it. With
    `localstack`, localstack-client's session for LocalStack, the clients are that session's."""

    endpoint_url: str
    localstack: Session | None = None

    @cached_property
    def client(self) -> DynamoDBClient:
        if self.localstack is not None:
            client: DynamoDBClient = self.localstack.client("dynamodb")
            return client
        return dynamodb_client(self.endpoint_url)

    @cached_property
    def streams(self) -> DynamoDBStreamsClient:
        if self.localstack is not None:
            client: DynamoDBStreamsClient = self.localstack.client("dynamodbstreams")
            return client
        return streams_client(self.endpoint_url)

    def put_stats(self, table: str, rows: Iterable[tuple[str, int, int, int]]) -> None:
        """Write stats rows (player, games, wins, total_score) as an admin backfill would."""
        for player, games, wins, total in rows:
            self.client.put_item(
                TableName=table,
                Item={
                    "player": {"S": player},
                    "games": {"N": str(games)},
                    "wins": {"N": str(wins)},
                    "total_score": {"N": str(total)},
                },
            )

    def stream_event(self, table: str, after: str | None = None) -> dict[str, Any]:
        """Every record of the table's stream (after sequence number `after`) as a Lambda event."""
        arn = self.client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        records: list[dict[str, Any]] = []
        for shard in self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            iterator: str | None = self.streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            while iterator:
                page = self.streams.get_records(ShardIterator=iterator, Limit=1000)
                records.extend({**record, "eventSourceARN": arn} for record in page["Records"])
                if not page["Records"]:
                    break
                iterator = page.get("NextShardIterator")
        if after is not None:
            records = [r for r in records if int(r["dynamodb"]["SequenceNumber"]) > int(after)]
        # As Lambda delivers them: JSON types only.
        return {"Records": json.loads(json.dumps(records, default=as_delivered))}


EVENTS = Path(__file__).parent / "events"


@dataclass(frozen=True)
class FakeLambdaContext:
    """The attributes of Lambda's context object that Powertools reads."""

    function_name: str = "tatourney-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:tatourney-test"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"


def http_event(method: str = "GET", query: dict[str, str] | None = None) -> dict[str, Any]:
    """An API Gateway HTTP API (payload v2) request for /stats, as API Gateway sends it."""
    event: dict[str, Any] = json.loads((EVENTS / "http_api_get_stats.json").read_text())
    event["requestContext"]["http"]["method"] = method
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} /stats"
    if query:
        event["queryStringParameters"] = query
        event["rawQueryString"] = urlencode(query)
    return event


def load_handler(name: str) -> ModuleType:
    """Import a function's handler module afresh: a cold start with the current environment."""
    return cold_start(name, {})
