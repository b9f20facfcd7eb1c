"""The original site's fix, reproduced faithfully: the baseline tatourney has to beat.

Read: get the cached leaderboard; on a miss, scan the table, render it and set it with no TTL.
Invalidate: a function on the table's stream deletes the key whenever a batch arrives. No TTL,
no lease, no generation, no error handling. So a reader that scanned before a write and sets after
the delete leaves the old board cached for good, N readers on a cold key make N scans, and a
table or cache failure escapes the reader as an exception (the original's API Gateway answered
500; tatourney's handler turns any exception into a 503, which the benchmark counts as 5xx).

Only the caching differs from tatourney's: the same memcached adapter (one round trip per get),
the same Scan, the same encoding of rows in memcached (one of tatourney's chunks, holding every
row) and the same rendering, so the response bodies are the same. What it lacks is everything
tatourney added: a hit gets and decodes the whole board from memcached (tatourney keeps it in the
container and gets only the generation counter), and a change costs a full Scan (tatourney
re-reads the changed players and patches the board).
"""

from __future__ import annotations

import time
from typing import Any

from tatourney.board import Board, RenderedBoard, decode_rows, encode_rows
from tatourney.cache import Cache
from tatourney.leaderboard import Served, Source, Trace
from tatourney.table import StatsTable

NEVER_EXPIRES = 0  # memcached's "no TTL"


def scan_board(table: StatsTable) -> tuple[Board, Trace]:
    """The board from a full Scan of the table (the baselines' only way to read it)."""
    scanned = table.scan()
    trace = Trace()
    trace.reads.scan_pages += 1
    trace.reads.read_units += scanned.consumed_read_units
    return Board.of(scanned.rows), trace


class SeedCacheLeaderboard:
    def __init__(self, cache: Cache, table: StatsTable, key: str) -> None:
        self._cache = cache
        self._table = table
        self._key = key

    def read(self) -> Served:
        cached = decode_rows(self._cache.get(self._key))
        if cached is not None:
            return Served(RenderedBoard(0, time.time(), Board.of(cached)), Source.HIT)
        board, trace = scan_board(self._table)
        self._cache.set(self._key, encode_rows(board.ranking()), NEVER_EXPIRES)
        return Served(RenderedBoard(0, time.time(), board), Source.MISS, trace)


class SeedCacheInvalidator:
    """The original's stream function: any batch of records deletes the cached leaderboard."""

    def __init__(self, cache: Cache, key: str) -> None:
        self._cache = cache
        self._key = key

    def handler(self, event: dict[str, Any]) -> None:
        if event.get("Records"):
            self._cache.delete(self._key)
