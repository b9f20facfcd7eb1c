"""What a rebuild reads from the stats table: as little as the change log allows.

A rebuild starts from the last board built (any generation) and the change log:
- **patch**: when the board has followed the log and re-reading the players changed since costs
  fewer read units than a full Scan, those players are read (BatchGetItem) and replaced, added or
  removed; plus one **sweep** page of SWEEP_ITEMS rows, continuing where the last left off, which
  re-reads the whole table a little at a time: the backstop should an invalidation be lost;
- **full scan** otherwise (no board, the log was created again or dropped what the board needs,
  or so much changed that a Scan is cheaper): read page by page, the progress kept in the cache,
  so a table too small to give a big board's Scan at once (418 read units for 10,000 players)
  still gets through it, a page at a time across requests; when it has read everything, the
  players changed since it began are read again.

Every read of the table happens after the log position was read, so a change is either seen by
the rows or is in the log after their position (then the next rebuild reads it).

The reads are eventually consistent (half the read units), and such a read may return a row from
before a write whose invalidation has already been processed. So every path ends by **settling**
the rows against the log it read: each player the log names must hold exactly the newest version
the log records for them (absent, if removed); the players that do not are read again with
ConsistentRead, which returns every write that completed before it, and that row stands. Settling
comes after the sweep page, so a sweep row behind the log never replaces a newer row either. A
full Scan settled against a log created less than REPLICA_LAG_BOUND_SECONDS ago (its predecessor
evicted, or lost with its node: the changes before it are in no log) reads consistently instead.
The log is read after the generation counter, and the invalidate function writes the log before
it bumps the counter, so a rebuild tagged with a generation sees the version of every change
whose bump that generation includes: a board served as current holds those versions or newer.

A rebuild returns an `Update`: a patch is the rows that differ from the board it started from
(never a copy of the board: the work is the change's), a full Scan every row.
"""

from __future__ import annotations

import json
import logging
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, replace

from tatourney.board import Entry, inflate, rows_from_json, rows_to_json
from tatourney.changelog import ChangeLog, Position, version_of
from tatourney.table import Cursor, StatsRow, StatsTable, TableUnavailable

logger = logging.getLogger(__name__)

# Rows a sweep page re-reads: ~10 rows of ~340 bytes are one 4 KB read unit (half of one,
# eventually consistent), so a change costs its players plus about half a read unit.
SWEEP_ITEMS = 10
# An item of up to 4 KB costs half a read unit in an eventually consistent BatchGetItem.
READ_UNITS_PER_PLAYER = 0.5
# Rows a full-Scan page reads (~42 read units at 340 bytes a row): a page that is throttled
# loses little, and progress is kept often, without many more requests than 1 MB pages take.
FULL_SCAN_PAGE_ITEMS = 1000


class ScanIncomplete(Exception):
    """The full Scan did not reach the end in this request; its progress is kept."""


@dataclass(frozen=True)
class ScanProgress:
    """A full Scan under way: where it started in the log, where it stopped, what it read."""

    position: Position
    cursor: Cursor | None
    rows: tuple[StatsRow, ...]
    read_units: float
    pages: int = 0

    def encode(self) -> bytes:
        body = {
            "position": [self.position.epoch, self.position.seq],
            "cursor": self.cursor,
            "rows": rows_to_json(self.rows),
            "read_units": self.read_units,
            "pages": self.pages,
        }
        return zlib.compress(json.dumps(body, ensure_ascii=False).encode(), 6)

    @classmethod
    def decode(cls, value: bytes | None) -> ScanProgress | None:
        data = inflate(value, "full scan progress") if value else None
        if data is None:
            return None
        try:
            body = json.loads(data)
            epoch, seq = body["position"]
            rows = rows_from_json(body["rows"])
            return cls(
                Position(int(epoch), int(seq)),
                body["cursor"],
                rows,
                float(body["read_units"]),
                int(body["pages"]),
            )
        except (ValueError, TypeError, KeyError) as error:
            logger.warning("cached full scan progress unreadable", extra={"error": str(error)})
            return None


@dataclass(frozen=True)
class Update:
    """What a rebuild found: the changes to its base board, or (`whole`) every row."""

    position: Position  # of the change log the rows now reflect
    sweep_from: Cursor | None
    scan_read_units: float
    changes: dict[str, StatsRow | None]  # player -> row, None: removed; every row when `whole`
    whole: bool


