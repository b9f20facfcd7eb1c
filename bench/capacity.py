"""A MODEL of provisioned read capacity in front of DynamoDB Local, which never throttles.

It is not DynamoDB; it is the arithmetic DynamoDB documents, applied to the read units DynamoDB
Local reports, for the two reads a leaderboard makes of the stats table (Scan pages and
BatchGetItem):
- a token bucket refills at the provisioned read units per second and keeps at most 300 seconds
  of unused capacity (DynamoDB's burst capacity);
- a request is admitted while the balance is positive, and debited at once with the least it can
  cost (a Scan page: one read, 0.5 RCU eventually consistent, 1 strongly; a BatchGetItem: that
  per key, as each item is charged on its own), so concurrent requests cannot all slip through
  one positive balance; the rest of the `ConsumedCapacity` its response reports is charged when
  it arrives, so one large page can take the balance below zero (the cost of a read is known
  only once it has read);
- a request that is not admitted gets DynamoDB's own throttling response
  (`ProvisionedThroughputExceededException`) before it is sent, so botocore's retry logic
  (standard mode: backoff, retry quota, `total_max_attempts`) runs as it would on AWS. A
  BatchGetItem is throttled whole: DynamoDB's partial answer (some keys back as UnprocessedKeys)
  is not modelled.

It is installed on boto3's default session, so every DynamoDB client created afterwards, the
handler's own included, shares the one bucket: capacity belongs to the table, not to a client.
The same hooks meter every read of the table, by operation: full Scans (pages, read units), the
rebuild's sweep pages, BatchGetItem (requests, players asked for, read units), and the attempts
the model throttled.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from botocore.awsrequest import AWSResponse

from tatourney.rebuild import SWEEP_ITEMS
from tatourney_local.faults import throttling_response

BURST_SECONDS = 300
READ_KEY = "bench_read"  # in botocore's per-call context: what the call reads, and its reserve


def least_read_units(consistent_read: bool) -> float:
    """What the smallest read costs: 4 KB strongly consistent, half that eventually."""
    return 1.0 if consistent_read else 0.5


class TokenBucket:
    """Read units: refilled continuously, capped at BURST_SECONDS of refill, may go negative."""

    def __init__(
        self,
        units_per_second: float,
        balance: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = units_per_second
        self._capacity = units_per_second * BURST_SECONDS
        self._balance = min(balance, self._capacity)
        self._clock = clock
        self._updated = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._balance = min(self._capacity, self._balance + (now - self._updated) * self._rate)
        self._updated = now

    def admit(self, reserve: float) -> bool:
        """Whether a request may proceed; if so, `reserve` units are debited at once."""
        with self._lock:
            self._refill()
            if self._balance <= 0:
                return False
            self._balance -= reserve
            return True

    def charge(self, units: float) -> None:
        with self._lock:
            self._refill()
            self._balance -= units


class ReadKind(enum.StrEnum):
    SCAN = "scan"  # a page of a Scan that reads the table (uncached, seed-cache, a full rebuild)
    SWEEP = "sweep"  # a page of SWEEP_ITEMS rows: the patch's backstop (rebuild.py)
    BATCH_GET = "batch_get"  # BatchGetItem of named players: the patch


@dataclass(frozen=True)
class Read:
    """One call's read of the table, as the hooks classify it before it is sent."""

    kind: ReadKind
    reserve: float  # debited on admission: the least the call can cost
    keys: int = 0  # players asked for (BatchGetItem)
    first_page: bool = False  # a Scan that starts at the table's start


@dataclass(frozen=True)
class TableMeter:
    """What the table served since the meter was last read."""

    scans: int = 0  # Scans started (first pages, sweeps excluded), throttled or not
    scan_pages: int = 0
    scan_read_units: float = 0.0
    sweep_pages: int = 0
    sweep_read_units: float = 0.0
    batch_gets: int = 0  # BatchGetItem requests answered
    players_read: int = 0  # keys those requests asked for
    batch_get_read_units: float = 0.0
    throttled_attempts: int = 0  # attempts answered with the modelled throttling, any kind

    @property
    def read_units(self) -> float:
        return self.scan_read_units + self.sweep_read_units + self.batch_get_read_units


class ProvisionedCapacity:
    """The capacity model and meter for one table (see the module docstring)."""

    def __init__(self, table_name: str) -> None:
        self._table_name = table_name
        self._bucket: TokenBucket | None = None
        self._meter = TableMeter()
        self._lock = threading.Lock()

    def install(self, events: Any) -> None:
        """Hook into a botocore event emitter (a session's: clients created later copy it)."""
        for operation in ("Scan", "BatchGetItem"):
            events.register(f"before-parameter-build.dynamodb.{operation}", self._classify)
            events.register(f"before-send.dynamodb.{operation}", self._admit)
            events.register(f"after-call.dynamodb.{operation}", self._charge)

    def provision(self, read_units_per_second: float | None, balance: float = 0.0) -> None:
        """Model a provisioned table from now on; None lifts the model (DynamoDB Local as is)."""
        self._bucket = (
            None if read_units_per_second is None else TokenBucket(read_units_per_second, balance)
        )

    def take_meter(self) -> TableMeter:
        """The meter's figures since the last call, and a fresh meter."""
        with self._lock:
            taken, self._meter = self._meter, TableMeter()
        return taken

    def _add(self, **counts: float) -> None:
        with self._lock:
            meter = self._meter
            self._meter = replace(
                meter, **{name: getattr(meter, name) + value for name, value in counts.items()}
            )

    def _classify(
        self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        least = least_read_units(bool(params.get("ConsistentRead")))
        if model.name == "Scan":
            if params.get("TableName") != self._table_name:
                return
            kind = ReadKind.SWEEP if params.get("Limit") == SWEEP_ITEMS else ReadKind.SCAN
            first = "ExclusiveStartKey" not in params
            context[READ_KEY] = Read(kind, least, first_page=first)
            if kind is ReadKind.SCAN and first:
                self._add(scans=1)
            return
        request = params.get("RequestItems", {}).get(self._table_name)
        if request is not None:
            keys = len(request.get("Keys", []))
            least = least_read_units(bool(request.get("ConsistentRead")))
            context[READ_KEY] = Read(ReadKind.BATCH_GET, least * keys, keys=keys)

    def _admit(self, request: Any, **_: Any) -> AWSResponse | None:
        bucket = self._bucket
        read = (request.context or {}).get(READ_KEY)
        if bucket is None or read is None or bucket.admit(read.reserve):
            return None
        self._add(throttled_attempts=1)
        return throttling_response(request.url)

    def _charge(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        read: Read | None = context.get(READ_KEY)
        consumed = parsed.get("ConsumedCapacity")
        if read is None or consumed is None:
            return  # another table, or a throttled answer (nothing read)
        answers = consumed if isinstance(consumed, list) else [consumed]
        units = sum(
            float(answer.get("CapacityUnits", 0.0))
            for answer in answers
            if answer.get("TableName") == self._table_name
        )
        if read.kind is ReadKind.SCAN:
            self._add(scan_pages=1, scan_read_units=units)
        elif read.kind is ReadKind.SWEEP:
            self._add(sweep_pages=1, sweep_read_units=units)
        else:
            self._add(batch_gets=1, players_read=read.keys, batch_get_read_units=units)
        bucket = self._bucket
        if bucket is not None:
            bucket.charge(units - read.reserve)
