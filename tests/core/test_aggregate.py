"""The aggregate function against DynamoDB Local, with stream batches read from the real stream or
built in the same shape: games folded exactly once; records outside the bounds, or of no games
table at all, rejected to the failure destination with their reason, without holding back the
records behind them; and nothing lost when the destination itself cannot be written."""

from __future__ import annotations

import base64
import io
import itertools
import json
import re
import time
import unicodedata
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.config import Config
from hypothesis import HealthCheck, Phase, assume, event, given, settings
from hypothesis import strategies as st

from tatourney.aggregation import (
    GAME_NUMBER_MAX,
    PLAYER_MAX_CHARACTERS,
    SCORE_MAX,
    Game,
    InvalidGame,
)
from tatourney.rejections import (
    QUEUE_MESSAGE_LIMIT_BYTES,
    DestinationUnavailable,
    QueueDestination,
    Rejection,
)
from tatourney_local.services import free_port
from tatourney_local.stack import AGGREGATE_MAPPING
from tatourney_local.streams import FailureLog, StreamMapping, as_delivered
from tatourney_local.tables import TableNames
from tests.core.handler_io import CONTEXT, metrics_of
from tests.local.conftest import wait_until
from tests.support import LocalAws, load_handler

FOLDED: dict[str, list[Any]] = {"batchItemFailures": []}  # every record handled


def put_game(aws: LocalAws, table: str, game: int, player: str, score: int, winner: bool) -> None:
    aws.client.put_item(
        TableName=table,
        Item={
            "player": {"S": player},
            "game": {"N": str(game)},
            "date": {"S": "2026-11-22T11:30:00Z"},
            "score": {"N": str(score)},
            "winner": {"BOOL": winner},
        },
    )


def stats_of(aws: LocalAws, table: str) -> dict[str, tuple[int, int, int]]:
    items = aws.client.scan(TableName=table, ConsistentRead=True)["Items"]
    return {
        item["player"]["S"]: (
            int(item["games"]["N"]),
            int(item["wins"]["N"]),
            int(item["total_score"]["N"]),
        )
        for item in items
    }


def latest_sequence_number(aws: LocalAws, table: str) -> str | None:
    records = aws.stream_event(table)["Records"]
    return records[-1]["dynamodb"]["SequenceNumber"] if records else None


@pytest.fixture
def aggregate(lambda_env: dict[str, str]) -> ModuleType:
    """The aggregate function, cold-started with this test's environment."""
    return load_handler("aggregate")


@contextmanager
def function_log(function: ModuleType) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The function's JSON log lines while the block runs (read them with the yielded call)."""
    output = io.StringIO()
    previous = function.logger.registered_handler.setStream(output)
    try:
        yield lambda: [json.loads(line) for line in output.getvalue().splitlines()]
    finally:
        function.logger.registered_handler.setStream(previous)


def rejected_warnings(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line["message"] == "game rejected"]


def failure_messages(path: Path) -> list[dict[str, Any]]:
    return FailureLog(path).entries()


# The bounds, one value at a time ----------------------------------------------------------------

VALID_IMAGE = {
    "player": {"S": "Tia"},
    "game": {"N": "1"},
    "score": {"N": "600"},
    "winner": {"BOOL": True},
    "date": {"S": "2026-11-22T11:30:00Z"},
}


@pytest.mark.parametrize(
    ("attribute", "value", "folded_as"),
    [
        ("player", {"S": "T"}, "T"),
        ("player", {"S": "x" * PLAYER_MAX_CHARACTERS}, "x" * PLAYER_MAX_CHARACTERS),
        ("player", {"S": "\U0001f600" * PLAYER_MAX_CHARACTERS}, "\U0001f600" * 64),  # 256 bytes
        ("player", {"S": "Zoe\u0308 O'Brien-Smith"}, "Zoe\u0308 O'Brien-Smith"),  # a mark, no NFC
        ("player", {"S": "李小龍 №1 ★"}, "李小龍 №1 ★"),
        ("game", {"N": "0"}, 0),
        ("game", {"N": str(GAME_NUMBER_MAX)}, GAME_NUMBER_MAX),
        ("score", {"N": "0"}, 0),
        ("score", {"N": str(SCORE_MAX)}, SCORE_MAX),
        ("score", {"N": "00042"}, 42),
        ("winner", {"BOOL": False}, False),
    ],
)
def test_values_within_the_bounds_are_accepted(attribute: str, value: Any, folded_as: Any) -> None:
    game = Game.from_image({**VALID_IMAGE, attribute: value})
    assert getattr(game, attribute) == folded_as


