"""The failure destination: where the aggregate function puts the records it rejects, so that a
bad record is neither retried (which would hold back every record behind it in its shard) nor
lost.

FAILURE_DESTINATION names it: an SQS queue URL (in AWS, the event source mapping's own on-failure
queue) or a file:// URL (local stacks: one JSON document a line, the file the local mapping's
failure log writes). A message is shaped like the mapping's on-failure messages, with condition
`RecordRejected`, the reason, and the record itself, so that it can be replayed:

    {"requestContext": {"requestId": "…", "functionArn": "…", "condition": "RecordRejected"},
     "version": "1.0", "timestamp": "2026-11-23T09:15:47.123+00:00",
     "reason": "score must be from 0 to 1000000, got '1000000000000000000000000000000'",
     "DDBStreamBatchInfo": {"streamArn": "…", "startSequenceNumber": "…",
                            "endSequenceNumber": "…", "batchSize": 1},
     "keys": {"player": {"S": "Mark"}, "game": {"N": "7"}},
     "records": [{"eventID": "…", "eventName": "INSERT", "dynamodb": {…}, …}]}

Messages are ASCII JSON (anything else \\u-escaped, lone surrogates included), so any record can
be written and SQS accepts any body. A message over SQS's 256 KiB goes without its record
(`"records": []`, `"recordsOmitted": true`): that takes a rejected item of tens of KB or more,
which stays in the games table under `keys`, without the `aggregated_at` marker.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from types_boto3_sqs import SQSClient

CONDITION = "RecordRejected"
# SQS's largest message, the failure queue's maximum_message_size in modules/functions.
QUEUE_MESSAGE_LIMIT_BYTES = 262_144


class DestinationUnavailable(Exception):
    """The rejection could not be stored: the record must be retried, not dropped."""


@dataclass(frozen=True)
class Rejection:
    reason: str
    record: Any  # as delivered: JSON types
    function_arn: str
    request_id: str
    stream_arn: str | None  # where the record says it comes from, if it does
    sequence_number: str | None
    keys: Any  # the item's key attributes, if the record has them

    def message(self, *, with_record: bool = True) -> dict[str, Any]:
        message: dict[str, Any] = {
            "requestContext": {
                "requestId": self.request_id,
                "functionArn": self.function_arn,
                "condition": CONDITION,
            },
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "reason": self.reason,
            "DDBStreamBatchInfo": {
                "streamArn": self.stream_arn,
                "startSequenceNumber": self.sequence_number,
                "endSequenceNumber": self.sequence_number,
                "batchSize": 1,
            },
            "keys": self.keys,
            "records": [self.record] if with_record else [],
        }
        if not with_record:
            message["recordsOmitted"] = True
        return message


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=True, allow_nan=False)


class FailureDestination(Protocol):
    def send(self, rejection: Rejection) -> None:
        """Store the rejection, or raise DestinationUnavailable."""


class QueueDestination:
    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def send(self, rejection: Rejection) -> None:
        body = encode(rejection.message())
        if len(body) > QUEUE_MESSAGE_LIMIT_BYTES:  # ASCII: characters are bytes
            body = encode(rejection.message(with_record=False))
        try:
            self._client.send_message(QueueUrl=self._queue_url, MessageBody=body)
        except (ClientError, BotoCoreError) as error:
            raise DestinationUnavailable(f"sending to {self._queue_url}: {error}") from error


class FileDestination:
    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, rejection: Rejection) -> None:
        try:
            append_line(self.path, encode(rejection.message()))
        except OSError as error:
            raise DestinationUnavailable(f"appending to {self.path}: {error}") from error


def append_line(path: Path, line: str) -> None:
    """Append `line` and a newline with one write(2) on an O_APPEND descriptor: the function's
    rejections and the local mapping's failure log share a file, and on Linux's local file
    systems appends made that way do not split each other's lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (line + "\n").encode()
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        written = os.write(descriptor, data)
    finally:
        os.close(descriptor)
    if written != len(data):
        raise OSError(f"{path}: wrote {written} of {len(data)} bytes")


def open_destination(location: str | Path) -> FailureDestination:
    """The destination at `location` (config.AggregateConfig.failure_destination): a file's path,
    or a queue URL, sent to with a client whose calls are bounded in time and attempts."""
    if isinstance(location, Path):
        return FileDestination(location)
    client_config = Config(
        retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=2, read_timeout=5
    )
    return QueueDestination(boto3.client("sqs", config=client_config), location)
