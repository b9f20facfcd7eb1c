"""The change log: which players each invalidation changed, so a rebuild re-reads only them.

One memcached value on the leaderboard's home node, rewritten with gets/cas by the invalidate
function before it bumps the generation: `epoch` (random at creation, so a log that was evicted
or lost with its node and created again never matches a board built from the old one), `seq`
(the number of the newest entry) and the newest entries, each the players one stream batch
changed. A board records the position (epoch, seq) of the log it was brought up to date with;
the players changed since are the union of the entries after it — unless the log was created
again or has dropped entries the board needs, and then only a full Scan can tell.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

# About half an hour of changes at one stream batch every 2 s; a board further behind than
# this is rebuilt from a full Scan, as it would be without a log.
MAX_ENTRIES = 1000
# Bounds the value (one memcached item, rewritten by every invalidation) whatever the names.
MAX_PLAYER_CHARACTERS = 200_000


def random_start() -> int:
    """A random 63-bit number: a counter or epoch created again never repeats an old value."""
    return secrets.randbits(63)


@dataclass(frozen=True)
class Position:
    """How far a board has followed the change log."""

    epoch: int
    seq: int


@dataclass(frozen=True)
class ChangeLog:
    epoch: int
    seq: int
    entries: tuple[tuple[int, tuple[str, ...]], ...]  # (seq, players), oldest first

    @classmethod
    def new(cls) -> ChangeLog:
        return cls(random_start(), 0, ())

    @property
    def position(self) -> Position:
        return Position(self.epoch, self.seq)

    def changed_since(self, position: Position) -> frozenset[str] | None:
        """The players changed after `position`; None when the log cannot tell (another epoch,
        or entries after `position` were dropped)."""
        if position.epoch != self.epoch or position.seq > self.seq:
            return None
        oldest = self.entries[0][0] if self.entries else self.seq + 1
        if position.seq < oldest - 1:
            return None
        changed: set[str] = set()
        for seq, players in self.entries:
            if seq > position.seq:
                changed.update(players)
        return frozenset(changed)

    def append(self, players: Iterable[str]) -> ChangeLog:
        """This log with one more entry, the oldest dropped beyond the bounds."""
        seq = self.seq + 1
        entries = [*self.entries, (seq, tuple(sorted(set(players))))]
        characters = sum(len(name) for _, names in entries for name in names)
        while len(entries) > MAX_ENTRIES or (
            len(entries) > 1 and characters > MAX_PLAYER_CHARACTERS
        ):
            characters -= sum(len(name) for name in entries.pop(0)[1])
        return ChangeLog(self.epoch, seq, tuple(entries))

    def encode(self) -> bytes:
        return json.dumps(
            {"epoch": self.epoch, "seq": self.seq, "entries": self.entries},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()

    @classmethod
    def decode(cls, value: bytes | None) -> ChangeLog | None:
        """The log, or None for an absent or unreadable value (then it is created anew)."""
        if not value:
            return None
        try:
            data = json.loads(value)
            entries = tuple(
                (int(seq), tuple(str(name) for name in names)) for seq, names in data["entries"]
            )
            return cls(int(data["epoch"]), int(data["seq"]), entries)
        except (ValueError, TypeError, KeyError):
            return None
