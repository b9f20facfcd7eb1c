"""The cache-aside read of the leaderboard (README, "How the cache protocol works").

Hit: the board is current when it was built under the generation counter's present value. A warm
container keeps the last board it served and its rendered pages, so a hit is one get of the tiny
counter whatever the board's size; a container without it gets board head and counter in one
round trip, then brings the board it holds up to that head: the deltas after its version, or
(nothing held, or a gap) the whole board's chunks, once (board.py). Miss: one reader wins
`add(lease)`, reads the counter, and rebuilds (rebuild.py: only what changed since the last
board, or a full Scan), storing the board tagged with the counter it read *before* reading the
table, so a late store after an invalidation can never be served. Readers that lose the lease
wait briefly for the winner's board, then serve the last board as STALE, or take the lease over
if the winner gives it up; only a lease holder reads the table, and it stores what changed: the
delta, the chunks of the players changed, then the head. A cache failure sends the request to
the table; a table failure serves the last board as STALE, else says when to retry.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tatourney.board import (
    RECENT_VERSIONS,
    Board,
    Entry,
    Head,
    RenderedBoard,
    decode_changes,
    decode_head,
    decode_header,
    decode_rows,
    encode_changes,
    encode_head,
    new_version,
    stored_chunks,
)
from tatourney.cache import Cache, CacheUnavailable, LeaderboardKeys
from tatourney.changelog import ChangeLog, random_start
from tatourney.config import LeaderboardConfig
from tatourney.rebuild import Reads, Rebuilder, ScanIncomplete, ScanProgress, Update
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


def parse_counter(value: bytes | None) -> int | None:
    """The generation counter's value, or None when absent or not a counter."""
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
        self._memory: RenderedBoard | None = None  # the last board this container served
        # The cached board this container follows, patched in place by deltas; the lock keeps
        # concurrent requests (the local runner's threads) from patching it at once.
        self._followed: Entry | None = None
        self._follow_lock = threading.Lock()

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
        return self._current_in_memory() or self._current_from_cache()

    def _current_in_memory(self) -> RenderedBoard | None:
        # A function of its own: no reference to the last board outlives it, so following the
        # cached board next does not make the board copy its ranking for this one (board.py).
        memory = self._memory
        if (
            memory is not None
            and self._fresh(memory.built_at)
            and parse_counter(self._cache.get(self._keys.generation)) == memory.generation
        ):
            return memory
        return None

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
        """The board whose head is `value`, followed once per container and kept."""
        header = decode_header(value)
        if header is not None and self._memory is not None and self._memory.same_as(*header):
            return self._memory
        entry = self._follow(decode_head(value))
        if entry is None:
            return None
        self._memory = RenderedBoard(entry.head.generation, entry.head.built_at, entry.board)
        return self._memory

    def _follow(self, head: Head | None) -> Entry | None:
        """This container's board brought to `head`: patched with the deltas after its version
        when that version is one of the head's recent ones, else read whole from the chunks.
        None when the cache no longer holds what that takes (then the board is rebuilt)."""
        if head is None:
            return None
        with self._follow_lock:
            followed = self._followed
            if (
                followed is not None
                and followed.head.version in head.versions
                and self._catch_up(followed, head)
            ):
                self._followed = Entry(head, followed.board)
                return self._followed
            self._followed = None  # behind a gap, or patched wrong: read whole
            board = self._read_chunks(head)
            if board is None:
                return None
            self._followed = Entry(head, board)
            return self._followed

    def _catch_up(self, followed: Entry, head: Head) -> bool:
        """Apply to `followed`'s board the deltas after its version up to `head`'s; False, and
        the board untouched, when one is missing (a gap: evicted) or they would not give the
        head's rows (then the board is not to be used)."""
        board = followed.board
        after = head.versions[head.versions.index(followed.head.version) + 1 :]
        keys = [self._keys.delta(version) for version in after]
        found = self._cache.get_many(keys) if keys else {}
        deltas = [decode_changes(found.get(key)) for key in keys]
        if any(delta is None for delta in deltas):
            return False
        if board.projected(delta or {} for delta in deltas) != (head.total, head.digest):
            logger.warning("deltas do not give the board of their head, read whole")
            return False
        if deltas:
            self._let_go_of(board)
        for delta in deltas:
            board.apply(delta or {})
        return True

    def _let_go_of(self, board: Board) -> None:
        """Drop the last board served if it reads from `board`, about to change: the board
        would otherwise copy its ranking for it (O(n)); whoever patches it serves the patched
        board next, or the board's newer entry as STALE."""
        memory = self._memory
        if memory is not None and memory.reads_from(board):
            self._memory = None

    def _read_chunks(self, head: Head) -> Board | None:
        keys = [self._keys.chunk(i, version) for i, version in enumerate(head.chunks) if version]
        found = self._cache.get_many(keys) if keys else {}
        chunks = [decode_rows(found.get(key)) for key in keys]
        if any(rows is None for rows in chunks):
            return None
        board = Board.of(row for rows in chunks for row in rows or ())
        if not board.matches(head):
            logger.warning("cached board chunks differ from their head, treated as a miss")
            return None
        return board

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
            base = self._follow(decode_head(value))  # the board to patch, of any generation
            try:
                update = self._rebuilder.build(
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
            self._memory = self._store(generation, base, update)
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
                    current = self._current_of(
                        value, parse_counter(found.get(self._keys.generation))
                    )
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
            found.get(self._keys.board), parse_counter(found.get(self._keys.generation))
        )

    def _generation(self) -> int:
        """The counter, created with a random start if it was never set or was evicted."""
        found = parse_counter(self._cache.get(self._keys.generation))
        if found is None:
            self._cache.add(self._keys.generation, b"%d" % random_start(), 0)
            found = parse_counter(self._cache.get(self._keys.generation))
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

    def _store(self, generation: int, base: Entry | None, update: Update) -> RenderedBoard:
        """Apply `update` to the followed board and cache what changed: the delta and the
        chunks of the players it changed (all of them for a whole board), then the head, so a
        head never names a value not yet stored. A value that does not fit is skipped, logged,
        and the head with it."""
        version = new_version()
        with self._follow_lock:
            if base is None or update.whole or self._followed is not base:
                board = Board.of(row for row in update.changes.values() if row is not None)
                chunks, encoded = stored_chunks(board, version, None)
                versions: tuple[int, ...] = (version,)
                values: dict[str, bytes] = {}
            else:
                board = base.board
                self._let_go_of(board)
                board.apply(update.changes)
                chunks, encoded = stored_chunks(board, version, base.head.chunks, update.changes)
                versions = (*base.head.versions, version)[-RECENT_VERSIONS:]
                values = {self._keys.delta(version): encode_changes(update.changes)}
            values.update(
                (self._keys.chunk(index, version), value) for index, value in encoded.items()
            )
            head = Head(
                generation,
                self._clock(),
                update.position,
                update.sweep_from,
                update.scan_read_units,
                board.total,
                board.digest,
                versions,
                chunks,
            )
            self._followed = Entry(head, board)
            rendered = RenderedBoard(generation, head.built_at, board)
        if self._fits(values, "board"):
            try:
                self._cache.set_many(values, self._config.stale_ttl_seconds)
            except CacheUnavailable as error:
                logger.warning("board not cached", extra={"error": str(error)})
            else:
                self._set_fitting(self._keys.board, encode_head(head), "board head")
        return rendered

    def _save_progress(self, progress: ScanProgress | None) -> None:
        if progress is None:
            with contextlib.suppress(CacheUnavailable):
                self._cache.delete(self._keys.scan)
            return
        self._set_fitting(self._keys.scan, progress.encode(), "full scan progress")

    def _fits(self, values: dict[str, bytes], what: str) -> bool:
        """Whether every value fits memcached's item limit; if not, logged."""
        limit = self._config.cache_item_limit_bytes - ITEM_OVERHEAD_BYTES
        largest = max((len(value) for value in values.values()), default=0)
        if largest > limit:
            logger.warning(
                f"{what} too large to cache, skipped",
                extra={"value_bytes": largest, "limit_bytes": limit},
            )
            return False
        return True

    def _set_fitting(self, key: str, value: bytes, what: str) -> None:
        if not self._fits({key: value}, what):
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
        self._memory = RenderedBoard(0, self._clock(), Board.of(scanned.rows))
        return Served(self._memory, Source.MISS, trace)

    def _last_board_or_unavailable(self, base: Entry | None, reason: str, trace: Trace) -> Answer:
        """The newest board at hand (the cached one, or this container's) as STALE, else 503."""
        memory = self._memory
        if base is not None and (memory is None or memory.built_at < base.head.built_at):
            memory = self._memory = RenderedBoard(
                base.head.generation, base.head.built_at, base.board
            )
        if memory is not None:
            logger.warning("table unavailable, serving the last board", extra={"error": reason})
            return Served(memory, Source.STALE, trace)
        logger.error("table unavailable and no board to serve", extra={"error": reason})
        return Unavailable(self._config.retry_after_seconds, reason, trace)
