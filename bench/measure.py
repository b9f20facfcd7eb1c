"""The measurements. Each is bounded by a count and by time; none asserts anything."""

from __future__ import annotations

import gc
import queue
import threading
import time
import tracemalloc
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from pymemcache.client.base import Client

from bench.capacity import TableMeter
from bench.modes import CacheAdmin, Container, Mode, Response, site_request
from bench.stack import Change, Changes, Stack
from tatourney.board import MEMORY_PAGES, Board, RenderedBoard, decode_head, decode_rows
from tatourney.leaderboard import Served, Source
from tatourney.responses import DEFAULT_LIMIT, MAX_LIMIT, Page, leaderboard_response

PROVISIONED_READ_UNITS = 1.0
FRESH_WITHIN_SECONDS = 5.0
# Requests a reader may take to finish a full Scan: one longer than a request's budget (half the
# lease, LEASE_TTL_SECONDS) is read across requests, its progress kept in the cache (100,000
# players: about 40 requests here).
FULL_SCAN_WITHIN_REQUESTS = 100
RAW_SMALL_VALUE_BYTES = 100  # the yardstick for a hit: a raw get of a 100-byte value


def outcome(response: Response) -> str:
    """`200 HIT`, `200 MISS`, `200 STALE`, `304 HIT`, `503`."""
    return f"{response.status} {response.cache}".strip()


def first_board(container: Container) -> tuple[Response, int]:
    """Read until `container` serves a board, as a deployed site's readers would; the answer and
    the requests it took."""
    for requests in range(1, FULL_SCAN_WITHIN_REQUESTS + 1):
        response = container.get_stats()
        if response.status == 200:
            return response, requests
    raise RuntimeError(f"no board served within {FULL_SCAN_WITHIN_REQUESTS} requests")


def play(changes: Changes, admin: CacheAdmin, mode: Mode) -> Change:
    """One game, its stream batch, and the mode's invalidation of it."""
    change = changes.write()
    admin.invalidate(mode, changes.next_event())
    return change


@dataclass(frozen=True)
class SteadyRun:
    """Sequential requests to one warm container, with a change every `change_every`."""

    latencies_ms: list[float]
    hit_latencies_ms: list[float]  # of the requests answered from the cache
    outcomes: dict[str, int]
    changes: int
    meter: TableMeter
    wire_bytes: int  # of the answer to the site's request (gzip)

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
    container.start(mode)
    wire_bytes = len(first_board(container)[0].wire)  # warm: connections open, board cached
    stack.capacity.take_meter()
    latencies: list[float] = []
    hits: list[float] = []
    outcomes: Counter[str] = Counter()
    changed = 0
    deadline = time.monotonic() + max_seconds
    # A slow mode (a scan per request) still sees a few changes: one at most this far apart.
    change_within = max_seconds / 4
    last_change = time.monotonic()
    while len(latencies) < max_requests and time.monotonic() < deadline:
        due = len(latencies) % change_every == 0 or time.monotonic() - last_change > change_within
        if latencies and due:  # each change is read after
            play(changes, admin, mode)
            changed += 1
            last_change = time.monotonic()
        started = time.perf_counter()
        response = container.get_stats()
        latencies.append((time.perf_counter() - started) * 1000)
        outcomes[outcome(response)] += 1
        if response.cache == "HIT":
            hits.append(latencies[-1])
    meter = stack.capacity.take_meter()
    return SteadyRun(latencies, hits, dict(outcomes), changed, meter, wire_bytes)


# The site's request three ways: what a first visit (or a changed board) gets, the same without
# compression, and a poll of an unchanged board (the site sends the ETag it holds); and the
# yardstick, a raw memcached get of a 100-byte value.
HIT_VARIANTS = ("gzip", "identity", "304")
RAW_SMALL_GET = "raw get"
# The handler's `respond` alone (the cache protocol and the HTTP answer, without the decorators,
# the log line and the metrics around it): where a hit's time goes.
RESPOND_ONLY = "respond only"


