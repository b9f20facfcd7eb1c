"""Invalidate the cached leaderboard after changes to the stats table.

First the change log gets one entry naming the players the batch changed and the version each
change left them at (gets/cas, so concurrent invalidations never lose each other's entries), then
the generation counter is bumped: once it moved, no board built before the change can be served,
even if a slow reader stores it afterwards, and the next rebuild re-reads the players the log
names since that board, checking what it read against their versions. The board itself stays: it
is what the next rebuild starts from (and what STALE serves). One log entry and one bump per
stream batch, not per record.

Every node of the list gets the entry and the bump, the home first, and the batch counts as
processed only when every node took it (else it fails and Lambda delivers it again): a node that
becomes the home when the node list shrinks, or for a leaderboard function still deployed with a
shorter list, holds a counter and a log that followed every change, never a board that missed one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tatourney.cache import Cache, CacheUnavailable, LeaderboardKeys
from tatourney.changelog import ChangeLog, Changes, Version, random_start, version_of
from tatourney.table import row_of

# The attributes the leaderboard is rendered from; a change to anything else cannot show.
SHOWN_ATTRIBUTES = ("player", "games", "wins", "total_score")
# Concurrent invalidations (one per stream shard) retry a lost compare-and-set this often; when
# all are lost the batch fails and Lambda delivers it again (a repeated entry is harmless).
CAS_ATTEMPTS = 20


def changes_leaderboard(
    old_image: Mapping[str, Any] | None, new_image: Mapping[str, Any] | None
) -> bool:
    """Whether a stats row change (insert, modify or remove) can alter the rendered board."""
    if old_image is None or new_image is None:
        return True
    return any(old_image.get(name) != new_image.get(name) for name in SHOWN_ATTRIBUTES)


def version_after(new_image: Mapping[str, Any] | None) -> Version:
    """The version a change left its player at: the NewImage's shown counts, None when the
    change removed the item (no NewImage) or left one that is not a stats row."""
    return None if not new_image else version_of(row_of(new_image))


class Invalidator:
    def __init__(self, caches: Sequence[Cache], keys: LeaderboardKeys) -> None:
        """`caches`: one per node of the list, the home first."""
        self._caches = tuple(caches)
        self._keys = keys

    def invalidate(self, changes: Changes) -> None:
        """Record `changes` (player -> version), then bump the generation, on every node.
        Raises CacheUnavailable when a node did not take it: the caller must retry (a repeat is
        harmless; the nodes that took it only rebuild once more)."""
        for cache in self._caches:
            self._invalidate_node(cache, changes)

    def _invalidate_node(self, cache: Cache, changes: Changes) -> None:
        self._log(cache, changes)
        if cache.incr(self._keys.generation) is None:
            # Evicted or never set: a fresh random start cannot equal any stored board's tag.
            # If a reader created it first, `add` loses, and that reader's counter is as good.
            cache.add(self._keys.generation, b"%d" % random_start(), 0)

    def _log(self, cache: Cache, changes: Changes) -> None:
        for _ in range(CAS_ATTEMPTS):
            value, token = cache.gets(self._keys.log)
            log = ChangeLog.decode(value)
            if value is None or token is None:
                # No log (never written, or evicted): a new epoch, so no board built from the
                # old one is patched from this one; their next rebuild is a full Scan.
                if cache.add(self._keys.log, ChangeLog.new().append(changes).encode(), 0):
                    return
            elif cache.cas(
                self._keys.log, (log or ChangeLog.new()).append(changes).encode(), token, 0
            ):
                return
        raise CacheUnavailable(f"change log: {CAS_ATTEMPTS} compare-and-set attempts lost")
