"""The cache-aside read of the leaderboard (DESIGN.md, "The cache protocol").

Hit: one round trip, get_many([board, generation]), and the board's generation equals the
counter. Miss: one reader wins `add(lease)`, reads the generation, scans, and stores the board
tagged with that generation; an invalidation in the meantime bumps the counter, so a late store
can never be served. Readers that lose the lease serve the stale copy, or wait (bounded) for the
winner's board, taking the lease over if the winner gives it up; only a lease holder scans. A
cache failure sends the request to the table; a table failure serves the stale copy, else says
when to retry.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from tatourney.board import Board, Entry, decode, encode, render
from tatourney.cache import Cache, CacheUnavailable, LeaderboardKeys
from tatourney.config import LeaderboardConfig
from tatourney.table import StatsTable, TableUnavailable

logger = logging.getLogger(__name__)

WAIT_POLL_SECONDS = 0.025
# memcached stores the key and a ~50-byte header in the same item as the value.
ITEM_OVERHEAD_BYTES = 512


class Source(enum.StrEnum):
    HIT = "HIT"  # cached board of the current generation
    MISS = "MISS"  # built from the table for this request
    STALE = "STALE"  # last good board, served while the table is unreadable or being rebuilt


@dataclass(frozen=True)
class Served:
    board: Board
    source: Source


@dataclass(frozen=True)
class Unavailable:
    """Nothing to serve: the table could not be read, or another request is still reading it,
    and no copy is cached."""

    retry_after_seconds: int
    reason: str


Answer = Served | Unavailable


def new_generation() -> int:
    """A random 63-bit start, so a counter re-created after eviction never repeats an old value."""
    return secrets.randbits(63)


class Leaderboard:
    def __init__(
        self,
        cache: Cache,
        table: StatsTable,
        config: LeaderboardConfig,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._cache = cache
        self._table = table
        self._config = config
        self._keys = LeaderboardKeys.for_prefix(config.cache.key_prefix)
        self._clock = clock

    def read(self) -> Answer:
        return self._current_or(self._rebuild)

    def _current_or(self, build: Callable[[], Answer]) -> Answer:
        """The current board as a HIT, else what `build` answers; the table if the cache fails."""
        try:
            current = self._current_entry()
        except CacheUnavailable as error:
            return self._scan_without_cache(error)
        if current is not None:
            return Served(current.board, Source.HIT)
        return build()

    def _current_entry(self) -> Entry | None:
        """The cached board if it was built under the current generation."""
        return self._entry_if_current(
            self._cache.get_many([self._keys.board, self._keys.generation])
        )

    def _entry_if_current(self, found: dict[str, bytes]) -> Entry | None:
        entry = decode(found.get(self._keys.board))
        generation = found.get(self._keys.generation)
        if entry is None or generation is None or entry.generation != int(generation):
            return None
        return entry

    def _rebuild(self) -> Answer:
        try:
            if self._take_lease():
                return self._rebuild_holding_lease()
            # Another reader holds the lease. It may have stored the board since this reader's
            # miss, so the board is looked at again with the stale copy, in one round trip.
            found = self._cache.get_many(
                [self._keys.board, self._keys.generation, self._keys.stale]
            )
        except CacheUnavailable as error:
            return self._scan_without_cache(error)
        current = self._entry_if_current(found)
        if current is not None:
            return Served(current.board, Source.HIT)
        stale = decode(found.get(self._keys.stale))
        if stale is not None:
            return Served(stale.board, Source.STALE)
        return self._follow_lease_holder()

    def _take_lease(self) -> bool:
        token = secrets.token_hex(8).encode()
        return self._cache.add(self._keys.lease, token, self._config.lease_ttl_seconds)

    def _rebuild_holding_lease(self) -> Answer:
        try:
            # The previous holder may have stored the board and released the lease between
            # this reader's miss and its `add`: look once more before paying for a scan.
            return self._current_or(self._scan_and_store)
        finally:
            self._release_lease()

    def _follow_lease_holder(self) -> Answer:
        """Wait up to LEASE_WAIT_MS for the holder's board, taking the lease over if it is
        released (or expires) without one. Never a scan while another reader holds the lease:
        that scan would be the herd, and on a 1-RCU table it would only be throttled."""
        deadline = time.monotonic() + self._config.lease_wait_seconds
        # The lease first: on one node a released lease then implies the board is already set.
        watched = [self._keys.lease, self._keys.generation, self._keys.board]
        while True:
            try:
                found = self._cache.get_many(watched)
                entry = self._entry_if_current(found)
                if entry is not None:
                    return Served(entry.board, Source.HIT)
                if self._keys.lease not in found and self._take_lease():
                    return self._rebuild_holding_lease()
            except CacheUnavailable as error:
                return self._scan_without_cache(error)
            if time.monotonic() >= deadline:
                break
            time.sleep(WAIT_POLL_SECONDS)
        stale = self._stale_board()
        if stale is not None:
            return Served(stale, Source.STALE)
        logger.warning("lease holder did not store the board within LEASE_WAIT_MS")
        return Unavailable(self._config.retry_after_seconds, "another request is reading the table")

    def _scan_and_store(self) -> Answer:
        try:
            generation = self._generation()
        except CacheUnavailable as error:
            return self._scan_without_cache(error)
        try:
            board = render(self._table.scan().rows, self._clock())
        except TableUnavailable as error:
            return self._when_table_unavailable(error)
        self._store(Entry(generation, board))
        return Served(board, Source.MISS)

    def _generation(self) -> int:
        """The counter, created with a random start if it was never set or was evicted."""
        found = self._cache.get_many([self._keys.generation]).get(self._keys.generation)
        if found is None:
            self._cache.add(self._keys.generation, b"%d" % new_generation(), 0)
            found = self._cache.get_many([self._keys.generation]).get(self._keys.generation)
            if found is None:
                raise CacheUnavailable("generation counter could not be created")
        return int(found)

    def _store(self, entry: Entry) -> None:
        """Cache the board and its stale copy; a value that does not fit is skipped, logged."""
        value = encode(entry)
        limit = self._config.cache_item_limit_bytes - ITEM_OVERHEAD_BYTES
        if len(value) > limit:
            logger.warning(
                "board too large to cache, skipped",
                extra={"value_bytes": len(value), "limit_bytes": limit},
            )
            return
        stale_value = encode(Entry(0, entry.board))
        try:
            self._cache.set(self._keys.board, value, self._config.cache_ttl_seconds)
            self._cache.set(self._keys.stale, stale_value, self._config.stale_ttl_seconds)
        except CacheUnavailable as error:
            logger.warning("board not cached", extra={"error": str(error)})

    def _stale_board(self) -> Board | None:
        try:
            entry = decode(self._cache.get_many([self._keys.stale]).get(self._keys.stale))
        except CacheUnavailable:
            return None
        return None if entry is None else entry.board

    def _release_lease(self) -> None:
        # Deleting a lease that expired and was taken by another reader costs at most one
        # extra scan; memcached has no compare-and-delete to rule that out.
        # If memcached is unreachable the lease expires by itself after LEASE_TTL_SECONDS.
        with contextlib.suppress(CacheUnavailable):
            self._cache.delete(self._keys.lease)

    def _scan_without_cache(self, error: CacheUnavailable) -> Answer:
        logger.warning("cache unavailable, reading the table", extra={"error": str(error)})
        try:
            return Served(render(self._table.scan().rows, self._clock()), Source.MISS)
        except TableUnavailable as table_error:
            return self._unavailable(table_error)

    def _when_table_unavailable(self, error: TableUnavailable) -> Answer:
        stale = self._stale_board()
        if stale is not None:
            logger.warning("table unavailable, serving stale", extra={"error": str(error)})
            return Served(stale, Source.STALE)
        return self._unavailable(error)

    def _unavailable(self, error: TableUnavailable) -> Unavailable:
        logger.error(
            "table unavailable and nothing cached",
            extra={"error": str(error), "throttled": error.throttled},
        )
        return Unavailable(self._config.retry_after_seconds, str(error))