class Overlay(MutableMapping[str, StatsRow]):
    """`base` with changes on top, without copying it: `changes` holds what differs."""

    def __init__(self, base: Mapping[str, StatsRow]) -> None:
        self._base = base
        self._edits: dict[str, StatsRow | None] = {}

    def __getitem__(self, player: str) -> StatsRow:
        row = self._edits[player] if player in self._edits else self._base[player]
        if row is None:
            raise KeyError(player)
        return row

    def __setitem__(self, player: str, row: StatsRow) -> None:
        self._edits[player] = row

    def __delitem__(self, player: str) -> None:
        if player not in self:
            raise KeyError(player)
        self._edits[player] = None

    def __iter__(self) -> Iterator[str]:
        yield from (p for p in self._base if p not in self._edits)
        yield from (p for p, row in self._edits.items() if row is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def changes(self) -> dict[str, StatsRow | None]:
        """The rows that differ from the base's."""
        return {p: row for p, row in self._edits.items() if self._base.get(p) != row}


@dataclass
class Reads:
    """What a rebuild read from the table (for the metrics and the tests)."""

    scan_pages: int = 0
    players: int = 0  # players read by name (BatchGetItem), consistently or not
    behind: int = 0  # of them, read again consistently: what was read first was behind the log
    read_units: float = 0.0


class Rebuilder:
    def __init__(
        self,
        table: StatsTable,
        save_progress: Callable[[ScanProgress | None], None],
        scan_budget_seconds: float,
        clock: Callable[[], float] = time.time,
        settle: bool = True,
    ) -> None:
        """`settle=False` leaves eventually consistent reads unchecked: only for a test that must
        show what settling prevents (Leaderboard(settle=False); the functions never pass it)."""
        self._table = table
        self._settle_enabled = settle
        self._save_progress = save_progress
        self._scan_budget_seconds = scan_budget_seconds
        self._scan_page_items = FULL_SCAN_PAGE_ITEMS
        self._clock = clock

    def build(
        self,
        log: ChangeLog,
        base: Entry | None,
        progress: ScanProgress | None,
        reads: Reads,
    ) -> Update:
        """What the board changes on `base` (every row, if it cannot be patched); raises
        TableUnavailable or ScanIncomplete."""
        changed = None if base is None else log.changed_since(base.position)
        if base is not None and changed is not None:
            patch_cost = READ_UNITS_PER_PLAYER * len(changed)
            if patch_cost < base.scan_read_units:
                return self._patch(log, base, changed, reads)
        return self._full_scan(log, progress, reads)

    def _patch(self, log: ChangeLog, base: Entry, changed: frozenset[str], reads: Reads) -> Update:
        rows = Overlay(base.rows)
        self._reread(rows, changed, reads)
        sweep_from = base.sweep_from
        try:
            page = self._table.scan_page(sweep_from, limit=SWEEP_ITEMS)
        except TableUnavailable as error:
            # The sweep is a backstop: the change itself is in; the sweep waits for next time.
            logger.warning("sweep page not read", extra={"error": str(error)})
        else:
            reads.scan_pages += 1
            reads.read_units += page.consumed_read_units
            rows.update((row.player, row) for row in page.rows)
            sweep_from = page.cursor
        self._settle(rows, log, reads)
        return Update(log.position, sweep_from, base.scan_read_units, rows.changes(), whole=False)

    def _settle(self, rows: MutableMapping[str, StatsRow], log: ChangeLog, reads: Reads) -> None:
        """Read again, consistently, every player the log names whose row is not at the newest
        version the log holds for them: a replica behind (or a write newer than the log)."""
        if not self._settle_enabled:
            return
        behind = frozenset(
            player
            for player, version in log.versions().items()
            if version_of(rows.get(player)) != version
        )
        self._reread(rows, behind, reads, consistent=True)
        reads.behind += len(behind)

    def _reread(
        self,
        rows: MutableMapping[str, StatsRow],
        players: frozenset[str],
        reads: Reads,
        consistent: bool = False,
    ) -> None:
        """Replace `players` in `rows` by what the table holds now (absent: removed)."""
        if not players:
            return
        found = self._table.get_players(players, consistent=consistent)
        reads.players += len(players)
        reads.read_units += found.consumed_read_units
        for player in players:
            rows.pop(player, None)
        rows.update((row.player, row) for row in found.rows)

    def _full_scan(self, log: ChangeLog, progress: ScanProgress | None, reads: Reads) -> Update:
        if progress is None or log.changed_since(progress.position) is None:
            progress = ScanProgress(log.position, None, (), 0.0)
        deadline = time.monotonic() + self._scan_budget_seconds
        start_pages = progress.pages
        # A log too young to vouch for what a replica may still miss: no settling can help.
        consistent = self._settle_enabled and not log.vouches_at(self._clock())
        rows = {row.player: row for row in progress.rows}
        try:
            while progress.pages == 0 or progress.cursor is not None:
                if progress.pages > start_pages and time.monotonic() > deadline:
                    raise ScanIncomplete(f"full scan: {progress.pages} pages read so far")
                page = self._table.scan_page(
                    progress.cursor, limit=self._scan_page_items, consistent=consistent
                )
                reads.scan_pages += 1
                reads.read_units += page.consumed_read_units
                rows.update((row.player, row) for row in page.rows)
                progress = replace(
                    progress,
                    cursor=page.cursor,
                    rows=tuple(rows.values()),
                    # What the Scan costs eventually consistent (half), to weigh a patch by.
                    read_units=progress.read_units
                    + page.consumed_read_units * (0.5 if consistent else 1.0),
                    pages=progress.pages + 1,
                )
            self._reread(rows, log.changed_since(progress.position) or frozenset(), reads)
            self._settle(rows, log, reads)
        except (TableUnavailable, ScanIncomplete):
            if progress.pages > start_pages:
                self._save_progress(progress)
            raise
        if start_pages:
            self._save_progress(None)  # done: the next full scan starts afresh
        return Update(log.position, None, progress.read_units, dict(rows), whole=True)