@pytest.mark.parametrize(
    ("attribute", "value", "reason"),
    [
        ("player", {"S": ""}, "player must be 1 to 64 characters, got 0"),
        ("player", {"S": "x" * 65}, "player must be 1 to 64 characters, got 65"),
        ("player", {"S": "x" * 100_000}, "player must be 1 to 64 characters, got 100000"),
        ("player", {"S": " Tia"}, "player must not start or end with a space"),
        ("player", {"S": "Tia "}, "player must not start or end with a space"),
        ("player", {"S": "Ti\x00a"}, "got U+0000"),  # control
        ("player", {"S": "Ti\na"}, "got U+000A"),
        ("player", {"S": "Ti\u200ba"}, "got U+200B"),  # format (zero-width space)
        ("player", {"S": "Ti\u202ea"}, "got U+202E"),  # format (right-to-left override)
        ("player", {"S": "Ti\ud800a"}, "got U+D800"),  # lone surrogate: a hand-made record
        ("player", {"S": "Ti\ue000a"}, "got U+E000"),  # private use
        ("player", {"S": "Ti\U000e0080a"}, "got U+E0080"),  # unassigned
        ("player", {"S": "Ti\u2028a"}, "got U+2028"),  # line separator
        ("player", {"S": "Ti\u00a0a"}, "got U+00A0"),  # a space other than U+0020
        ("player", {"N": "7"}, "player must be of DynamoDB type S"),
        ("player", {"S": 7}, "player must be a string, got 7"),
        ("game", {"N": str(GAME_NUMBER_MAX + 1)}, "game must be from 0 to 1000000000000"),
        ("game", {"N": "-1"}, "game must be a whole number written in digits"),
        ("score", {"N": "1000001"}, "score must be from 0 to 1000000, got '1000001'"),
        ("score", {"N": "1" + "0" * 30}, "score must be from 0 to 1000000"),
        ("score", {"N": "1" * 100_000}, "score must be from 0 to 1000000"),
        ("score", {"N": "1e30"}, "score must be a whole number written in digits, got '1e30'"),
        ("score", {"N": "600.5"}, "score must be a whole number written in digits"),
        ("score", {"N": "600.0"}, "score must be a whole number written in digits"),
        ("score", {"N": "NaN"}, "score must be a whole number written in digits, got 'NaN'"),
        ("score", {"N": "Infinity"}, "score must be a whole number written in digits"),
        ("score", {"N": "1_000"}, "score must be a whole number written in digits"),
        ("score", {"N": " 600"}, "score must be a whole number written in digits"),
        ("score", {"N": "\u0666\u0660\u0660"}, "score must be a whole number written in digits"),
        ("score", {"N": 600}, "score must be a whole number written in digits, got 600"),
        ("score", {"N": 600.0}, "score must be a whole number written in digits"),
        ("score", {"N": True}, "score must be a whole number written in digits, got True"),
        ("score", {"S": "600"}, "score must be of DynamoDB type N, got {'S': '600'}"),
        ("score", {"BOOL": True}, "score must be of DynamoDB type N"),
        ("score", {"NS": ["600"]}, "score must be of DynamoDB type N"),
        ("score", {"N": "600", "S": "600"}, "score must be of DynamoDB type N"),
        ("score", {"NULL": True}, "score must be of DynamoDB type N"),
        ("score", "600", "score must be of DynamoDB type N, got '600'"),
        ("winner", {"N": "1"}, "winner must be of DynamoDB type BOOL"),
        ("winner", {"S": "true"}, "winner must be of DynamoDB type BOOL"),
        ("winner", {"BOOL": "true"}, "winner must be a boolean, got 'true'"),
        ("winner", {"BOOL": 1}, "winner must be a boolean, got 1"),
    ],
)
def test_values_outside_the_bounds_are_rejected_with_a_reason_naming_them(
    attribute: str, value: Any, reason: str
) -> None:
    with pytest.raises(InvalidGame, match=re.escape(reason)) as rejected:
        Game.from_image({**VALID_IMAGE, attribute: value})
    assert len(str(rejected.value)) < 300  # a 100,000-character value is not repeated


@pytest.mark.parametrize("missing", ["player", "game", "score", "winner"])
def test_a_missing_attribute_is_named(missing: str) -> None:
    image = {name: value for name, value in VALID_IMAGE.items() if name != missing}
    with pytest.raises(InvalidGame, match=f"the item has no {missing}"):
        Game.from_image(image)


# The handler ------------------------------------------------------------------------------------


@pytest.mark.localstack
def test_games_stream_batch_folds_into_stats_exactly_once(
    aws: LocalAws, tables: TableNames, aggregate: ModuleType
) -> None:
    put_game(aws, tables.games, 1, "Tia", 600, winner=True)
    put_game(aws, tables.games, 1, "Mark", 400, winner=False)
    put_game(aws, tables.games, 2, "Tia", 300, winner=False)
    put_game(aws, tables.games, 2, "Julie", 700, winner=True)
    batch = aws.stream_event(tables.games)
    assert [r["eventName"] for r in batch["Records"]] == ["INSERT"] * 4

    assert aggregate.handler(batch, CONTEXT) == FOLDED
    expected = {"Tia": (2, 1, 900), "Mark": (1, 0, 400), "Julie": (1, 1, 700)}
    assert stats_of(aws, tables.stats) == expected

    # At-least-once delivery: the same batch again, and the MODIFYs the markers produced.
    assert aggregate.handler(batch, CONTEXT) == FOLDED
    everything = aws.stream_event(tables.games)
    assert {r["eventName"] for r in everything["Records"]} == {"INSERT", "MODIFY"}
    assert aggregate.handler(everything, CONTEXT) == FOLDED
    assert stats_of(aws, tables.stats) == expected


