"""The consistency checker: after each change to the stats table, does the cache serve it?

An ordinary reader of memcached beside the invalidation path (Meta's Polaris is the model): it
is given the changes the stats stream carried, reads the leaderboard's counter, board head and
change log from the home node in one `get_many`, then the board's chunks that hold the changed
players in another (at most one a chunk, whatever the number of changes: never the table, never a
rebuild), and classifies each change:

- CONSISTENT: the current board was built after the change was logged and shows the player as
  the log says they are at the board's position, or beyond it (a later change's version, read
  before its own invalidation);
- NOT_YET_REBUILT: the invalidation went through and no board has been built since (the next
  read rebuilds it): nothing old can be served as current;
- NOT_YET_INVALIDATED: the change log does not hold the change yet, or holds it but the counter
  has not moved past the current board: the invalidation is not processed; re-checked, then
  counted;
- INCONSISTENT: a board current after the invalidation was processed, built after the change was
  logged, shows the player from before the log's version (or still there after a removal): what
  the protocol must never serve.

A board is current when its generation equals the counter; it was built after the change's
invalidation when its log position is at or past the entry that logged the change, in the same
log epoch. The change is found in the log by its version (changelog.py: the shown counts the
stream record's NewImage left, None for a removal), computed as the invalidation computes it.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tatourney.board import Head, chunk_of, decode_head, decode_rows
from tatourney.cache import Cache, LeaderboardKeys
from tatourney.changelog import ChangeLog, Version, version_of
from tatourney.invalidation import changes_leaderboard, version_after
from tatourney.leaderboard import parse_counter

logger = logging.getLogger(__name__)


class Verdict(enum.StrEnum):
    CONSISTENT = "Consistent"
    NOT_YET_REBUILT = "NotYetRebuilt"
    NOT_YET_INVALIDATED = "NotYetInvalidated"
    INCONSISTENT = "Inconsistent"


@dataclass(frozen=True)
class Change:
    """One change to a player's stats row, as the stream carried it."""

    player: str
    version: Version  # what the change left the player at; None: removed
    changed_at: float  # epoch seconds, the writer's clock


def change_of(
    player: str,
    old_image: Mapping[str, Any] | None,
    new_image: Mapping[str, Any] | None,
    fallback_changed_at: float,
) -> Change | None:
    """The change a stats row's old and new images describe; None when it cannot show on the
    board (the invalidation skips those too). `changed_at` is the row's `updated_at` when it has
    one (the writer's clock, to the millisecond), else `fallback_changed_at`."""
    if not changes_leaderboard(old_image, new_image):
        return None
    image = new_image or old_image or {}
    return Change(
        player,
        version_after(new_image),
        _epoch_seconds(image.get("updated_at"), fallback_changed_at),
    )


def _epoch_seconds(iso: object, fallback: float) -> float:
    if not isinstance(iso, str):
        return fallback
    try:
        return datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return fallback


class Snapshot:
    """What the cache held for the leaderboard at one look, indexed once for every change."""

    def __init__(
        self,
        generation: int | None,
        board: Head | None,
        shown: Mapping[str, Version],
        log: ChangeLog | None,
        taken_at: float,
    ) -> None:
        """`board`: the cached board's head; `shown`: the players of the board's chunks that
        hold the checked players, at their versions."""
        self.generation = generation
        self.board = board
        self.log = log
        self.taken_at = taken_at
        self.shown = dict(shown)
        # The first entry that logged each (player, version), and each player's newest version
        # in the entries up to the board's position: what the board must show.
        self.first_logged: dict[tuple[str, Version], int] = {}
        self.logged_at_board: dict[str, Version] = {}
        board_seq = -1 if board is None else board.position.seq
        for seq, changes in () if log is None else log.entries:
            for player, version in changes:
                self.first_logged.setdefault((player, version), seq)
                if seq <= board_seq:
                    self.logged_at_board[player] = version

    @property
    def board_is_current(self) -> bool:
        return (
            self.board is not None
            and self.log is not None
            and self.board.generation == self.generation
            and self.board.position.epoch == self.log.epoch
        )


