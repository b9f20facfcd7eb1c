"""The change log: which players each invalidation changed and what the change left them, so a
rebuild re-reads only them and can tell whether what it read is behind.

One memcached value per node, rewritten with gets/cas by the invalidate function before it bumps
the generation: `epoch` (random at creation, so a log that was evicted or lost with its node and
created again never matches a board built from the old one), `seq` (the number of the newest
entry) and the newest entries, each the players one stream batch changed with their *version*:
the shown counts (games, wins, total_score) of the stream record's NewImage, or None when the
change removed the player (or left an item that is not a stats row). A board records the position
(epoch, seq) of the log it was brought up to date with; the players changed since are the union
of the entries after it — unless the log was created again or has dropped entries the board
needs, and then only a full Scan can tell.

The versions are what makes an eventually consistent read safe: a row read for a player the log
names must be exactly the newest version the log holds for them; any other row may come from a
replica that has not applied the write yet, and is read again consistently (rebuild.py).
Equality, not order: a removed player that comes back, or an edit that leaves `games` as it was,
needs no version attribute in the table. A log also says when it was created: one younger than
REPLICA_LAG_BOUND_SECONDS cannot vouch for the changes made before it (its predecessor was
evicted, or lost with its node), so a full Scan settled against it reads consistently.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

# About half an hour of changes at one stream batch every 2 s; a board further behind than
# this is rebuilt from a full Scan, as it would be without a log.
MAX_ENTRIES = 1000
# Bounds the value (one memcached item, rewritten by every invalidation) whatever the names:
# each player counts their name and VERSION_CHARACTERS for the counts beside it.
MAX_PLAYER_CHARACTERS = 200_000
VERSION_CHARACTERS = 24

# How far behind the writes an eventually consistent read may be (DynamoDB: usually within a
# second); the log keeps versions far longer (MAX_ENTRIES), and a log younger than this cannot
# tell what the reads it settles may have missed before it existed.
REPLICA_LAG_BOUND_SECONDS = 10.0

# What a change left a player: the shown counts (games, wins, total_score), None when removed.
Version = tuple[int, int, int] | None
Changes = Mapping[str, Version]


class Tally(Protocol):
    """A player's counters, as a table row or a board's row holds them."""

    @property
    def games(self) -> int: ...
    @property
    def wins(self) -> int: ...
    @property
    def total_score(self) -> int: ...


def version_of(row: Tally | None) -> Version:
    """The version a row (None: no row) is at."""
    return None if row is None else (row.games, row.wins, row.total_score)


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
    entries: tuple[tuple[int, tuple[tuple[str, Version], ...]], ...]  # (seq, changes), oldest first
    created_at: float = 0.0  # wall-clock seconds; 0: long ago

    @classmethod
    def new(cls, now: float | None = None) -> ChangeLog:
        return cls(random_start(), 0, (), time.time() if now is None else now)

    def vouches_at(self, now: float) -> bool:
        """Whether the log is old enough that a replica's lag cannot reach back before it."""
        return now - self.created_at >= REPLICA_LAG_BOUND_SECONDS

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
        for seq, changes in self.entries:
            if seq > position.seq:
                changed.update(player for player, _ in changes)
        return frozenset(changed)

    def versions(self) -> dict[str, Version]:
        """Each player the log names, at the newest version it holds for them."""
        return {player: version for _, changes in self.entries for player, version in changes}

    def append(self, changes: Changes) -> ChangeLog:
        """This log with one more entry, the oldest dropped beyond the bounds."""
        seq = self.seq + 1
        entries = [*self.entries, (seq, tuple(sorted(changes.items())))]
        characters = sum(_characters(entry) for entry in entries)
        while len(entries) > MAX_ENTRIES or (
            len(entries) > 1 and characters > MAX_PLAYER_CHARACTERS
        ):
            characters -= _characters(entries.pop(0))
        return ChangeLog(self.epoch, seq, tuple(entries), self.created_at)

    def encode(self) -> bytes:
        entries = [[seq, dict(changes)] for seq, changes in self.entries]
        return json.dumps(
            {
                "epoch": self.epoch,
                "seq": self.seq,
                "created_at": self.created_at,
                "entries": entries,
            },
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
                (int(seq), tuple(sorted((str(p), _version(v)) for p, v in changes.items())))
                for seq, changes in data["entries"]
            )
            created_at = float(data.get("created_at", 0.0))
            return cls(int(data["epoch"]), int(data["seq"]), entries, created_at)
        except (ValueError, TypeError, KeyError, AttributeError):
            return None


def _version(value: object) -> Version:
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 3:
        raise ValueError(f"not a version: {value!r}")
    games, wins, total_score = (int(count) for count in value)
    return games, wins, total_score


def _characters(entry: tuple[int, tuple[tuple[str, Version], ...]]) -> int:
    return sum(len(player) + VERSION_CHARACTERS for player, _ in entry[1])