def test_removed_games_and_edits_do_not_change_stats(
    aws: LocalAws, tables: TableNames, aggregate: ModuleType, failures_file: Path
) -> None:
    put_game(aws, tables.games, 1, "Tia", 600, winner=True)
    aggregate.handler(aws.stream_event(tables.games), CONTEXT)
    aws.client.delete_item(TableName=tables.games, Key={"player": {"S": "Tia"}, "game": {"N": "1"}})
    removal = aws.stream_event(tables.games)
    assert removal["Records"][-1]["eventName"] == "REMOVE"
    assert aggregate.handler(removal, CONTEXT) == FOLDED
    # An edit of a game not folded yet: only its INSERT counts, never the MODIFY.
    put_game(aws, tables.games, 2, "Tia", 100, winner=False)
    edited = latest_sequence_number(aws, tables.games)
    aws.client.update_item(
        TableName=tables.games,
        Key={"player": {"S": "Tia"}, "game": {"N": "2"}},
        UpdateExpression="SET score = :score",
        ExpressionAttributeValues={":score": {"N": "900"}},
    )
    edit = aws.stream_event(tables.games, after=edited)
    assert [r["eventName"] for r in edit["Records"]] == ["MODIFY"]
    assert aggregate.handler(edit, CONTEXT) == FOLDED

    assert stats_of(aws, tables.stats) == {"Tia": (1, 1, 600)}
    assert failure_messages(failures_file) == []  # ignored, not rejected


def test_game_deleted_before_it_was_folded_is_not_counted(
    aws: LocalAws, tables: TableNames, aggregate: ModuleType
) -> None:
    put_game(aws, tables.games, 1, "Tia", 600, winner=True)
    batch = aws.stream_event(tables.games)
    aws.client.delete_item(TableName=tables.games, Key={"player": {"S": "Tia"}, "game": {"N": "1"}})
    assert aggregate.handler(batch, CONTEXT) == FOLDED
    assert stats_of(aws, tables.stats) == {}


def test_the_longest_name_in_four_byte_characters_is_stored_and_folded(
    aws: LocalAws, tables: TableNames, aggregate: ModuleType
) -> None:
    longest = "\U0001f3c6" * PLAYER_MAX_CHARACTERS  # 256 bytes of UTF-8, the most a name takes
    put_game(aws, tables.games, 1, longest, SCORE_MAX, winner=True)
    assert aggregate.handler(aws.stream_event(tables.games), CONTEXT) == FOLDED
    assert stats_of(aws, tables.stats) == {longest: (1, 1, SCORE_MAX)}


@pytest.mark.localstack
def test_records_outside_the_bounds_go_to_the_failure_destination_and_the_batch_moves_on(
    aws: LocalAws, tables: TableNames, aggregate: ModuleType, failures_file: Path
) -> None:
    put_game(aws, tables.games, 1, "Tia", 600, winner=True)
    put_game(aws, tables.games, 1, "Mark", 10**30, winner=False)  # today's 1e30 score
    aws.client.put_item(
        TableName=tables.games,
        Item={"player": {"S": "Moosa"}, "game": {"N": "1"}, "score": {"S": "lots"}},
    )
    put_game(aws, tables.games, 2, "Julie", 700, winner=True)
    batch = aws.stream_event(tables.games)
    mark, moosa = batch["Records"][1], batch["Records"][2]

    with function_log(aggregate) as log:
        assert aggregate.handler(batch, CONTEXT) == FOLDED

    assert stats_of(aws, tables.stats) == {"Tia": (1, 1, 600), "Julie": (1, 1, 700)}
    reasons = [
        "score must be from 0 to 1000000, got '1000000000000000000000000000000'",
        "score must be of DynamoDB type N, got {'S': 'lots'}",
    ]
    messages = failure_messages(failures_file)
    assert [m["reason"] for m in messages] == reasons
    assert [m["records"] for m in messages] == [[mark], [moosa]]
    for message, record in zip(messages, (mark, moosa), strict=True):
        assert message["requestContext"]["condition"] == "RecordRejected"
        assert message["requestContext"]["functionArn"] == CONTEXT.invoked_function_arn
        assert message["requestContext"]["requestId"] == CONTEXT.aws_request_id
        assert message["DDBStreamBatchInfo"] == {
            "streamArn": record["eventSourceARN"],
            "startSequenceNumber": record["dynamodb"]["SequenceNumber"],
            "endSequenceNumber": record["dynamodb"]["SequenceNumber"],
            "batchSize": 1,
        }
        assert message["keys"] == record["dynamodb"]["Keys"]
    warnings = rejected_warnings(log())
    assert [w["level"] for w in warnings] == ["WARNING", "WARNING"]
    assert [w["reason"] for w in warnings] == reasons
    assert [w["sequence_number"] for w in warnings] == [
        record["dynamodb"]["SequenceNumber"] for record in (mark, moosa)
    ]
    # Neither rejected game was marked: a corrected copy can still be folded.
    for player in ("Mark", "Moosa"):
        item = aws.client.get_item(
            TableName=tables.games, Key={"player": {"S": player}, "game": {"N": "1"}}
        )["Item"]
        assert "aggregated_at" not in item