def hit_variants(
    container: Container, stack: Stack, count: int, max_seconds: float
) -> dict[str, list[float]]:
    """Latencies (ms) of hits of each variant and of the raw get, interleaved so that all meet
    the same conditions (this shared machine's loopback latency drifts by 3x over seconds); the
    container already serves a board."""
    etag = first_board(container)[0].etag
    events = {
        "gzip": site_request(),
        "identity": site_request(accept_gzip=False),
        "304": site_request(if_none_match=etag),
    }
    client = Client(("127.0.0.1", stack.memcached.port), no_delay=True, timeout=2)
    names = (*HIT_VARIANTS, RESPOND_ONLY, RAW_SMALL_GET)
    latencies: dict[str, list[float]] = {name: [] for name in names}
    try:
        client.set("bench:raw", b"x" * RAW_SMALL_VALUE_BYTES, expire=0)
        deadline = time.monotonic() + max_seconds
        for _ in range(count):
            if time.monotonic() > deadline:
                break
            for variant in HIT_VARIANTS:
                started = time.perf_counter()
                response = container.get_stats(events[variant])
                elapsed = (time.perf_counter() - started) * 1000
                if response.cache == "HIT":
                    latencies[variant].append(elapsed)
            started = time.perf_counter()
            cache = container.respond(events["gzip"])
            elapsed = (time.perf_counter() - started) * 1000
            if cache == "HIT":
                latencies[RESPOND_ONLY].append(elapsed)
            started = time.perf_counter()
            client.get("bench:raw")
            latencies[RAW_SMALL_GET].append((time.perf_counter() - started) * 1000)
    finally:
        client.close()
    return latencies


def raw_gets(stack: Stack, value_bytes: int, max_gets: int, max_seconds: float) -> list[float]:
    """A plain memcached get of a value of `value_bytes`, on a client like the handler's."""
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
class CatchUp:
    """After a game, in milliseconds: the rebuild in the container that takes the lease, and the
    first hit of another warm container, which gets the new head and the game's delta from
    memcached and patches its board (every container does, once per change)."""

    rebuild_ms: list[float]
    other_container_first_hit_ms: list[float]


def catch_up(
    containers: list[Container], changes: Changes, admin: CacheAdmin, games: int
) -> CatchUp:
    builder, other = containers[:2]
    admin.empty(Mode.TATOURNEY)
    for container in (builder, other):
        container.start(Mode.TATOURNEY)
        first_board(container)
    rebuilds: list[float] = []
    first_hits: list[float] = []
    for _ in range(games):
        play(changes, admin, Mode.TATOURNEY)
        for container, into in ((builder, rebuilds), (other, first_hits)):
            started = time.perf_counter()
            container.get_stats()
            into.append((time.perf_counter() - started) * 1000)
    return CatchUp(rebuilds, first_hits)


@dataclass(frozen=True)
class PollBytes:
    """What the site's poll carries, through the handler (bytes of the body as sent)."""

    unchanged_status: int  # with If-None-Match of the current board
    unchanged_body_bytes: int
    changed_status: int  # with If-None-Match of the board before a change
    changed_gzip_bytes: int | None  # None: not compressed (a body under GZIP_FROM_BYTES)
    changed_identity_bytes: int


def poll_bytes(container: Container, changes: Changes, admin: CacheAdmin) -> PollBytes:
    container.start(Mode.TATOURNEY)
    held = first_board(container)[0].etag
    unchanged = container.get_stats(site_request(if_none_match=held))
    play(changes, admin, Mode.TATOURNEY)
    changed_gzip = container.get_stats(site_request(if_none_match=held))
    changed_identity = container.get_stats(site_request(accept_gzip=False, if_none_match=held))
    return PollBytes(
        unchanged.status,
        len(unchanged.wire),
        changed_gzip.status,
        len(changed_gzip.wire) if changed_gzip.gzipped else None,
        len(changed_identity.wire),
    )


@dataclass(frozen=True)
class ContainerMemory:
    """Python heap a warm container holds for its board (tracemalloc), in bytes."""

    board: int  # the Board read from the cached chunks and the RenderedBoard served from it
    default_page: int  # plus the site's page, rendered (its text), as kept after a request
    pages_bound: int  # plus MEMORY_PAGES pages of MAX_LIMIT players each: the bound
    cached_value_bytes: int  # the encoded board in memcached, head and chunks (not in containers)


