"""A DynamoDB Streams poller that invokes a handler the way Lambda's event source mapping does.

It is the local stand-in for the mapping, not an emulator of it. What it keeps:
- each shard is read in order, one batch at a time; children are read after their parent ends;
- a batch closes when it holds `batch_size` records, when `batching_window_seconds` have passed
  since its first record arrived, or when the shard ends;
- records the filter rejects are passed over without an invocation (FilterCriteria);
- a handler exception fails the whole batch; with `bisect_on_error` the batch is split in halves
  that are retried separately (splitting uses no retry); a `batchItemFailures` answer checkpoints
  the records before the lowest failed sequence number and retries from it; an answer naming no
  record of the batch counts as a failure of the whole batch;
- after `maximum_retry_attempts` retries, or once a record is older than
  `maximum_record_age_seconds`, the records are discarded to the failure log (the local stand-in
  for the on-failure queue) and the shard moves on;
- the stream is described again periodically, so new shards are picked up.
What it leaves out: parallelization factor, tumbling windows, the 6 MB payload limit, and
checkpoints that survive a restart.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from tatourney.rejections import append_line
from tatourney_local.metrics import RecentEvents

if TYPE_CHECKING:
    from types_boto3_dynamodbstreams import DynamoDBStreamsClient

logger = logging.getLogger(__name__)

Record = dict[str, Any]
# Invokes the function with one event and returns its answer (raises when the function fails).
Handler = Callable[[dict[str, Any]], Any]
# Why records went to the on-failure destination, in Lambda's words.
Condition = Literal["RetryAttemptsExhausted", "RecordAgeExceeded"]


@dataclass(frozen=True)
class MappingSettings:
    """The event source mapping's settings that matter locally (AWS defaults unless noted)."""

    function_name: str
    batch_size: int = 100
    batching_window_seconds: float = 0.0
    bisect_on_error: bool = False
    maximum_retry_attempts: int = -1  # -1: retry until the record is too old or expires
    maximum_record_age_seconds: int = -1
    report_batch_item_failures: bool = True
    starting_position: Literal["TRIM_HORIZON", "LATEST"] = "TRIM_HORIZON"
    record_filter: Callable[[Record], bool] | None = None  # FilterCriteria, as a predicate
    poll_interval_seconds: float = 0.25  # Lambda polls each shard four times a second
    discovery_interval_seconds: float = 5.0
    retry_backoff_seconds: float = 0.2  # doubled per retry, up to the maximum
    retry_backoff_max_seconds: float = 5.0


def inserts_only(record: Record) -> bool:
    """FilterCriteria `{"eventName": ["INSERT"]}`."""
    return record.get("eventName") == "INSERT"


class FailureLog:
    """Discarded batches, one JSON document a line, shaped like the on-failure queue's messages.

    Lambda sends the queue only the batch's coordinates; the local log also keeps the records
    (as an S3 on-failure destination would), so a discarded record can be read and replayed.
    The aggregate function appends its rejected records to the same file (FAILURE_DESTINATION),
    as it sends them to the same queue in AWS.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def discard(
        self,
        *,
        function_name: str,
        stream_arn: str,
        shard_id: str,
        records: list[Record],
        condition: Condition,
        invocations: int,
    ) -> None:
        created = [r["dynamodb"].get("ApproximateCreationDateTime", 0) for r in records]
        message = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": local_function_arn(function_name),
                "condition": condition,
                "approximateInvokeCount": invocations,
            },
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(min(created)),
                "approximateArrivalOfLastRecord": _iso(max(created)),
                "batchSize": len(records),
                "streamArn": stream_arn,
            },
            "records": records,
        }
        append_line(self.path, json.dumps(message))
        logger.warning(
            "%s: %d record(s) discarded (%s) after %d invocation(s), see %s",
            function_name,
            len(records),
            condition,
            invocations,
            self.path,
        )

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        # What follows the last newline is a line still being written, or nothing.
        lines = self.path.read_text(encoding="utf-8").split("\n")[:-1]
        return [json.loads(line) for line in lines]


def local_function_arn(function_name: str) -> str:
    return f"arn:aws:lambda:us-east-1:000000000000:function:{function_name}"


def _iso(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).isoformat()


def lambda_record(record: dict[str, Any], stream_arn: str) -> Record:
    """A GetRecords record as Lambda delivers it: JSON types only, plus the stream's ARN."""
    as_json = json.dumps({**record, "eventSourceARN": stream_arn}, default=as_delivered)
    loaded: Record = json.loads(as_json)
    return loaded