def test_a_rejected_game_written_again_corrected_is_folded_once(
    aws: LocalAws, tables: TableNames, aggregate: ModuleType, failures_file: Path
) -> None:
    """The replay docs/api.md describes: delete the rejected item, put the corrected one."""
    put_game(aws, tables.games, 7, "Mark", 10**30, winner=True)
    assert aggregate.handler(aws.stream_event(tables.games), CONTEXT) == FOLDED
    [message] = failure_messages(failures_file)
    assert stats_of(aws, tables.stats) == {}

    replayed = latest_sequence_number(aws, tables.games)
    aws.client.delete_item(TableName=tables.games, Key=message["keys"])
    put_game(aws, tables.games, 7, "Mark", 990, winner=True)
    correction = aws.stream_event(tables.games, after=replayed)
    assert [r["eventName"] for r in correction["Records"]] == ["REMOVE", "INSERT"]
    assert aggregate.handler(correction, CONTEXT) == FOLDED
    assert aggregate.handler(correction, CONTEXT) == FOLDED

    assert stats_of(aws, tables.stats) == {"Mark": (1, 1, 990)}
    assert len(failure_messages(failures_file)) == 1


@pytest.mark.parametrize(
    ("shape", "reason"),
    [
        ({"eventName": "INSERT", "dynamodb": {"Keys": {"id": {"S": "x"}}}}, "not a games record"),
        ({"eventName": "INSERT", "dynamodb": {"Keys": {"player": {"S": "Tia"}}}}, "its keys"),
        (
            {"eventName": "INSERT", "dynamodb": {"Keys": {"player": {}, "game": {}}}},
            "the record has no NewImage",
        ),
        ({"eventName": "INSERT"}, "the record has no dynamodb change"),
        ({"eventName": "UPSERT", "dynamodb": {}}, "eventName is 'UPSERT'"),
        ({"Sns": {"Message": "hello"}}, "eventName is None"),
        ("INSERT", "not a stream record: 'INSERT'"),
    ],
)
def test_records_of_another_shape_are_rejected_not_raised(
    aggregate: ModuleType, failures_file: Path, shape: Any, reason: str
) -> None:
    assert aggregate.handler({"Records": [shape]}, CONTEXT) == FOLDED
    [message] = failure_messages(failures_file)
    assert reason in message["reason"]
    assert message["records"] == [shape]


def test_a_rejected_record_is_retried_when_the_destination_cannot_be_written_injected_fault(
    aws: LocalAws,
    tables: TableNames,
    lambda_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # The fault: the destination's folder is a file, so appending fails (as root, permissions
    # would not stop it).
    blocked = tmp_path / "blocked"
    blocked.write_text("")
    monkeypatch.setenv("FAILURE_DESTINATION", (blocked / "failures.jsonl").as_uri())
    aggregate = load_handler("aggregate")
    put_game(aws, tables.games, 1, "Tia", 600, winner=True)
    put_game(aws, tables.games, 1, "Mark", SCORE_MAX + 1, winner=False)
    put_game(aws, tables.games, 2, "Julie", 700, winner=True)
    batch = aws.stream_event(tables.games)
    mark = batch["Records"][1]

    with function_log(aggregate) as log:
        response = aggregate.handler(batch, CONTEXT)
        # A batch of that record alone: reported too (not a function error of the whole batch).
        alone = aggregate.handler({"Records": [mark]}, CONTEXT)

    assert response == {
        "batchItemFailures": [{"itemIdentifier": mark["dynamodb"]["SequenceNumber"]}]
    }
    assert alone == response
    assert stats_of(aws, tables.stats) == {"Tia": (1, 1, 600), "Julie": (1, 1, 700)}
    errors = [line for line in log() if line["level"] == "ERROR"]
    assert [e["message"] for e in errors] == ["rejected game not stored, reported for retry"] * 2

    # Lambda retries from the failed record; once the destination can be written, it is stored
    # and the games after it are not counted twice.
    blocked.unlink()
    retry = {"Records": batch["Records"][1:]}
    assert aggregate.handler(retry, CONTEXT) == FOLDED
    [message] = failure_messages(blocked / "failures.jsonl")
    assert message["records"] == [mark]
    assert stats_of(aws, tables.stats) == {"Tia": (1, 1, 600), "Julie": (1, 1, 700)}


def test_a_poison_record_does_not_hold_back_the_games_after_it(
    aws: LocalAws, tables: TableNames, aggregate: ModuleType, failures_file: Path
) -> None:
    """The mapping as the runner and Terraform configure it (retries with backoff, bisection):
    the poison record is delivered once, and the games after it are folded without a retry."""
    delivered: list[list[str]] = []

    def invoke(event: dict[str, Any]) -> Any:
        delivered.append([record["dynamodb"]["SequenceNumber"] for record in event["Records"]])
        return aggregate.handler(event, CONTEXT)

    stream_arn = aws.client.describe_table(TableName=tables.games)["Table"]["LatestStreamArn"]
    mapping = StreamMapping(
        aws.streams,
        stream_arn,
        invoke,
        settings=AGGREGATE_MAPPING,
        failure_log=FailureLog(failures_file),
    )
    put_game(aws, tables.games, 1, "Tia", 600, winner=True)
    put_game(aws, tables.games, 1, "Mark", 10**30, winner=False)
    mapping.start()
    try:
        put_game(aws, tables.games, 2, "Julie", 700, winner=True)
        put_game(aws, tables.games, 3, "Tia", 500, winner=False)
        written = time.monotonic()
        expected = {"Tia": (2, 1, 1100), "Julie": (1, 1, 700)}

        def games_after_the_poison_are_folded() -> bool:
            return stats_of(aws, tables.stats) == expected and mapping.caught_up_since(written)

        wait_until(games_after_the_poison_are_folded)
    finally:
        mapping.stop()

    sequence_numbers = [n for batch in delivered for n in batch]
    assert len(sequence_numbers) == 4 == len(set(sequence_numbers)), delivered
    assert mapping.invocations == len(delivered)
    [message] = failure_messages(failures_file)
    assert message["requestContext"]["condition"] == "RecordRejected"
    assert message["records"][0]["dynamodb"]["Keys"]["player"] == {"S": "Mark"}


# The queue destination ----------------------------------------------------------------------------


@pytest.fixture
def unreachable_queue() -> Iterator[tuple[QueueDestination, list[dict[str, Any]]]]:
    """A queue destination whose endpoint refuses connections, and the SendMessage requests its
    client made (recorded by botocore's own event hook before each call fails)."""
    client = boto3.client(
        "sqs",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=1),
    )
    requests: list[dict[str, Any]] = []
    client.meta.events.register(
        "provide-client-params.sqs.SendMessage", lambda params, **_: requests.append(params)
    )
    queue_url = "https://sqs.us-east-1.amazonaws.com/123456789012/tatourney-stream-failures"
    yield QueueDestination(client, queue_url), requests
    client.close()