def container_memory(admin: CacheAdmin) -> ContainerMemory:
    """What the board a container keeps costs it: measured on the board cached now."""
    value = admin.cache.get(admin.keys.board)
    head = decode_head(value)
    if value is None or head is None:
        raise RuntimeError("no board cached to measure")
    keys = [admin.keys.chunk(i, version) for i, version in enumerate(head.chunks) if version]
    chunks = admin.cache.get_many(keys)
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        followed = Board.of(row for key in keys for row in decode_rows(chunks.get(key)) or ())
        if not followed.matches(head):
            raise RuntimeError("the cached board's chunks do not match its head")
        board = RenderedBoard(head.generation, head.built_at, followed)
        board_bytes = tracemalloc.get_traced_memory()[0] - base
        served = Served(board, Source.HIT)
        leaderboard_response(served, Page(0, DEFAULT_LIMIT), None, "gzip")
        default_bytes = tracemalloc.get_traced_memory()[0] - base
        step = max(1, (board.total - MAX_LIMIT) // MEMORY_PAGES)
        for index in range(MEMORY_PAGES):
            leaderboard_response(served, Page(index * step, MAX_LIMIT), None, "gzip")
        bound_bytes = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    cached_bytes = len(value) + sum(len(chunk) for chunk in chunks.values())
    return ContainerMemory(board_bytes, default_bytes, bound_bytes, cached_bytes)


@dataclass(frozen=True)
class HerdRun:
    readers: int
    meter: TableMeter  # what the herd read from the table
    answers: list[tuple[str, float]]  # outcome and latency (ms) of each reader
    seconds: float


def _at_once(containers: list[Container], stack: Stack) -> HerdRun:
    """Every container sends the site's request at the same moment."""
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
    return HerdRun(len(containers), stack.capacity.take_meter(), answers, seconds)


def herd(containers: list[Container], mode: Mode, stack: Stack, admin: CacheAdmin) -> HerdRun:
    """N containers that have served nothing read at once on a cold cache (a deploy, a new
    cache node): what they read from the table."""
    admin.empty(mode)
    for container in containers:
        container.start(mode)
    return _at_once(containers, stack)


def herd_after_change(
    containers: list[Container], mode: Mode, stack: Stack, changes: Changes, admin: CacheAdmin
) -> HerdRun:
    """N warm containers, each holding the current board, read at once right after one change
    and its invalidation: what they read from the table."""
    admin.empty(mode)
    for container in containers:
        container.start(mode)
        first_board(container)  # the first builds the board; the others get it from the cache
    play(changes, admin, mode)
    return _at_once(containers, stack)


@dataclass(frozen=True)
class ColdStart:
    """One reader on an empty cache until it serves the first board (a deploy, a new cache
    node): what its full Scan read, over how many requests."""

    requests: int
    meter: TableMeter


def cold_start(container: Container, stack: Stack, admin: CacheAdmin) -> ColdStart:
    admin.empty(Mode.TATOURNEY)
    container.start(Mode.TATOURNEY)
    stack.capacity.take_meter()
    _, requests = first_board(container)
    return ColdStart(requests, stack.capacity.take_meter())


@dataclass(frozen=True)
class FreshnessTrial:
    """Milliseconds from the write: its stream records read, its invalidation done, and the
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
    """A game, then (cached modes) stream records -> invalidation -> read until it shows.
    Uncached needs no invalidation: it reads right after the write."""
    admin.empty(mode)
    container.start(mode)
    results = []
    for _ in range(trials):
        first_board(container)  # the current board is cached
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
    """A reader reads the table; a game is played and invalidated; the reader stores what it
    read. `stale_reads` of the `followups` reads after it served the board from before."""

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

    def play_meanwhile() -> None:
        changed.append(play(changes, admin, mode))

    reader = container.racing_reader(mode, play_meanwhile)
    answer = reader.read()
    for _ in range(FULL_SCAN_WITHIN_REQUESTS):  # it stores the board on the request that ends it
        if changed:
            break
        answer = reader.read()
    if not changed:
        raise RuntimeError(f"{mode.value}: the racing reader stored no board: {answer}")
    racer_read_old = isinstance(answer, Served) and not changed[0].among(answer.board.players())
    container.start(mode)
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
    meter: TableMeter

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
    earlier ones finished (a container per request in flight, like Lambda's scaling; the most
    recently used idle container takes the next request, as Lambda reuses warm ones rather
    than spreading requests over every container it ever started), and a game
    every `change_every_seconds`, all against a 1-RCU table with no burst left. It starts from
    the steady state of a deployed site: the board is cached, every container of a caching mode
    is warm (it has served the board once, as Lambda's containers have under steady traffic;
    what cold ones cost is what the cold-reader herds measure), and the table has no read
    capacity banked."""
    admin.empty(mode)
    for container in containers:
        container.start(mode)
    first_board(containers[0])  # the board is cached before the load starts
    if mode is not Mode.UNCACHED:  # the only mode with nothing to keep between requests
        for container in containers[1:]:
            container.get_stats()
    idle: queue.LifoQueue[Container] = queue.LifoQueue()
    for container in containers:
        idle.put(container)
    stop = threading.Event()
    changed = [0]

    def keep_changing() -> None:
        while not stop.wait(change_every_seconds):
            play(changes, admin, mode)
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