def as_delivered(value: Any) -> Any:
    """What Lambda's JSON has for a value boto3 decoded: epoch seconds for a date, base64 for
    binary attribute values (B, BS)."""
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"not JSON serializable: {value!r}")


@dataclass
class Invocation:
    """What one invocation said about its batch."""

    failed_from: int | None  # index of the first record to retry; None when all succeeded
    error: bool = False  # a function error (exception or invalid answer), not a partial one


class StreamMapping:
    """Polls one stream into one handler until stopped; one reader thread per shard."""

    def __init__(
        self,
        streams: DynamoDBStreamsClient,
        stream_arn: str,
        handler: Handler,
        *,
        settings: MappingSettings,
        failure_log: FailureLog,
    ) -> None:
        self.stream_arn = stream_arn
        self.settings = settings
        self.failure_log = failure_log
        self.invocations = 0
        # IteratorAge, as near as the poller can tell: how long the newest record of each batch
        # handed over has waited since the poller read it from the stream (DynamoDB Local rounds
        # ApproximateCreationDateTime down to the minute, too coarse to measure it by).
        self.iterator_ages_ms = RecentEvents()
        self._read_at: dict[str, float] = {}  # sequence number -> when read, until handed over
        self.streams = streams
        self._handler = handler
        self._stop = threading.Event()
        self._shards_changed = threading.Event()
        self._readers: dict[str, _ShardReader] = {}
        self._discovered_once = False
        self._thread = threading.Thread(
            target=self._discover_forever, name=f"mapping-{settings.function_name}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._shards_changed.set()
        self._thread.join(timeout)
        for reader in list(self._readers.values()):
            reader.thread.join(timeout)

    @property
    def shard_ids(self) -> list[str]:
        """The shards this mapping has started reading, in the order it started them."""
        return list(self._readers)

    def _discover_forever(self) -> None:
        while not self._stop.is_set():
            try:
                self._start_ready_shards(self._describe_shards())
            except Exception:
                if self._stop.is_set():
                    return
                logger.exception("%s: describing the stream failed", self.settings.function_name)
            self._shards_changed.wait(self.settings.discovery_interval_seconds)
            self._shards_changed.clear()

    def _describe_shards(self) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = []
        request: dict[str, Any] = {"StreamArn": self.stream_arn}
        while True:
            page = self.streams.describe_stream(**request)["StreamDescription"]
            shards.extend(dict(shard) for shard in page.get("Shards", []))
            last = page.get("LastEvaluatedShardId")
            if not last:
                return shards
            request["ExclusiveStartShardId"] = last

    def _start_ready_shards(self, shards: list[dict[str, Any]]) -> None:
        known = {shard["ShardId"] for shard in shards}
        first_look = not self._discovered_once
        self._discovered_once = True
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id in self._readers:
                continue
            parent = shard.get("ParentShardId")
            # A parent's records come first; a parent already trimmed from the stream is gone.
            if parent in known and not (parent in self._readers and self._readers[parent].done):
                continue
            closed = "EndingSequenceNumber" in shard.get("SequenceNumberRange", {})
            if first_look and self.settings.starting_position == "LATEST" and closed:
                position = "SKIP"
            elif first_look:
                position = self.settings.starting_position
            else:
                position = "TRIM_HORIZON"  # Lambda reads a new shard from its start
            reader = _ShardReader(self, shard_id, position)
            self._readers[shard_id] = reader
            reader.thread.start()

    def caught_up_since(self, moment: float) -> bool:
        """Whether every shard has been read to its end, with nothing left to deliver, by a
        read that began after `moment` (time.monotonic): the records written before it are
        all handled."""
        readers = list(self._readers.values())
        return bool(readers) and all(
            reader.done or reader.drained_at >= moment for reader in readers
        )

    def shard_finished(self) -> None:
        """A reader reached the end of a closed shard: its children may start now."""
        self._shards_changed.set()

    def invoke(self, records: list[Record]) -> Invocation:
        """Call the handler with one batch and read its answer as the mapping would."""
        event = {"Records": records}
        self.invocations += 1
        newest = self._read_at.get(records[-1]["dynamodb"]["SequenceNumber"], time.monotonic())
        self.iterator_ages_ms.add((time.monotonic() - newest) * 1000)
        try:
            answer = self._handler(event)
        except Exception:
            logger.exception(
                "%s: invocation failed (%d records)", self.settings.function_name, len(records)
            )
            return Invocation(failed_from=0, error=True)
        outcome = (
            self._partial_answer(answer, records)
            if self.settings.report_batch_item_failures
            else Invocation(failed_from=None)
        )
        done = records if outcome.failed_from is None else records[: outcome.failed_from]
        self.forget(done)
        return outcome

    def read(self, record: Record) -> None:
        """The poller has read `record` from the stream (for the iterator age)."""
        self._read_at[record["dynamodb"]["SequenceNumber"]] = time.monotonic()

    def forget(self, records: list[Record]) -> None:
        """`records` are handled or discarded: no longer waiting."""
        for record in records:
            self._read_at.pop(record["dynamodb"]["SequenceNumber"], None)

    def _partial_answer(self, answer: Any, records: list[Record]) -> Invocation:
        failures = answer.get("batchItemFailures") if isinstance(answer, dict) else None
        if not failures:
            return Invocation(failed_from=None)
        positions = {record["dynamodb"]["SequenceNumber"]: i for i, record in enumerate(records)}
        failed: list[int] = []
        for failure in failures:
            identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            if not identifier or identifier not in positions:
                logger.error(
                    "%s: batchItemFailures names no record of the batch: %r",
                    self.settings.function_name,
                    failure,
                )
                return Invocation(failed_from=0, error=True)
            failed.append(positions[identifier])
        return Invocation(failed_from=min(failed))

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def pause(self, seconds: float) -> bool:
        """Sleep unless stopped; True when the mapping is stopping."""
        return self._stop.wait(seconds)


@dataclass
class _ShardReader:
    mapping: StreamMapping
    shard_id: str
    position: str
    done: bool = False
    drained_at: float = field(default=-1.0, init=False)  # start of the last read that found the
    # shard's end with no record buffered or being delivered
    thread: threading.Thread = field(init=False)
    _iterator: str = field(default="", init=False)
    _renew_iterator: bool = field(default=True, init=False)  # no iterator yet
    _ended: bool = field(default=False, init=False)  # the shard is closed and read to its end
    _last_sequence: str | None = field(default=None, init=False)
    _buffer: list[Record] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(
            target=self._run, name=f"shard-{self.shard_id[-8:]}", daemon=True
        )

    @property
    def _settings(self) -> MappingSettings:
        return self.mapping.settings

    def _run(self) -> None:
        if self.position != "SKIP":
            for batch in self._batches():
                self._deliver(batch)
        if not self.mapping.stopping:
            self.done = True
            self.mapping.shard_finished()

    def _new_iterator(self, position: str) -> str:
        request: dict[str, Any] = {
            "StreamArn": self.mapping.stream_arn,
            "ShardId": self.shard_id,
            "ShardIteratorType": position,
        }
        if position == "AFTER_SEQUENCE_NUMBER":
            request["SequenceNumber"] = self._last_sequence
        return self.mapping.streams.get_shard_iterator(**request)["ShardIterator"]

    def _batches(self) -> Iterator[list[Record]]:
        """Batches until the shard has ended and every record of it was handed out."""
        size = self._settings.batch_size
        while not self.mapping.stopping:
            window_ends = None
            while not self._ended and len(self._buffer) < size:
                began = time.monotonic()
                fetched = self._fetch(size - len(self._buffer))
                if fetched == 0 and not self._buffer and not self._renew_iterator:
                    self.drained_at = began
                if self._buffer and window_ends is None:
                    window_ends = time.monotonic() + self._settings.batching_window_seconds
                if window_ends is not None and time.monotonic() >= window_ends:
                    break
                if fetched == 0:
                    wait = self._settings.poll_interval_seconds
                    if window_ends is not None:
                        wait = min(wait, max(window_ends - time.monotonic(), 0))
                    if self.mapping.pause(wait):
                        return
            if not self._buffer:
                return  # the shard ended (a live shard's iterator never runs out)
            batch, self._buffer = self._buffer[:size], self._buffer[size:]
            yield batch

    def _fetch(self, limit: int) -> int:
        """Read up to `limit` records into the buffer (after the filter); the number read."""
        try:
            if self._renew_iterator:
                # An iterator lives 15 minutes (a long retry loop can outlive it), and a failed
                # read may have left it unusable: continue after the last record read.
                resume = "AFTER_SEQUENCE_NUMBER" if self._last_sequence else self.position
                self._iterator = self._new_iterator(resume)
                self._renew_iterator = False
            page = self.mapping.streams.get_records(ShardIterator=self._iterator, Limit=limit)
        except (ClientError, BotoCoreError) as error:
            # DynamoDB Local answers TrimmedDataAccess for the iterator it handed out while the
            # shard was still empty; from the shard's start again, nothing is lost.
            code = error.response["Error"]["Code"] if isinstance(error, ClientError) else ""
            empty_shard_quirk = code == "TrimmedDataAccessException" and not self._last_sequence
            self._renew_iterator = True
            if not self.mapping.stopping and not empty_shard_quirk:
                logger.warning(
                    "%s: reading shard %s failed, retrying: %s",
                    self._settings.function_name,
                    self.shard_id,
                    error,
                )
            return 0
        # A closed shard's last page has no next iterator.
        self._iterator = page.get("NextShardIterator", "")
        self._ended = not self._iterator
        records = page.get("Records", [])
        accept = self._settings.record_filter
        for record in records:
            self._last_sequence = record["dynamodb"]["SequenceNumber"]
            delivered = lambda_record(dict(record), self.mapping.stream_arn)
            if accept is None or accept(delivered):
                self.mapping.read(delivered)
                self._buffer.append(delivered)
        return len(records)

    def _deliver(self, records: list[Record]) -> None:
        """Invoke until the batch succeeds or is discarded (or the mapping stops)."""
        retries = 0
        invocations = 0
        while records and not self.mapping.stopping:
            records = self._discard_too_old(records, invocations)
            if not records:
                return
            outcome = self.mapping.invoke(records)
            invocations += 1
            if outcome.failed_from is None:
                return
            if outcome.error and self._settings.bisect_on_error and len(records) > 1:
                half = len(records) // 2
                self._deliver(records[:half])
                self._deliver(records[half:])
                return
            records = records[outcome.failed_from :]
            retries += 1
            limit = self._settings.maximum_retry_attempts
            if 0 <= limit < retries:
                self._discard(records, "RetryAttemptsExhausted", invocations)
                return
            backoff = self._settings.retry_backoff_seconds * 2 ** (retries - 1)
            if self.mapping.pause(min(backoff, self._settings.retry_backoff_max_seconds)):
                return

    def _discard_too_old(self, records: list[Record], invocations: int) -> list[Record]:
        max_age = self._settings.maximum_record_age_seconds
        if max_age < 0:
            return records
        oldest_allowed = time.time() - max_age
        fresh: list[Record] = []
        expired: list[Record] = []
        for record in records:
            created = record["dynamodb"]["ApproximateCreationDateTime"]
            (fresh if created >= oldest_allowed else expired).append(record)
        if expired:
            self._discard(expired, "RecordAgeExceeded", invocations)
        return fresh

    def _discard(self, records: list[Record], condition: Condition, invocations: int) -> None:
        self.mapping.forget(records)
        self.mapping.failure_log.discard(
            function_name=self._settings.function_name,
            stream_arn=self.mapping.stream_arn,
            shard_id=self.shard_id,
            records=records,
            condition=condition,
            invocations=invocations,
        )