def rejection_of(record: Any) -> Rejection:
    return Rejection(
        reason="score must be from 0 to 1000000, got '1000001'",
        record=record,
        function_arn=CONTEXT.invoked_function_arn,
        request_id=CONTEXT.aws_request_id,
        stream_arn="arn:aws:dynamodb:us-east-1:123456789012:table/games/stream/2026",
        sequence_number="4200000000000000000001",
        keys={"player": {"S": "Tia"}, "game": {"N": "7"}},
    )


def test_the_queue_gets_the_message_and_an_unreachable_queue_is_reported_injected_fault(
    unreachable_queue: tuple[QueueDestination, list[dict[str, Any]]],
) -> None:
    destination, requests = unreachable_queue
    record = {"eventName": "INSERT", "dynamodb": {"NewImage": {"player": {"S": "Ti\ud800"}}}}

    with pytest.raises(DestinationUnavailable, match="tatourney-stream-failures"):
        destination.send(rejection_of(record))

    [request] = requests
    assert request["QueueUrl"].endswith("/tatourney-stream-failures")
    assert request["MessageBody"].isascii()
    message = json.loads(request["MessageBody"])
    assert message["records"] == [record]
    assert message["requestContext"]["condition"] == "RecordRejected"
    assert "recordsOmitted" not in message


def test_a_message_over_the_queue_limit_goes_without_its_record_injected_fault(
    unreachable_queue: tuple[QueueDestination, list[dict[str, Any]]],
) -> None:
    destination, requests = unreachable_queue
    # A 350 KB item: DynamoDB takes it (items go to 400 KB), SQS messages stop at 256 KiB.
    record = {"eventName": "INSERT", "dynamodb": {"NewImage": {"note": {"S": "x" * 350_000}}}}

    with pytest.raises(DestinationUnavailable):
        destination.send(rejection_of(record))

    [request] = requests
    assert len(request["MessageBody"]) <= QUEUE_MESSAGE_LIMIT_BYTES
    message = json.loads(request["MessageBody"])
    assert message["records"] == []
    assert message["recordsOmitted"] is True
    assert message["reason"] == rejection_of(record).reason
    assert message["DDBStreamBatchInfo"]["startSequenceNumber"] == "4200000000000000000001"
    assert message["keys"] == {"player": {"S": "Tia"}, "game": {"N": "7"}}


# Property tests over the whole input space -------------------------------------------------------

# Any code point, surrogates included: only a hand-made record can hold one (DynamoDB stores
# UTF-8), and a Lambda event's JSON can.
ANY_CHARACTER = st.characters(exclude_categories=())
STORABLE_CHARACTER = st.characters(codec="utf-8")


def texts(characters: st.SearchStrategy[str], longest: int) -> st.SearchStrategy[str]:
    """Short texts of `characters`, and long ones (up to `longest`) built by repetition."""
    repeated = st.builds(
        lambda unit, length: (unit * length)[:length],
        st.text(characters, min_size=1, max_size=3),
        st.integers(PLAYER_MAX_CHARACTERS, longest),
    )
    return st.text(characters, max_size=12) | repeated


