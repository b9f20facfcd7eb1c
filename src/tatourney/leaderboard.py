"""The cache-aside read of the leaderboard (README, "How the cache protocol works").

Hit: the board is current when it was built under the generation counter's present value. A warm
container keeps the last board it served and its rendered pages, so a hit is one get of the tiny
counter whatever the board's size; a container without it gets board and counter in one round
trip. Miss: one reader wins `add(lease)`, reads the counter, and rebuilds (rebuild.py: only what
changed since the last board, or a full Scan), storing the board tagged with the counter it read
*before* reading the table, so a late store after an invalidation can never be served. Readers
that lose the lease wait briefly for the winner's board, then serve the last board as STALE, or
take the lease over if the winner gives it up; only a lease holder reads the table. A cache
failure sends the request to the table; a table failure serves the last board as STALE, else says
when to retry.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tatourney.board import Entry, RenderedBoard, decode, decode_header, encode, rank
from tatourney.cache import Cache, CacheUnavailable, LeaderboardKeys
from tatourney.changelog import ChangeLog, Position, random_start
from tatourney.config import LeaderboardConfig
from tatourney.rebuild import Reads, Rebuilder, ScanIncomplete, ScanProgress
from tatourney.table import StatsTable, TableUnavailable

logger = logging.getLogger(__name__)

WAIT_POLL_SECONDS = 0.025
# How long a reader that lost the lease waits for the holder's board before serving the last
# one as STALE: a rebuild from the change log takes a few milliseconds to tens of them.
FRESH_WAIT_SECONDS = 0.25
# memcached stores the key and a ~50-byte header in the same item as the value.
ITEM_OVERHEAD_BYTES = 512
# What a lease holder leaves in the lease when the table throttled it: readers that see it answer
# at once (the last board, or 503) instead of waiting for a board that is not coming.
THROTTLED_LEASE = b"throttled"


class Source(enum.StrEnum):
    HIT = "HIT"  # the board of the current generation, from memory or memcached
    MISS = "MISS"  # built from the table for this request
    STALE = "STALE"  # the last board, served while the table is unreadable or being read


@dataclass
class Trace:
    """What one read did beyond answering: for the metrics and the tests."""

    reads: Reads = field(default_factory=Reads)
    lease_waits: int = 0
    lease_takeovers: int = 0
    cache_errors: int = 0


@dataclass(frozen=True)
class Served:
    board: RenderedBoard
    source: Source
    trace: Trace = field(default_factory=Trace, compare=False)


@dataclass(frozen=True)
class Unavailable:
    """Nothing to serve: the table could not be read, or another request is still reading it,
    and no board is cached."""

    retry_after_seconds: int
    reason: str
    trace: Trace = field(default_factory=Trace, compare=False)


Answer = Served | Unavailable


def _counter(value: bytes | None) -> int | None:
    return int(value) if value is not None and value.isdigit() and len(value) <= 20 else None


class Leaderboard:
    def __init__(
        self,
        cache: Cache,
        table: StatsTable,
        config: LeaderboardConfig,
        clock: Callable[[], float] = time.time,
        settle: bool = True,
    ) -> None:
        """`settle=False`: see Rebuilder (a test switch, never deployed)."""
        self._cache = cache
        self._table = table
        self._config = config
        self._keys = LeaderboardKeys.for_prefix(config.cache.key_prefix)
        self._clock = clock
        self._rebuilder = Rebuilder(
            table, self._save_progress, config.lease_ttl_seconds / 2, clock, settle
        )
        self._memory: RenderedBoard | None = None  # the last board this container built or got

    def read(self) -> Answer:
        trace = Trace()
        try:
            board = self._current()
        except CacheUnavailable as error:
            return self._without_cache(error, trace)
        if board is not None:
            return Served(board, Source.HIT, trace)
        return self._rebuild(trace)

    # Hits -----------------------------------------------------------------------------------

    def _current(self) -> RenderedBoard | None:
        memory = self._memory
        if (
            memory is not None
            and self._fresh(memory.built_at)
            and _counter(self._cache.get(self._keys.generation)) == memory.generation
        ):
            return memory
        return self._current_from_cache()

    def _current_of(self, value: bytes | None, generation: int | None) -> RenderedBoard | None:
        """The board in `value` if it was built under `generation` and is not due a rebuild."""
        header = decode_header(value)
        if header is None or header[0] != generation or not self._fresh(header[1]):
            return None
        return self._remember(value)

    def _fresh(self, built_at: float) -> bool:
        """Whether a board is young enough to serve as current: an older one is rebuilt even
        without a change, so the sweep (rebuild.py) re-reads the table when nothing happens."""
        return self._clock() - built_at < self._config.cache_ttl_seconds

    def _remember(self, value: bytes | None) -> RenderedBoard | None:
        """The board in `value`, rendered once per container and kept for the next requests."""
        header = decode_header(value)
        memory = self._memory
        if header is not None and memory is not None and memory.same_as(*header):
            return memory
        entry = decode(value)
        if entry is None:
            return None
        self._memory = RenderedBoard(entry)
        return self._memory

    # Misses ---------------------------------------------------------------------------------

    def _rebuild(self, trace: Trace) -> Answer:
        try:
            if self._take_lease():
                return self._rebuild_holding_lease(trace)
        except CacheUnavailable as error:
            return self._without_cache(error, trace)
        return self._follow_lease_holder(trace)

    def _take_lease(self) -> bool:
        token = secrets.token_hex(8).encode()
        return self._cache.add(self._keys.lease, token, self._config.lease_ttl_seconds)

    def _rebuild_holding_lease(self, trace: Trace) -> Answer:
        keep_lease = False
        try:
            generation = self._generation()  # before anything the board is built from
            found = self._cache.get_many([self._keys.board, self._keys.log, self._keys.scan])
            value = found.get(self._keys.board)
            # The previous holder may have stored the board and released the lease between this
            # reader's miss and its `add`: look once more before reading the table.
            current = self._current_of(value, generation)
            if current is not None:
                return Served(current, Source.HIT, trace)
            base = decode(value)
            try:
                entry = self._rebuilder.build(
                    generation,
                    ChangeLog.decode(found.get(self._keys.log)) or self._create_log(),
                    base,
                    ScanProgress.decode(found.get(self._keys.scan)),
                    trace.reads,
                )
            except TableUnavailable as error:
                if error.throttled:
                    keep_lease = self._mark_lease_throttled()
                return self._last_board_or_unavailable(base, str(error), trace)
            except ScanIncomplete as error:
                return self._last_board_or_unavailable(base, str(error), trace)
            self._store(entry)
            self._memory = RenderedBoard(entry)
            return Served(self._memory, Source.MISS, trace)
        except CacheUnavailable as error:
            return self._without_cache(error, trace)
        finally:
            if not keep_lease:
                self._release_lease()

    def _mark_lease_throttled(self) -> bool:
        """Keep the lease until it expires, marked: the next readers do not ask the table again
        at once, and answer without waiting. True when the mark was left."""
        try:
            self._cache.set(self._keys.lease, THROTTLED_LEASE, self._config.lease_ttl_seconds)
        except CacheUnavailable:
            return False
        return True

    def _follow_lease_holder(self, trace: Trace) -> Answer:
        """Wait for the holder's board: HIT when it is stored, the lease taken over if it is
        released (or expires) without one, the last board as STALE after FRESH_WAIT_SECONDS
        (at once if the holder was throttled), and 503 when there is none by LEASE_WAIT_MS
        (at once if throttled). Never a read of the table while another reader holds the
        lease: that read would be the herd."""
        trace.lease_waits += 1
        started = time.monotonic()
        deadline = started + self._config.lease_wait_seconds
        stale_from = started + FRESH_WAIT_SECONDS
        while True:
            try:
                lease = self._cache.get(self._keys.lease)
                if lease == THROTTLED_LEASE:
                    stale_from = deadline = time.monotonic()
                if lease is None:
                    # On the one home node, a released lease implies the board is stored.
                    current = self._current_from_cache()
                    if current is not None:
                        return Served(current, Source.HIT, trace)
                    if self._take_lease():
                        trace.lease_takeovers += 1
                        return self._rebuild_holding_lease(trace)
                elif time.monotonic() >= stale_from:
                    found = self._cache.get_many([self._keys.board, self._keys.generation])
                    value = found.get(self._keys.board)
                    current = self._current_of(value, _counter(found.get(self._keys.generation)))
                    last = current or self._remember(value) or self._memory
                    if last is not None:
                        return Served(last, Source.HIT if current else Source.STALE, trace)
            except CacheUnavailable as error:
                return self._without_cache(error, trace)
            if time.monotonic() >= deadline:
                break
            time.sleep(WAIT_POLL_SECONDS)
        logger.warning("no board to serve while another request reads the table")
        return Unavailable(
            self._config.retry_after_seconds, "another request is reading the table", trace
        )

    def _current_from_cache(self) -> RenderedBoard | None:
        found = self._cache.get_many([self._keys.board, self._keys.generation])
        return self._current_of(
            found.get(self._keys.board), _counter(found.get(self._keys.generation))
        )

    def _generation(self) -> int:
        """The counter, created with a random start if it was never set or was evicted."""
        found = _counter(self._cache.get(self._keys.generation))
        if found is None:
            self._cache.add(self._keys.generation, b"%d" % random_start(), 0)
            found = _counter(self._cache.get(self._keys.generation))
            if found is None:
                raise CacheUnavailable("generation counter could not be created")
        return found

    def _create_log(self) -> ChangeLog:
        """An empty change log (never written yet, or evicted); if another reader or the
        invalidate function created one first, theirs is used."""
        self._cache.add(self._keys.log, ChangeLog.new(self._clock()).encode(), 0)
        log = ChangeLog.decode(self._cache.get(self._keys.log))
        if log is None:
            raise CacheUnavailable("change log could not be created")
        return log

    def _store(self, entry: Entry) -> None:
        """Cache the board; a value that does not fit is skipped, logged."""
        self._set_fitting(self._keys.board, encode(entry), "board")

    def _save_progress(self, progress: ScanProgress | None) -> None:
        if progress is None:
            with contextlib.suppress(CacheUnavailable):
                self._cache.delete(self._keys.scan)
            return
        self._set_fitting(self._keys.scan, progress.encode(), "full scan progress")

    def _set_fitting(self, key: str, value: bytes, what: str) -> None:
        limit = self._config.cache_item_limit_bytes - ITEM_OVERHEAD_BYTES
        if len(value) > limit:
            logger.warning(
                f"{what} too large to cache, skipped",
                extra={"value_bytes": len(value), "limit_bytes": limit},
            )
            return
        try:
            self._cache.set(key, value, self._config.stale_ttl_seconds)
        except CacheUnavailable as error:
            logger.warning(f"{what} not cached", extra={"error": str(error)})

    def _release_lease(self) -> None:
        # Deleting a lease that expired and was taken by another reader costs at most one
        # extra rebuild; memcached has no compare-and-delete to rule that out.
        # If memcached is unreachable the lease expires by itself after LEASE_TTL_SECONDS.
        with contextlib.suppress(CacheUnavailable):
            self._cache.delete(self._keys.lease)

    # Failures -------------------------------------------------------------------------------

    def _without_cache(self, error: CacheUnavailable, trace: Trace) -> Answer:
        logger.warning("cache unavailable, reading the table", extra={"error": str(error)})
        trace.cache_errors += 1
        try:
            # Consistent: without the cache there is no change log to check the rows against,
            # and an eventually consistent Scan could miss a change already invalidated.
            scanned = self._table.scan(consistent=True)
        except TableUnavailable as table_error:
            return self._last_board_or_unavailable(None, str(table_error), trace)
        trace.reads.scan_pages += scanned.requests
        trace.reads.read_units += scanned.consumed_read_units
        # Generation 0 is never current: the counter starts at a random 63-bit value.
        entry = Entry(
            0, self._clock(), Position(0, 0), None, scanned.consumed_read_units, rank(scanned.rows)
        )
        self._memory = RenderedBoard(entry)
        return Served(self._memory, Source.MISS, trace)

    def _last_board_or_unavailable(self, base: Entry | None, reason: str, trace: Trace) -> Answer:
        """The newest board at hand (the cached one, or this container's) as STALE, else 503."""
        memory = self._memory
        if base is not None and (memory is None or memory.built_at < base.built_at):
            memory = self._memory = RenderedBoard(base)
        if memory is not None:
            logger.warning("table unavailable, serving the last board", extra={"error": reason})
            return Served(memory, Source.STALE, trace)
        logger.error("table unavailable and no board to serve", extra={"error": reason})
        return Unavailable(self._config.retry_after_seconds, reason, trace)