@dataclass(frozen=True)
class Check:
    change: Change
    verdict: Verdict
    checked_at: float
    logged_seq: int | None  # the change-log entry that logged the change
    board_generation: int | None  # of the cached board, current or not
    board_built_at: float | None
    expected_version: Version  # what the log says the board must show
    shown_version: Version  # what the board shows (None: not on it)

    @property
    def seconds_to_consistent(self) -> float | None:
        """From the change to when the board that shows it was built: at the latest, from then
        on the cache served it (an earlier board may have shown it already)."""
        if self.verdict is not Verdict.CONSISTENT or self.board_built_at is None:
            return None
        return max(self.board_built_at - self.change.changed_at, 0.0)

    def details(self) -> dict[str, object]:
        """What the log line of an inconsistency says."""
        return {
            "player": self.change.player,
            "changed_version": self.change.version,
            "expected_version": self.expected_version,
            "shown_version": self.shown_version,
            "generation": self.board_generation,
            "logged_seq": self.logged_seq,
            "change_age_seconds": round(self.checked_at - self.change.changed_at, 3),
            "board_age_seconds": (
                None
                if self.board_built_at is None
                else round(self.checked_at - self.board_built_at, 3)
            ),
        }


def classify(change: Change, snapshot: Snapshot) -> Check:
    """The verdict on one change from what the cache held at `snapshot`."""
    board = snapshot.board
    logged_seq = snapshot.first_logged.get((change.player, change.version))
    expected = snapshot.logged_at_board.get(change.player)
    shown = snapshot.shown.get(change.player)

    def check(verdict: Verdict) -> Check:
        return Check(
            change,
            verdict,
            snapshot.taken_at,
            logged_seq,
            None if board is None else board.generation,
            None if board is None else board.built_at,
            expected,
            shown,
        )

    if logged_seq is None:
        return check(Verdict.NOT_YET_INVALIDATED)
    if board is None or not snapshot.board_is_current:
        return check(Verdict.NOT_YET_REBUILT)
    if board.position.seq < logged_seq:
        # Current although built before the change was logged: the counter is not bumped yet.
        return check(Verdict.NOT_YET_INVALIDATED)
    return check(Verdict.CONSISTENT if at_or_beyond(shown, expected) else Verdict.INCONSISTENT)


def at_or_beyond(shown: Version, expected: Version) -> bool:
    """Whether a board's row is the version the log expects, or a later change's: a rebuild may
    read a change committed after the log position it reached, before that change's own
    invalidation. `games` only grows, so more games is later; anything else is older."""
    if shown == expected:
        return True
    return shown is not None and expected is not None and shown[0] > expected[0]


class ConsistencyChecker:
    """Classifies a batch of changes from the cache alone, re-checking the ones whose
    invalidation has not been processed yet for at most `recheck_seconds`."""

    def __init__(
        self,
        cache: Cache,
        keys: LeaderboardKeys,
        recheck_seconds: float,
        recheck_interval_seconds: float = 1.0,
    ) -> None:
        self._cache = cache
        self._keys = keys
        self._recheck_seconds = recheck_seconds
        self._recheck_interval_seconds = recheck_interval_seconds

    def snapshot(self, players: Collection[str]) -> Snapshot:
        """Counter, board head and log in one get_many, then the chunks of the board that hold
        `players` in another (raises CacheUnavailable). A chunk the head names but the cache no
        longer holds leaves the board unreadable: the next read rebuilds it, as for no board."""
        keys = self._keys
        found = self._cache.get_many([keys.generation, keys.board, keys.log])
        head = decode_head(found.get(keys.board))
        shown: dict[str, Version] = {}
        if head is not None:
            wanted = {
                keys.chunk(index, head.chunks[index])
                for index in {chunk_of(player) for player in players}
                if head.chunks[index]  # 0: the chunk is empty
            }
            chunks = self._cache.get_many(sorted(wanted)) if wanted else {}
            for key in wanted:
                rows = decode_rows(chunks.get(key))
                if rows is None:
                    head, shown = None, {}
                    break
                shown.update((row.player, version_of(row)) for row in rows)
        return Snapshot(
            parse_counter(found.get(keys.generation)),
            head,
            shown,
            ChangeLog.decode(found.get(keys.log)),
            time.time(),
        )

    def check(self, changes: Sequence[Change]) -> list[Check]:
        """One verdict per change: at most 1 + recheck_seconds / interval snapshots a batch."""
        deadline = time.monotonic() + self._recheck_seconds
        if not changes:
            return []
        players = {change.player for change in changes}
        first = self.snapshot(players)
        checks = [classify(change, first) for change in changes]
        while True:
            waiting = [i for i, c in enumerate(checks) if c.verdict is Verdict.NOT_YET_INVALIDATED]
            if not waiting or time.monotonic() + self._recheck_interval_seconds > deadline:
                break
            time.sleep(self._recheck_interval_seconds)
            snapshot = self.snapshot(players)
            for index in waiting:
                checks[index] = classify(checks[index].change, snapshot)
        for found in checks:
            if found.verdict is Verdict.INCONSISTENT:
                logger.error("a current board shows an old row", extra=found.details())
        return checks