ANY_TEXT = texts(ANY_CHARACTER, 100_000)
STORABLE_TEXT = texts(STORABLE_CHARACTER, 60_000)
# Numbers DynamoDB stores (38 significant digits, magnitudes up to 1E+125): it writes them back
# in its own canonical form.
STORABLE_NUMBER = st.one_of(
    st.integers(-(10**38) + 1, 10**38 - 1),
    st.integers(0, SCORE_MAX + 2),
    st.decimals(-(10**30), 10**30, allow_nan=False, allow_infinity=False, places=3),
    st.sampled_from(["1e30", "1E+125", "-0", "600.0", "6E2", "0.5", "1e-129"]),
).map(str)
# Anything a hand-made record may hold where a number goes.
ANY_NUMBER = st.one_of(
    STORABLE_NUMBER,
    ANY_TEXT,
    st.sampled_from(["NaN", "-Infinity", "sNaN", "1_000", " 7", "\u0667", "+5", "5.", "0x10"]),
    st.integers(0, 20).map(lambda n: "0" * 100_000 + str(n)),
)
ANY_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | ANY_TEXT,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(ANY_CHARACTER, max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


def typed_values(
    text: st.SearchStrategy[str],
    number: st.SearchStrategy[str],
    binary: Callable[[bytes], Any] = lambda b: b,
) -> Any:
    """DynamoDB attribute values of every type (S, N, B, BOOL, NULL, M, L, SS, NS, BS); `binary`
    writes a binary value (bytes for boto3, base64 text in a Lambda event, which is JSON)."""
    scalar = st.one_of(
        text.map(lambda s: {"S": s}),
        number.map(lambda n: {"N": n}),
        st.binary(max_size=40).map(lambda b: {"B": binary(b)}),
        st.booleans().map(lambda b: {"BOOL": b}),
        st.just({"NULL": True}),
        st.sets(text.filter(bool), min_size=1, max_size=3).map(lambda s: {"SS": sorted(s)}),
        st.sets(st.integers(-(10**9), 10**9), min_size=1, max_size=3).map(
            lambda s: {"NS": [str(n) for n in sorted(s)]}
        ),
        st.sets(st.binary(min_size=1, max_size=8), min_size=1, max_size=3).map(
            lambda s: {"BS": [binary(b) for b in sorted(s)]}
        ),
    )
    names = st.text(STORABLE_CHARACTER, min_size=1, max_size=8)
    return st.recursive(
        scalar,
        lambda children: (
            st.lists(children, max_size=3).map(lambda v: {"L": v})
            | st.dictionaries(names, children, max_size=3).map(lambda v: {"M": v})
        ),
        max_leaves=6,
    )


STORABLE_VALUE = typed_values(STORABLE_TEXT, STORABLE_NUMBER)
ANY_VALUE = typed_values(ANY_TEXT, ANY_NUMBER, lambda b: base64.b64encode(b).decode()) | ANY_JSON
VALID_NAME = st.text(
    st.characters(
        codec="utf-8",
        exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"),
        include_characters=" ",
    ),
    min_size=1,
    max_size=PLAYER_MAX_CHARACTERS,
).filter(lambda name: name.strip(" ") == name)


def names_near_the_bounds(characters: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Valid names with one character put in (of `characters`, or one of the kinds a name must
    not hold, most of the time), names of the longest length and one longer, names padded with
    a space."""
    insertable = characters | st.characters(
        categories=("Cc", "Cf", "Co", "Cn", "Zl", "Zp", "Zs"), codec="utf-8"
    )
    inserted = st.builds(
        lambda name, character, at: name[:at] + character + name[at:],
        VALID_NAME,
        insertable,
        st.integers(0, PLAYER_MAX_CHARACTERS),
    )
    return st.one_of(
        inserted,
        inserted,
        VALID_NAME.map(lambda name: (name * PLAYER_MAX_CHARACTERS)[:PLAYER_MAX_CHARACTERS]),
        VALID_NAME.map(lambda name: (name * PLAYER_MAX_CHARACTERS)[: PLAYER_MAX_CHARACTERS + 1]),
        VALID_NAME.map(lambda name: f" {name}") | VALID_NAME.map(lambda name: f"{name} "),
    )


def numbers_near_the_bounds(maximum: int) -> st.SearchStrategy[str]:
    """Whole numbers in DynamoDB's form at the edges of 0..maximum, and beyond it."""
    return st.one_of(
        st.integers(-2, 1),
        st.integers(maximum - 1, maximum + 2),
        st.integers(maximum + 1, 10**38 - 1),
    ).map(str)


def within_bounds(image: Any) -> bool:
    """The documented bounds, stated independently of the code under test."""

    def typed(name: str, type_code: str) -> Any:
        value = image.get(name)
        return value[type_code] if isinstance(value, dict) and list(value) == [type_code] else None

    def whole_number(name: str, maximum: int) -> bool:
        digits = typed(name, "N")
        return (
            isinstance(digits, str)
            and re.fullmatch("[0-9]+", digits, re.ASCII) is not None
            and Decimal(digits) <= maximum
        )

    if not isinstance(image, dict):
        return False
    player = typed("player", "S")
    return (
        isinstance(player, str)
        and 1 <= len(player) <= 64
        and not player.startswith(" ")
        and not player.endswith(" ")
        and all(c == " " or unicodedata.category(c)[0] in "LMNPS" for c in player)
        and whole_number("game", GAME_NUMBER_MAX)
        and whole_number("score", SCORE_MAX)
        and type(typed("winner", "BOOL")) is bool
    )


def acceptable(record: Any) -> bool:
    """Whether a record is a new game within the bounds (else it must be rejected)."""
    if not isinstance(record, dict) or not isinstance(record.get("dynamodb"), dict):
        return False
    change = record["dynamodb"]
    keys = change.get("Keys")
    return (
        record.get("eventName") == "INSERT"
        and isinstance(keys, dict)
        and sorted(keys) == ["game", "player"]
        and within_bounds(change.get("NewImage"))
    )


def ignored(record: Any) -> bool:
    return isinstance(record, dict) and record.get("eventName") in ("MODIFY", "REMOVE")


def stored_size(value: Any) -> int:
    """About what DynamoDB counts of an item: UTF-8 bytes of names and values."""
    if isinstance(value, dict):
        return sum(
            len(str(k).encode("utf-8", "surrogatepass")) + stored_size(v) for k, v in value.items()
        )
    if isinstance(value, list):
        return sum(stored_size(v) for v in value)
    if isinstance(value, str | bytes):
        return len(value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value)
    return 8


@st.composite
def games_items(draw: st.DrawFn) -> dict[str, Any]:
    """Any item DynamoDB takes into the games table: a game within the bounds with none, one or
    all of its attributes changed (to values at the edges of the bounds, or any value of any
    type, or missing: only the keys must be there), and extra attributes of any type."""
    item: dict[str, Any] = {
        "player": {"S": draw(VALID_NAME)},
        "game": {"N": str(draw(st.integers(0, GAME_NUMBER_MAX)))},
        "score": {"N": str(draw(st.integers(0, SCORE_MAX)))},
        "winner": {"BOOL": draw(st.booleans())},
    }
    changed = {
        "player": st.one_of(
            names_near_the_bounds(STORABLE_CHARACTER),
            names_near_the_bounds(STORABLE_CHARACTER),
            texts(STORABLE_CHARACTER, 400).filter(bool),
        ).map(lambda s: {"S": s}),
        "game": st.one_of(
            numbers_near_the_bounds(GAME_NUMBER_MAX),
            numbers_near_the_bounds(GAME_NUMBER_MAX),
            STORABLE_NUMBER,
        ).map(lambda n: {"N": n}),
        "score": st.one_of(
            numbers_near_the_bounds(SCORE_MAX).map(lambda n: {"N": n}),
            numbers_near_the_bounds(SCORE_MAX).map(lambda n: {"N": n}),
            STORABLE_VALUE,
            st.none(),
        ),
        "winner": STORABLE_VALUE | st.none(),
    }
    which = draw(st.sampled_from(["none", "player", "player", "game", "score", "winner", "all"]))
    for name in changed if which == "all" else [which] if which != "none" else []:
        value = draw(changed[name])
        if value is None:
            del item[name]
        else:
            item[name] = value
    item.update(
        draw(st.dictionaries(st.sampled_from(["date", "note", "x"]), STORABLE_VALUE, max_size=2))
    )
    assume(stored_size(item) < 350_000 and stored_size(item["player"]) < 2048)
    return item


SEQUENCE = itertools.count(10**20)
REAL_GAME_NUMBERS_FROM = 10**9
REAL_GAME_NUMBERS = itertools.count(REAL_GAME_NUMBERS_FROM)


def hand_made_record(image: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A games stream record as Lambda delivers it, of an item that was never written."""
    sequence_number = str(next(SEQUENCE))
    record: dict[str, Any] = {
        "eventID": uuid.uuid4().hex,
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1795000000,
            "Keys": {"player": image.get("player"), "game": image.get("game")},
            "NewImage": image,
            "SequenceNumber": sequence_number,
            "SizeBytes": 100,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:000000000000:table/games/stream/2026",
    }
    record.update(changes)
    delivered: dict[str, Any] = json.loads(json.dumps(record, default=as_delivered))
    return delivered  # B values in base64, as Lambda delivers them


@st.composite
def hand_made_records(draw: st.DrawFn) -> Any:
    """Records a games stream never holds: any JSON, stream records with a part missing or of
    another shape, and games records with an attribute of any type and content, or none."""
    image = {
        "player": {"S": draw(VALID_NAME)},
        # Below the real games' numbers: an acceptable hand-made record folds nothing.
        "game": {"N": str(draw(st.integers(0, REAL_GAME_NUMBERS_FROM - 1)))},
        "score": {"N": str(draw(st.integers(0, SCORE_MAX)))},
        "winner": {"BOOL": draw(st.booleans())},
    }
    kind = draw(st.sampled_from(["any json", "attribute", "attribute", "shape", "event name"]))
    if kind == "any json":
        return draw(ANY_JSON)
    if kind == "attribute":
        name = draw(st.sampled_from(sorted(image)))
        near = {
            "player": names_near_the_bounds(ANY_CHARACTER).map(lambda s: {"S": s}),
            "game": numbers_near_the_bounds(GAME_NUMBER_MAX)
            .filter(lambda n: not REAL_GAME_NUMBERS_FROM <= int(n) < 2 * REAL_GAME_NUMBERS_FROM)
            .map(lambda n: {"N": n}),
            "score": numbers_near_the_bounds(SCORE_MAX).map(lambda n: {"N": n}),
            "winner": ANY_JSON.map(lambda v: {"BOOL": v}),
        }
        value = draw(st.one_of(near[name], near[name], ANY_VALUE, st.none()))
        if value is None:
            del image[name]
        else:
            image[name] = value
        return hand_made_record(image)
    if kind == "event name":
        return hand_made_record(image, eventName=draw(ANY_JSON))
    record = hand_made_record(image)
    part = draw(st.sampled_from(["Keys", "NewImage", "dynamodb"]))
    holder = record if part == "dynamodb" else record["dynamodb"]
    replacement = draw(
        st.dictionaries(st.text(max_size=8), ANY_VALUE, max_size=3) | ANY_JSON | st.none()
    )
    if replacement is None:
        del holder[part]
    else:
        holder[part] = replacement
    return record


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


# Each example writes to DynamoDB Local and reads its stream, so shrinking a failure would take
# minutes: a failing example is reported as found.
PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@PROPERTY_SETTINGS
@given(items=st.lists(games_items(), min_size=2, max_size=5))
def test_any_item_written_to_games_is_folded_once_or_rejected_with_its_reason(
    aws: LocalAws,
    tables: TableNames,
    aggregate: ModuleType,
    failures_file: Path,
    items: list[dict[str, Any]],
) -> None:
    after = latest_sequence_number(aws, tables.games)
    for item in items:
        aws.client.put_item(TableName=tables.games, Item=item)
    batch = aws.stream_event(tables.games, after=after)
    assume(batch["Records"])  # an item written again unchanged makes no record
    stats_before = stats_of(aws, tables.stats)
    failures_before = len(failure_messages(failures_file))

    with function_log(aggregate) as log:
        assert aggregate.handler(batch, CONTEXT) == FOLDED

    inserts = [r for r in batch["Records"] if r["eventName"] == "INSERT"]  # the rest: overwrites
    rejected = [r for r in inserts if not acceptable(r)]
    messages = failure_messages(failures_file)[failures_before:]
    assert [m["records"] for m in messages] == [[r] for r in rejected]
    assert all(m["reason"] for m in messages)
    assert [w["reason"] for w in rejected_warnings(log())] == [m["reason"] for m in messages]

    expected = dict(stats_before)
    for record in inserts:
        event("folded" if acceptable(record) else "rejected")
        if acceptable(record):
            image = record["dynamodb"]["NewImage"]
            games, wins, total = expected.get(image["player"]["S"], (0, 0, 0))
            won = image["winner"]["BOOL"]
            expected[image["player"]["S"]] = (
                games + 1,
                wins + won,
                total + int(image["score"]["N"]),
            )
    assert stats_of(aws, tables.stats) == expected
    # Redelivered (at least once), nothing is counted twice.
    assert aggregate.handler(batch, CONTEXT) == FOLDED
    assert stats_of(aws, tables.stats) == expected
    # The next example's items are new items (an INSERT), whatever their keys.
    for item in items:
        key = {"player": item["player"], "game": item["game"]}
        aws.client.delete_item(TableName=tables.games, Key=key)


@PROPERTY_SETTINGS
@given(data=st.data())
def test_any_record_is_folded_rejected_or_ignored_and_never_raises(
    aws: LocalAws,
    tables: TableNames,
    aggregate: ModuleType,
    failures_file: Path,
    data: st.DataObject,
) -> None:
    games = data.draw(
        st.lists(st.tuples(VALID_NAME, st.integers(0, SCORE_MAX), st.booleans()), max_size=3)
    )
    after = latest_sequence_number(aws, tables.games)
    for player, score, winner in games:
        put_game(aws, tables.games, next(REAL_GAME_NUMBERS), player, score, winner)
    real = aws.stream_event(tables.games, after=after)["Records"]
    made = data.draw(st.lists(hand_made_records(), min_size=1, max_size=4))
    batch = data.draw(st.permutations(real + made))
    stats_before = stats_of(aws, tables.stats)
    failures_before = len(failure_messages(failures_file))

    with function_log(aggregate) as log:
        assert aggregate.handler({"Records": batch}, CONTEXT) == FOLDED

    messages = failure_messages(failures_file)[failures_before:]
    must_reject = [r for r in made if not ignored(r) and not acceptable(r)]
    assert Counter(canonical(m["records"]) for m in messages) == Counter(
        canonical([r]) for r in must_reject
    )
    assert all(m["reason"] for m in messages)
    assert [w["reason"] for w in rejected_warnings(log())] == [m["reason"] for m in messages]
    expected = dict(stats_before)
    for player, score, winner in games:
        played, wins, total = expected.get(player, (0, 0, 0))
        expected[player] = (played + 1, wins + winner, total + score)
    assert stats_of(aws, tables.stats) == expected


def test_each_batch_prints_its_outcomes_as_metrics(
    aws: LocalAws, tables: TableNames, aggregate: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    put_game(aws, tables.games, 1, "Tia", 600, winner=True)
    put_game(aws, tables.games, 1, "Mark", 400, winner=False)
    aws.client.put_item(
        TableName=tables.games,
        Item={"player": {"S": "Zoe"}, "game": {"N": "1"}, "score": {"N": "1e30"}},
    )
    batch = aws.stream_event(tables.games)
    capsys.readouterr()

    aggregate.handler(batch, CONTEXT)
    first = metrics_of(capsys.readouterr().out)
    aggregate.handler(batch, CONTEXT)  # redelivered
    again = metrics_of(capsys.readouterr().out)

    assert (first["GamesFolded"], first["RejectedRecords"]) == (2, 1)
    assert "DuplicatesSkipped" not in first
    assert (again["GamesFolded"], again["DuplicatesSkipped"], again["RejectedRecords"]) == (0, 2, 1)
