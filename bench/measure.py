"""The measurements. Each is bounded by a count and by time; none asserts anything."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from pymemcache.client.base import Client

from bench.capacity import ScanMeter
from bench.modes import CacheAdmin, Container, Mode, Response
from bench.stack import Change, Changes, Stack
from tatourney.leaderboard import Served

PROVISIONED_READ_UNITS = 1.0
FRESH_WITHIN_SECONDS = 5.0


def outcome(response: Response) -> str:
    """`200 HIT`, `200 MISS`, `200 STALE`, `503`, `500`."""
    return f"{response.status} {response.cache}".strip()


@dataclass(frozen=True)
class SteadyRun:
    """Sequential requests to one warm container, with a change every `change_every`."""

    latencies_ms: list[float]
    hit_latencies_ms: list[float]  # of the requests answered from the cache
    outcomes: dict[str, int]
    changes: int
    meter: ScanMeter
    body_bytes: int

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)


def steady_state(
    container: Container,
    mode: Mode,
    stack: Stack,
    changes: Changes,
    admin: CacheAdmin,
    *,
    max_requests: int,
    max_seconds: float,
    change_every: int,
) -> SteadyRun:
    admin.empty(mode)
    container.use(mode)
    body_bytes = len(container.get_stats().body.encode())  # warm: connections open, cache full
    stack.capacity.take_meter()
    latencies: list[float] = []
    hits: list[float] = []
    outcomes: Counter[str] = Counter()
    changed = 0
    deadline = time.monotonic() + max_seconds
    while len(latencies) < max_requests and time.monotonic() < deadline:
        if latencies and len(latencies) % change_every == 0:  # each change is read after
            changes.write()
            admin.invalidate(mode, changes.next_event())
            changed += 1
        started = time.perf_counter()
        response = container.get_stats()
        latencies.append((time.perf_counter() - started) * 1000)
        outcomes[outcome(response)] += 1
        if response.cache == "HIT":
            hits.append(latencies[-1])
    meter = stack.capacity.take_meter()
    return SteadyRun(latencies, hits, dict(outcomes), changed, meter, body_bytes)


def raw_gets(stack: Stack, value_bytes: int, max_gets: int, max_seconds: float) -> list[float]:
    """The floor: a plain memcached get of a value as large as the response body."""
    client = Client(("127.0.0.1", stack.memcached.port), no_delay=True, timeout=2)
    try:
        client.set("bench:raw", b"x" * value_bytes, expire=0)
        latencies: list[float] = []
        deadline = time.monotonic() + max_seconds
        while len(latencies) < max_gets and time.monotonic() < deadline:
            started = time.perf_counter()
            client.get("bench:raw")
            latencies.append((time.perf_counter() - started) * 1000)
        return latencies
    finally:
        client.close()


@dataclass(frozen=True)
class HerdRun:
    readers: int
    scans: int
    answers: list[tuple[str, float]]  # outcome and latency (ms) of each reader
    seconds: float


def herd(containers: list[Container], mode: Mode, stack: Stack, admin: CacheAdmin) -> HerdRun:
    """N containers read at once on a cold cache; how many of them scanned the table."""
    admin.empty(mode)
    for container in containers:
        container.use(mode)
    start = threading.Barrier(len(containers))
    answers: list[tuple[str, float]] = [("no answer", 0.0)] * len(containers)

    def read(index: int) -> None:
        start.wait(timeout=60)
        began = time.perf_counter()
        response = containers[index].get_stats()
        answers[index] = (outcome(response), (time.perf_counter() - began) * 1000)

    stack.capacity.take_meter()
    started = time.perf_counter()
    threads = [threading.Thread(target=read, args=(i,)) for i in range(len(containers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    seconds = time.perf_counter() - started
    return HerdRun(len(containers), stack.capacity.take_meter().scans, answers, seconds)


@dataclass(frozen=True)
class FreshnessTrial:
    """Milliseconds from the write: its stream record read, its invalidation done, and the
    first read that showed it (None: not within FRESH_WITHIN_SECONDS)."""

    stream_ms: float | None
    invalidated_ms: float | None
    fresh_ms: float | None
    reads: int


def freshness(
    container: Container,
    mode: Mode,
    changes: Changes,
    admin: CacheAdmin,
    trials: int,
) -> list[FreshnessTrial]:
    """Write, then (cached modes) stream record -> invalidation -> read until the change shows.
    Uncached needs no invalidation: it reads right after the write."""
    admin.empty(mode)
    container.use(mode)
    results = []
    for _ in range(trials):
        container.get_stats()  # the current board is cached
        written = time.perf_counter()
        change = changes.write()
        stream_ms = invalidated_ms = None
        if mode is not Mode.UNCACHED:
            event = changes.next_event()
            stream_ms = (time.perf_counter() - written) * 1000
            admin.invalidate(mode, event)
            invalidated_ms = (time.perf_counter() - written) * 1000
        fresh_ms, reads = _read_until_shown(container, change, written)
        if mode is Mode.UNCACHED:
            changes.next_event()  # keep the stream tail in step
        results.append(FreshnessTrial(stream_ms, invalidated_ms, fresh_ms, reads))
    return results


def _read_until_shown(
    container: Container, change: Change, since: float
) -> tuple[float | None, int]:
    reads = 0
    while time.perf_counter() - since < FRESH_WITHIN_SECONDS:
        response = container.get_stats()
        reads += 1
        if response.status == 200 and change.shown_in(response.body):
            return (time.perf_counter() - since) * 1000, reads
    return None, reads


@dataclass(frozen=True)
class RaceRun:
    """A reader scans; a change is written and invalidated; the reader stores what it read.
    `stale_reads` of the `followups` reads after it served the board from before the change."""

    racer_read_old: bool
    followups: int
    stale_reads: int


def stale_race(
    container: Container,
    mode: Mode,
    changes: Changes,
    admin: CacheAdmin,
    followups: int,
) -> RaceRun:
    admin.empty(mode)
    changed: list[Change] = []

    def write_and_invalidate() -> None:
        changed.append(changes.write())
        admin.invalidate(mode, changes.next_event())

    answer = container.racing_reader(mode, write_and_invalidate).read()
    racer_read_old = isinstance(answer, Served) and not changed[0].among(
        json.loads(answer.board.players_json)
    )
    container.use(mode)
    stale = 0
    for _ in range(followups):
        response = container.get_stats()
        if not (response.status == 200 and changed[0].shown_in(response.body)):
            stale += 1
    return RaceRun(racer_read_old, followups, stale)


@dataclass(frozen=True)
class LoadRun:
    """An open-loop offered load against the capacity model (bucket empty at the start)."""

    offered_rps: float
    seconds: float  # of arrivals
    elapsed_seconds: float  # until the last answer
    latencies_ms: list[float]
    outcomes: dict[str, int]
    changes: int
    meter: ScanMeter

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)


def offered_load(
    containers: list[Container],
    mode: Mode,
    stack: Stack,
    changes: Changes,
    admin: CacheAdmin,
    *,
    rate: float,
    seconds: float,
    change_every_seconds: float,
) -> LoadRun:
    """`rate` GET /stats per second for `seconds`, arrivals on a fixed schedule whether or not
    earlier ones finished (a container per request in flight, like Lambda's scaling), and a
    change every `change_every_seconds`, all against a 1-RCU table with no burst left."""
    admin.empty(mode)
    for container in containers:
        container.use(mode)
    containers[0].get_stats()  # the board is cached before the load starts
    idle: queue.Queue[Container] = queue.Queue()
    for container in containers:
        idle.put(container)
    stop = threading.Event()
    changed = [0]

    def keep_changing() -> None:
        while not stop.wait(change_every_seconds):
            changes.write()
            admin.invalidate(mode, changes.next_event())
            changed[0] += 1

    def request(scheduled: float) -> tuple[float, str]:
        container = idle.get()
        try:
            response = container.get_stats()
        finally:
            idle.put(container)
        return (time.perf_counter() - scheduled) * 1000, outcome(response)

    stack.capacity.take_meter()
    stack.capacity.provision(PROVISIONED_READ_UNITS, balance=0.0)
    writer = threading.Thread(target=keep_changing)
    writer.start()
    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=len(containers)) as pool:
            futures = []
            for i in range(int(rate * seconds)):
                scheduled = started + i / rate
                time.sleep(max(0.0, scheduled - time.perf_counter()))
                futures.append(pool.submit(request, scheduled))
            stop.set()
            results = [future.result() for future in futures]
        elapsed = time.perf_counter() - started
    finally:
        stop.set()
        writer.join()
        stack.capacity.provision(None)
    return LoadRun(
        offered_rps=rate,
        seconds=seconds,
        elapsed_seconds=elapsed,
        latencies_ms=[latency for latency, _ in results],
        outcomes=dict(Counter(result for _, result in results)),
        changes=changed[0],
        meter=stack.capacity.take_meter(),
    )
