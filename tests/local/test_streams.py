"""The stream poller against real streams (DynamoDB Local's and LocalStack's), with a recording
fake function: batch size and window, filter criteria, partial batch responses, bisection,
bounded retries, the failure log, and shards that appear while it runs."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

from tatourney_local.streams import FailureLog, MappingSettings, StreamMapping, inserts_only
from tatourney_local.tables import TableNames
from tests.local.conftest import wait_until
from tests.support import LocalAws

# Every test here reads real streams: DynamoDB Local's, and LocalStack's (conftest.py).
pytestmark = pytest.mark.localstack

# Given the batch and how many batches the function has had (this one included).
Answer = Callable[[list[dict[str, Any]], int], Any]


def game_of(record: dict[str, Any]) -> int:
    return int(record["dynamodb"]["Keys"]["game"]["N"])


class FakeFunction:
    """Records every batch it is given (as game numbers) and answers with `answer(records)`."""

    def __init__(self, answer: Answer = lambda records, calls: None) -> None:
        self.answer = answer
        self.batches: list[list[int]] = []
        self.events: list[dict[str, Any]] = []
        self.times: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any]) -> Any:
        with self._lock:
            self.events.append(event)
            self.batches.append([game_of(record) for record in event["Records"]])
            self.times.append(time.monotonic())
            calls = len(self.batches)
        return self.answer(event["Records"], calls)

    def delivered(self) -> list[int]:
        return [game for batch in self.batches for game in batch]


def fails_when(game: int) -> Answer:
    """A function error whenever the batch holds `game`."""

    def answer(records: list[dict[str, Any]], calls: int) -> None:
        if game in [game_of(record) for record in records]:
            raise RuntimeError(f"game {game} cannot be processed")

    return answer


def put_games(aws: LocalAws, table: str, games: range) -> None:
    for game in games:
        aws.client.put_item(
            TableName=table, Item={"player": {"S": "Tia"}, "game": {"N": str(game)}}
        )


def stream_arn(aws: LocalAws, table: str) -> str:
    return aws.client.describe_table(TableName=table)["Table"]["LatestStreamArn"]


@pytest.fixture
def failure_log(tmp_path: Path) -> FailureLog:
    return FailureLog(tmp_path / "failures.jsonl")


@pytest.fixture
def start_mapping(
    aws: LocalAws, tables: TableNames, failure_log: FailureLog
) -> Iterator[Callable[..., StreamMapping]]:
    """Start a mapping on this test's games stream: AWS's settings, but fast polls and backoff."""
    started: list[StreamMapping] = []

    def start(function: FakeFunction, streams: Any = None, **settings: Any) -> StreamMapping:
        settings = {
            "poll_interval_seconds": 0.05,
            "retry_backoff_seconds": 0.01,
            "discovery_interval_seconds": 0.2,
            **settings,
        }
        mapping = StreamMapping(
            streams or aws.streams,
            stream_arn(aws, tables.games),
            function,
            settings=MappingSettings(function_name="fake", **settings),
            failure_log=failure_log,
        )
        mapping.start()
        started.append(mapping)
        return mapping

    yield start
    for mapping in started:
        mapping.stop()


def test_batches_hold_at_most_batch_size_records_in_order_as_lambda_delivers_them(
    aws: LocalAws, tables: TableNames, start_mapping: Callable[..., StreamMapping]
) -> None:
    put_games(aws, tables.games, range(7))
    function = FakeFunction()
    start_mapping(function, batch_size=3)

    wait_until(lambda: len(function.delivered()) >= 7)
    assert function.batches == [[0, 1, 2], [3, 4, 5], [6]]

    event = function.events[0]
    json.dumps(event)  # JSON types only, as Lambda delivers it
    record = event["Records"][0]
    assert record["eventSource"] == "aws:dynamodb"
    assert record["eventName"] == "INSERT"
    assert record["eventSourceARN"] == stream_arn(aws, tables.games)
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
    parsed = next(DynamoDBStreamEvent(event).records)
    assert parsed.dynamodb is not None
    assert parsed.dynamodb.new_image == {"player": "Tia", "game": Decimal(0)}
    assert parsed.dynamodb.sequence_number == record["dynamodb"]["SequenceNumber"]


def test_binary_values_are_delivered_in_base64_as_lambda_does(
    aws: LocalAws, tables: TableNames, start_mapping: Callable[..., StreamMapping]
) -> None:
    aws.client.put_item(
        TableName=tables.games,
        Item={
            "player": {"S": "Tia"},
            "game": {"N": "0"},
            "photo": {"B": b"\x89PNG\xff"},
            "thumbnails": {"BS": [b"\x00", b"\xff"]},
        },
    )
    put_games(aws, tables.games, range(1, 2))
    function = FakeFunction()
    start_mapping(function)

    wait_until(lambda: len(function.delivered()) >= 2)
    assert function.delivered() == [0, 1]
    image = function.events[0]["Records"][0]["dynamodb"]["NewImage"]
    assert image["photo"] == {"B": "iVBOR/8="}
    assert sorted(image["thumbnails"]["BS"]) == ["/w==", "AA=="]


def test_batching_window_gathers_records_until_it_passes(
    aws: LocalAws, tables: TableNames, start_mapping: Callable[..., StreamMapping]
) -> None:
    window = 3.0
    function = FakeFunction()
    start_mapping(function, batch_size=100, batching_window_seconds=window)

    written = time.monotonic()
    put_games(aws, tables.games, range(3))
    wait_until(lambda: len(function.delivered()) >= 3)

    assert function.batches == [[0, 1, 2]]
    assert function.times[0] - written >= window - 0.05


def test_a_full_batch_is_delivered_without_waiting_for_the_window(
    aws: LocalAws, tables: TableNames, start_mapping: Callable[..., StreamMapping]
) -> None:
    function = FakeFunction()
    start_mapping(function, batch_size=2, batching_window_seconds=300)

    written = time.monotonic()
    put_games(aws, tables.games, range(2))
    wait_until(lambda: len(function.delivered()) >= 2)

    assert function.batches == [[0, 1]]
    assert function.times[0] - written < 60


def test_filter_criteria_pass_only_inserts(
    aws: LocalAws, tables: TableNames, start_mapping: Callable[..., StreamMapping]
) -> None:
    put_games(aws, tables.games, range(2))
    key = {"player": {"S": "Tia"}, "game": {"N": "0"}}
    aws.client.update_item(
        TableName=tables.games,
        Key=key,
        UpdateExpression="SET aggregated_at = :now",
        ExpressionAttributeValues={":now": {"S": "2026-11-22T11:30:00Z"}},
    )
    aws.client.delete_item(TableName=tables.games, Key=key)
    put_games(aws, tables.games, range(2, 3))
    inserts, everything = FakeFunction(), FakeFunction()
    start_mapping(inserts, record_filter=inserts_only)
    start_mapping(everything)

    wait_until(lambda: len(everything.delivered()) >= 5)
    wait_until(lambda: len(inserts.delivered()) >= 3)
    assert [r["eventName"] for e in everything.events for r in e["Records"]] == [
        "INSERT",
        "INSERT",
        "MODIFY",
        "REMOVE",
        "INSERT",
    ]
    assert inserts.delivered() == [0, 1, 2]
    assert {r["eventName"] for e in inserts.events for r in e["Records"]} == {"INSERT"}


def test_batch_item_failures_retry_from_the_lowest_failed_sequence_number(
    aws: LocalAws, tables: TableNames, start_mapping: Callable[..., StreamMapping]
) -> None:
    put_games(aws, tables.games, range(5))

    def answer(records: list[dict[str, Any]], calls: int) -> dict[str, Any]:
        if calls > 1:
            return {"batchItemFailures": []}
        by_game = {game_of(r): r["dynamodb"]["SequenceNumber"] for r in records}
        # Reported out of order: the mapping must start again from the lowest.
        return {"batchItemFailures": [{"itemIdentifier": by_game[g]} for g in (3, 1)]}

    function = FakeFunction(answer)
    start_mapping(function, batch_size=5)

    wait_until(lambda: len(function.batches) >= 2)
    put_games(aws, tables.games, range(5, 6))  # the shard moves on after the retry succeeds
    wait_until(lambda: 5 in function.delivered())
    assert function.batches == [[0, 1, 2, 3, 4], [1, 2, 3, 4], [5]]


@pytest.mark.parametrize(
    "failure",
    [{"itemIdentifier": ""}, {"itemIdentifier": None}, {"itemIdentifier": "999999"}, {"id": "1"}],
)
def test_a_batch_item_failure_naming_no_record_fails_the_whole_batch(
    aws: LocalAws,
    tables: TableNames,
    start_mapping: Callable[..., StreamMapping],
    failure: dict[str, Any],
) -> None:
    put_games(aws, tables.games, range(3))
    function = FakeFunction(
        lambda records, calls: {"batchItemFailures": [failure] if calls == 1 else []}
    )
    start_mapping(function, batch_size=10)

    wait_until(lambda: len(function.batches) >= 2)
    assert function.batches[:2] == [[0, 1, 2], [0, 1, 2]]


def test_a_function_error_is_bisected_down_to_the_bad_record_which_is_discarded(
    aws: LocalAws,
    tables: TableNames,
    start_mapping: Callable[..., StreamMapping],
    failure_log: FailureLog,
) -> None:
    put_games(aws, tables.games, range(4))
    function = FakeFunction(fails_when(2))
    start_mapping(function, batch_size=4, bisect_on_error=True, maximum_retry_attempts=1)

    # Game 3 is first delivered inside [2, 3]: wait for its batch of its own, the last one.
    wait_until(lambda: [3] in function.batches)
    # Splitting uses no retry; the single bad record gets its one retry, then is discarded.
    assert function.batches == [[0, 1, 2, 3], [0, 1], [2, 3], [2], [2], [3]]
    [entry] = failure_log.entries()
    assert entry["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert entry["requestContext"]["approximateInvokeCount"] == 2
    assert [game_of(r) for r in entry["records"]] == [2]
    info = entry["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"]
    assert info["streamArn"] == stream_arn(aws, tables.games)


def test_without_bisect_a_failing_batch_is_retried_a_bounded_number_of_times_then_discarded(
    aws: LocalAws,
    tables: TableNames,
    start_mapping: Callable[..., StreamMapping],
    failure_log: FailureLog,
) -> None:
    put_games(aws, tables.games, range(3))
    function = FakeFunction(fails_when(1))
    start_mapping(function, batch_size=3, maximum_retry_attempts=2)

    wait_until(lambda: len(failure_log.entries()) == 1)
    put_games(aws, tables.games, range(3, 4))
    wait_until(lambda: 3 in function.delivered())

    assert function.batches == [[0, 1, 2]] * 3 + [[3]]
    [entry] = failure_log.entries()
    assert entry["requestContext"]["approximateInvokeCount"] == 3
    assert [game_of(r) for r in entry["records"]] == [0, 1, 2]
    sequences = [r["dynamodb"]["SequenceNumber"] for r in entry["records"]]
    assert entry["DDBStreamBatchInfo"]["startSequenceNumber"] == sequences[0]
    assert entry["DDBStreamBatchInfo"]["endSequenceNumber"] == sequences[-1]


def test_records_older_than_the_maximum_record_age_are_discarded_unprocessed(
    aws: LocalAws,
    tables: TableNames,
    start_mapping: Callable[..., StreamMapping],
    failure_log: FailureLog,
) -> None:
    put_games(aws, tables.games, range(2))
    function = FakeFunction()
    # Zero seconds: every record is already too old (DynamoDB Local stamps them to the minute).
    start_mapping(function, maximum_record_age_seconds=0)

    wait_until(lambda: len(failure_log.entries()) == 1)
    [entry] = failure_log.entries()
    assert entry["requestContext"]["condition"] == "RecordAgeExceeded"
    assert [game_of(r) for r in entry["records"]] == [0, 1]
    assert function.batches == []


class StitchedStreams:
    """The real streams client, presenting a table's successive streams as one stream whose
    shards descend from each other (lineage injected: DynamoDB Local never splits a shard)."""

    def __init__(self, aws: LocalAws, first_arn: str) -> None:
        self._streams = aws.streams
        self._arns = [first_arn]
        self._owner: dict[str, str] = {}

    def add_stream(self, arn: str) -> None:
        self._arns.append(arn)

    def describe_stream(self, StreamArn: str, **_: Any) -> dict[str, Any]:
        shards: list[dict[str, Any]] = []
        for arn in self._arns:
            described = self._streams.describe_stream(StreamArn=arn)["StreamDescription"]
            for shard in described["Shards"]:
                parent = {"ParentShardId": shards[-1]["ShardId"]} if shards else {}
                self._owner[shard["ShardId"]] = arn
                shards.append({**shard, **parent})
        return {"StreamDescription": {"StreamArn": StreamArn, "Shards": shards}}

    def get_shard_iterator(self, StreamArn: str, ShardId: str, **request: Any) -> Any:
        return self._streams.get_shard_iterator(
            StreamArn=self._owner[ShardId], ShardId=ShardId, **request
        )

    def get_records(self, **request: Any) -> Any:
        return self._streams.get_records(**request)


def renew_stream(aws: LocalAws, table: str) -> str:
    """Close the table's stream (its shard ends) and open a new one; the new stream's ARN."""
    old = stream_arn(aws, table)
    aws.client.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})
    aws.client.update_table(
        TableName=table,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    wait_until(lambda: stream_arn(aws, table) != old)
    return stream_arn(aws, table)


def test_child_shards_are_read_after_their_parent_and_new_shards_are_picked_up_lineage_injected(
    aws: LocalAws, tables: TableNames, start_mapping: Callable[..., StreamMapping]
) -> None:
    streams = StitchedStreams(aws, stream_arn(aws, tables.games))
    put_games(aws, tables.games, range(3))
    streams.add_stream(renew_stream(aws, tables.games))
    put_games(aws, tables.games, range(3, 5))
    function = FakeFunction()
    mapping = start_mapping(function, streams=streams, batch_size=2)

    wait_until(lambda: len(function.delivered()) >= 5)
    # The parent (closed) is read to its end before its child starts, whatever the timing.
    assert function.batches == [[0, 1], [2], [3, 4]]

    streams.add_stream(renew_stream(aws, tables.games))
    put_games(aws, tables.games, range(5, 7))
    wait_until(lambda: len(function.delivered()) >= 7)
    assert function.delivered() == list(range(7))
    assert len(mapping.shard_ids) == 3


def test_the_iterator_age_is_how_long_a_record_waited_since_it_was_read(
    aws: LocalAws, tables: TableNames, start_mapping: Callable[..., StreamMapping]
) -> None:
    def fails_twice(records: list[dict[str, Any]], calls: int) -> None:
        if calls <= 2:
            raise RuntimeError("not yet")

    function = FakeFunction(fails_twice)
    mapping = start_mapping(function, retry_backoff_seconds=0.3)
    put_games(aws, tables.games, range(1))

    wait_until(lambda: len(function.batches) == 3)  # two failures, then the handover
    wait_until(lambda: mapping._read_at == {})  # handled: no longer waiting
    # The newest record had waited from its read until the third attempt: about the time
    # between the first and third attempts (two backoffs, 0.3 s and 0.6 s), give or take the
    # moment from its read to the first attempt (seconds at most, however slow the machine); a
    # creation time rounded to the minute (what DynamoDB Local reports) would be off by up to 60 s.
    assert len(function.batches) == 3
    between_attempts_ms = (function.times[2] - function.times[0]) * 1000
    assert between_attempts_ms >= 900
    assert abs(mapping.iterator_ages_ms.maximum() - between_attempts_ms) < 5000
