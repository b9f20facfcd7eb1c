"""A MODEL of provisioned read capacity in front of DynamoDB Local, which never throttles.

It is not DynamoDB; it is the arithmetic DynamoDB documents, applied to the read units DynamoDB
Local reports:
- a token bucket refills at the provisioned read units per second and keeps at most 300 seconds
  of unused capacity (DynamoDB's burst capacity);
- a Scan page is admitted while the balance is positive, and debited at once with the least a
  read can cost (0.5 RCU eventually consistent, 1 strongly), so concurrent pages cannot all
  slip through one positive balance; the rest of the `ConsumedCapacity` its response reports is
  charged when it arrives, so one large page can take the balance below zero (the cost of a
  read is known only once it has read);
- a page that is not admitted gets DynamoDB's own throttling response
  (`ProvisionedThroughputExceededException`) before it is sent, so botocore's retry logic
  (standard mode: backoff, retry quota, `total_max_attempts`) runs as it would on AWS.

It is installed on boto3's default session, so every DynamoDB client created afterwards, the
handler's own included, shares the one bucket: capacity belongs to the table, not to a client.
The same hooks meter every Scan of the table (scans, pages, read units, throttled attempts).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.awsrequest import AWSResponse

from tatourney_local.faults import throttling_response

BURST_SECONDS = 300
RESERVED_KEY = "bench_reserved_read_units"  # in botocore's per-call context


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


@dataclass(frozen=True)
class ScanMeter:
    """What the table served to Scans since the meter was last read."""

    scans: int = 0  # Scan operations started (first pages), throttled or not
    pages: int = 0  # pages read
    read_units: float = 0.0  # ConsumedCapacity of those pages
    throttled_attempts: int = 0  # attempts answered with the modelled throttling


class ProvisionedCapacity:
    """The capacity model and meter for one table (see the module docstring)."""

    def __init__(self, table_name: str) -> None:
        self._table_name = table_name
        self._bucket: TokenBucket | None = None
        self._meter = ScanMeter()
        self._lock = threading.Lock()

    def install(self, events: Any) -> None:
        """Hook into a botocore event emitter (a session's: clients created later copy it)."""
        events.register("before-parameter-build.dynamodb.Scan", self._count_scan)
        events.register("before-send.dynamodb.Scan", self._admit)
        events.register("after-call.dynamodb.Scan", self._charge)

    def provision(self, read_units_per_second: float | None, balance: float = 0.0) -> None:
        """Model a provisioned table from now on; None lifts the model (DynamoDB Local as is)."""
        self._bucket = (
            None if read_units_per_second is None else TokenBucket(read_units_per_second, balance)
        )

    def take_meter(self) -> ScanMeter:
        """The meter's figures since the last call, and a fresh meter."""
        with self._lock:
            taken, self._meter = self._meter, ScanMeter()
        return taken

    def _add(
        self, scans: int = 0, pages: int = 0, read_units: float = 0.0, throttled: int = 0
    ) -> None:
        with self._lock:
            meter = self._meter
            self._meter = ScanMeter(
                scans=meter.scans + scans,
                pages=meter.pages + pages,
                read_units=meter.read_units + read_units,
                throttled_attempts=meter.throttled_attempts + throttled,
            )

    def _count_scan(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if params.get("TableName") != self._table_name:
            return
        context[RESERVED_KEY] = least_read_units(bool(params.get("ConsistentRead")))
        if "ExclusiveStartKey" not in params:
            self._add(scans=1)

    def _admit(self, request: Any, **_: Any) -> AWSResponse | None:
        bucket = self._bucket
        if bucket is None:
            return None
        body = json.loads(request.body)
        if body.get("TableName") != self._table_name:
            return None
        if bucket.admit(least_read_units(bool(body.get("ConsistentRead")))):
            return None
        self._add(throttled=1)
        return throttling_response(request.url)

    def _charge(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        consumed = parsed.get("ConsumedCapacity") or {}
        if consumed.get("TableName") != self._table_name:
            return  # a throttled answer (nothing read), or another table
        units = float(consumed.get("CapacityUnits", 0.0))
        self._add(pages=1, read_units=units)
        bucket = self._bucket
        if bucket is not None:
            bucket.charge(units - context.get(RESERVED_KEY, 0.0))
