"""The original site's fix, reproduced faithfully: the baseline tatourney has to beat.

Read: get the cached leaderboard; on a miss, scan the table, render it and set it with no TTL.
Invalidate: a function on the table's stream deletes the key whenever a batch arrives. No TTL,
no lease, no generation, no error handling. So a reader that scanned before a write and sets after
the delete leaves the old board cached for good, N readers on a cold key make N scans, and a
table or cache failure escapes as an exception (API Gateway answers 500).

Only the caching differs from tatourney's: the same memcached adapter (one round trip per get),
the same Scan, rendering and value encoding, so hits move the same bytes and the response bodies
have the same shape.
"""

from __future__ import annotations

import time
from typing import Any

from tatourney.board import Entry, decode, encode, render
from tatourney.cache import Cache
from tatourney.leaderboard import Served, Source
from tatourney.table import StatsTable

NEVER_EXPIRES = 0  # memcached's "no TTL"


class SeedCacheLeaderboard:
    def __init__(self, cache: Cache, table: StatsTable, key: str) -> None:
        self._cache = cache
        self._table = table
        self._key = key

    def read(self) -> Served:
        cached = decode(self._cache.get_many([self._key]).get(self._key))
        if cached is not None:
            return Served(cached.board, Source.HIT)
        board = render(self._table.scan().rows, time.time())
        self._cache.set(self._key, encode(Entry(0, board)), NEVER_EXPIRES)
        return Served(board, Source.MISS)


class SeedCacheInvalidator:
    """The original's stream function: any batch of records deletes the cached leaderboard."""

    def __init__(self, cache: Cache, key: str) -> None:
        self._cache = cache
        self._key = key

    def handler(self, event: dict[str, Any]) -> None:
        if event.get("Records"):
            self._cache.delete(self._key)
