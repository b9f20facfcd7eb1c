"""Invalidate the cached leaderboard after changes to the stats table.

First the change log gets one entry naming the players the batch changed (gets/cas, so
concurrent invalidations never lose each other's entries), then the generation counter is
bumped: once it moved, no board built before the change can be served, even if a slow reader
stores it afterwards, and the next rebuild re-reads the players the log names since that board.
The board itself stays: it is what the next rebuild starts from (and what STALE serves). One log
entry and one bump per stream batch, not per record.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from tatourney.cache import Cache, CacheUnavailable, LeaderboardKeys
from tatourney.changelog import ChangeLog, random_start

# The attributes the leaderboard is rendered from; a change to anything else cannot show.
SHOWN_ATTRIBUTES = ("player", "games", "wins", "total_score")
# Concurrent invalidations (one per stream shard) retry a lost compare-and-set this often.
CAS_ATTEMPTS = 20


def changes_leaderboard(
    old_image: Mapping[str, Any] | None, new_image: Mapping[str, Any] | None
) -> bool:
    """Whether a stats row change (insert, modify or remove) can alter the rendered board."""
    if old_image is None or new_image is None:
        return True
    return any(old_image.get(name) != new_image.get(name) for name in SHOWN_ATTRIBUTES)


class Invalidator:
    def __init__(self, cache: Cache, keys: LeaderboardKeys) -> None:
        self._cache = cache
        self._keys = keys

    def invalidate(self, players: Collection[str]) -> None:
        """Record that `players` changed, then bump the generation. Raises CacheUnavailable when
        memcached did not take it: the caller must retry (a repeat is harmless)."""
        self._log(players)
        if self._cache.incr(self._keys.generation) is None:
            # Evicted or never set: a fresh random start cannot equal any stored board's tag.
            # If a reader created it first, `add` loses, and that reader's counter is as good.
            self._cache.add(self._keys.generation, b"%d" % random_start(), 0)

    def _log(self, players: Collection[str]) -> None:
        for _ in range(CAS_ATTEMPTS):
            value, token = self._cache.gets(self._keys.log)
            log = ChangeLog.decode(value)
            if value is None or token is None:
                # No log (never written, or evicted): a new epoch, so no board built from the
                # old one is patched from this one; their next rebuild is a full Scan.
                if self._cache.add(self._keys.log, ChangeLog.new().append(players).encode(), 0):
                    return
            elif self._cache.cas(
                self._keys.log, (log or ChangeLog.new()).append(players).encode(), token, 0
            ):
                return
        raise CacheUnavailable(f"change log: {CAS_ATTEMPTS} compare-and-set attempts lost")
