"""Invalidate the cached leaderboard after a change to the stats table.

Bump the generation first, then delete the board: once the counter moved, no board built
before the change can be served even if a slow reader stores it afterwards; the delete only
frees the memory early. One bump and one delete per stream batch, not per record.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tatourney.cache import Cache, LeaderboardKeys
from tatourney.leaderboard import new_generation

# The attributes the leaderboard is rendered from; a change to anything else cannot show.
SHOWN_ATTRIBUTES = ("player", "games", "wins", "total_score")


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

    def invalidate(self) -> None:
        """Raises CacheUnavailable when memcached did not take it: the caller must retry."""
        if self._cache.incr(self._keys.generation) is None:
            # Evicted or never set: a fresh random start cannot equal any stored board's tag.
            # If a reader created it first, `add` loses, and that reader's counter is as good.
            self._cache.add(self._keys.generation, b"%d" % new_generation(), 0)
        self._cache.delete(self._keys.board)
