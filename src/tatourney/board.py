"""The leaderboard: rows ranked by wins, the ranked board a container patches, its cache encoding,
and the pages served from memory.

A container keeps a `Board`: each row once, as a `RankedRow` (a tuple whose order is the rank
order, so the ranking is a sorted list of those very tuples, compared in C, with no key stored
beside them: O(log n) to change one row), found by player through its chunk's dict, with a digest
of the rows maintained as they change. What a request serves is a `RenderedBoard`: the board as it
was when the request got it (it reads the board's ranking until the board changes, and is given
a copy first if it is still held then), with the JSON of the pages already asked for.

What memcached holds for a board (leaderboard.py says in what order it is written):
- the **head** (the board key): `<generation> <built_at>\\n<zlib(JSON)>`, a few KB whatever the
  board's size: the change-log position, the sweep's cursor, the row count and digest, the ids of
  the newest versions, and which version last wrote each chunk;
- **chunks**: the rows split by a hash of the player's name into CHUNKS values, each written
  under the id of the version that wrote it; a version rewrites only the chunks of the players
  it changed, so storing a change costs the change, not the board;
- **deltas**: per version, the rows it changed (a removed player as a name alone), under its id.
A container whose board is one of the head's recent versions applies the deltas after it; one
with nothing, or too far behind (a gap: the version is no longer recent, or a delta was
evicted), reads the chunks once.

Every value is read as untrusted: decompression is bounded (MAX_INFLATED_BYTES), and a value
that does not decode is a miss, logged, never an error.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import secrets
import threading
import weakref
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sortedcontainers import SortedList

from tatourney.changelog import Position
from tatourney.table import Cursor, StatsRow

logger = logging.getLogger(__name__)

# Pages a container keeps rendered (and gzipped, once asked for) per board: the site asks for
# pages of 100 players (~10 KB), a client at most 1,000 (~100 KB), so this bounds them at about
# 160 KB, 1.6 MB at worst, beside the board's rows.
MEMORY_PAGES = 16
# Values the whole board is stored in: ~800 rows each at 100,000 players (~30 KB of JSON, a
# millisecond to encode), so a game's few players rewrite a few small values.
CHUNKS = 128
# Versions a head names: a container at one of them catches up from the deltas after it.
RECENT_VERSIONS = 32
# No cached value inflates beyond this (the largest, a full Scan's progress at 100,000 players,
# is ~4 MB): a value that would is a miss, not a container out of memory.
MAX_INFLATED_BYTES = 32 * 1024 * 1024
DIGEST_MODULUS = 2**96

RowChanges = Mapping[str, StatsRow | None]  # player -> their new row, None: removed


class RankedRow(NamedTuple):
    """A row as a board holds it: the fields the ranking orders by come first, negated, so
    tuples compare in rank order (by wins; ties broken by win %, then average score, then name,
    so the order is stable); the rest follow. Names are unique on a board, so a comparison never
    looks past the name."""

    negated_wins: int
    negated_win_percent: float
    negated_avg_score: float
    player: str
    games: int
    total_score: int

    @property
    def wins(self) -> int:
        return -self.negated_wins

    def stats_row(self) -> StatsRow:
        return StatsRow(self.player, self.games, self.wins, self.total_score)


def ranked_row(player: str, games: int, wins: int, total_score: int) -> RankedRow:
    # Win % takes at most 1,001 values and wins few: the shared objects keep a board of 100,000
    # players from holding 100,000 copies of each (about 5 MB).
    percent = _win_percent(games, wins)
    return _make_ranked_row(
        (
            _NEGATED_WINS[wins] if 0 <= wins < len(_NEGATED_WINS) else -wins,
            _NEGATED_PERCENTS.get(percent, -percent),
            -_avg_score(games, total_score),
            player,
            games,
            total_score,
        )
    )


_make_ranked_row = RankedRow._make
_NEGATED_WINS = tuple(-wins for wins in range(4096))
_NEGATED_PERCENTS = {tenths / 10: -(tenths / 10) for tenths in range(1001)}


def rank(rows: Iterable[StatsRow]) -> tuple[StatsRow, ...]:
    """`rows` in rank order."""
    return tuple(sorted(rows, key=lambda row: ranked_row(*_fields(row))))


def _fields(row: StatsRow) -> tuple[str, int, int, int]:
    return row.player, row.games, row.wins, row.total_score


def _avg_score(games: int, total_score: int) -> float:
    return round(total_score / games, 1) if games > 0 else 0.0


def _win_percent(games: int, wins: int) -> float:
    return round(100 * wins / games, 1) if games > 0 else 0.0


def _row_hash(row: RankedRow) -> int:
    data = b"%s\0%d\0%d\0%d\n" % (row.player.encode(), row.games, row.wins, row.total_score)
    return int.from_bytes(hashlib.blake2b(data, digest_size=12).digest())


def new_version() -> int:
    """A version's id: random, so two builders never give different boards the same id."""
    return secrets.randbits(63) | 1  # never 0, which marks an empty chunk


def chunk_of(player: str) -> int:
    return zlib.crc32(player.encode()) % CHUNKS


class BoardRows(Mapping[str, StatsRow]):
    """A board's rows by player (a view of its chunks)."""

    def __init__(self, chunks: list[dict[str, RankedRow]]) -> None:
        self._chunks = chunks

    def __getitem__(self, player: str) -> StatsRow:
        return self._chunks[chunk_of(player)][player].stats_row()

    def __iter__(self) -> Iterator[str]:
        return itertools.chain.from_iterable(self._chunks)

    def __len__(self) -> int:
        return sum(len(chunk) for chunk in self._chunks)


class Board:
    """The rows, by chunk and player and ranked, and their digest: a change costs O(log n) per
    row.

    The digest is the sum of a hash of each row (modulo 2**96): it depends on the rows alone, so
    the same rows built twice, in any order or by another container, have the same digest.

    A RenderedBoard reads its pages from the board it was made of for as long as the board does
    not change; a change first gives every RenderedBoard still held its own copy of the ranking.
    A container that lets go of its old RenderedBoard before patching (leaderboard.py) pays for
    no copy at all.
    """

    def __init__(self) -> None:
        self.chunks: list[dict[str, RankedRow]] = [{} for _ in range(CHUNKS)]
        self.rows = BoardRows(self.chunks)
        self._ranking = SortedList()
        self._digest = 0
        # Changes and the pages read from the ranking, one at a time (the local runner's
        # threads share a container's board).
        self._lock = threading.Lock()
        self._readers: weakref.WeakSet[RenderedBoard] = weakref.WeakSet()

    @classmethod
    def of(cls, rows: Iterable[StatsRow | RankedRow]) -> Board:
        """A board of `rows` (the last row of a player counts), sorted at once: O(n log n)."""
        board = cls()
        for row in rows:
            held = row if isinstance(row, RankedRow) else ranked_row(*_fields(row))
            board.chunks[chunk_of(held.player)][held.player] = held
        every = list(itertools.chain.from_iterable(chunk.values() for chunk in board.chunks))
        board._ranking = SortedList(every)
        board._digest = sum(map(_row_hash, every)) % DIGEST_MODULUS
        return board

    def _effects(
        self, deltas: Iterable[RowChanges]
    ) -> Iterator[tuple[str, RankedRow | None, RankedRow | None]]:
        """(player, their row before, after) for each change of `deltas` applied in turn."""
        overlay: dict[str, RankedRow | None] = {}
        for changes in deltas:
            for player, row in changes.items():
                old = (
                    overlay[player]
                    if player in overlay
                    else self.chunks[chunk_of(player)].get(player)
                )
                new = overlay[player] = None if row is None else ranked_row(*_fields(row))
                yield player, old, new

    def projected(self, deltas: Iterable[RowChanges]) -> tuple[int, str]:
        """The row count and digest after `deltas`, applied in turn; the board is not changed."""
        total, digest = self.total, self._digest
        for _, old, new in self._effects(deltas):
            if old is not None:
                total, digest = total - 1, digest - _row_hash(old)
            if new is not None:
                total, digest = total + 1, digest + _row_hash(new)
        return total, f"{digest % DIGEST_MODULUS:024x}"

    def apply(self, changes: RowChanges) -> None:
        with self._lock:
            if self._readers:
                ranking = self._ranking[:]
                for reader in list(self._readers):
                    reader.keep(ranking)
                self._readers.clear()
            for player, old, new in self._effects([changes]):  # each player once: no overlap
                chunk = self.chunks[chunk_of(player)]
                if old is not None:
                    del chunk[player]
                    self._ranking.remove(old)
                    self._digest -= _row_hash(old)
                if new is not None:
                    chunk[player] = new
                    self._ranking.add(new)
                    self._digest += _row_hash(new)
            self._digest %= DIGEST_MODULUS

    def ranking(self) -> list[RankedRow]:
        """A copy of the rows in rank order."""
        rows: list[RankedRow] = self._ranking[:]
        return rows

    def read_by(self, reader: RenderedBoard) -> None:
        """`reader` reads its pages from this board until it changes."""
        self._readers.add(reader)

    def rows_for(self, reader: RenderedBoard, start: int, stop: int) -> list[RankedRow] | None:
        """Ranks start to stop (0-based, stop excluded) for `reader`; None if the board has
        changed since `reader` was made (it has its own copy then)."""
        with self._lock:
            return self._ranking[start:stop] if reader in self._readers else None

    @property
    def total(self) -> int:
        return len(self._ranking)

    @property
    def digest(self) -> str:
        return f"{self._digest:024x}"

    def matches(self, head: Head) -> bool:
        """Whether these are the rows `head` describes (count and digest)."""
        return self.total == head.total and self.digest == head.digest


def stored_chunks(
    board: Board, version: int, previous: tuple[int, ...] | None, players: Iterable[str] = ()
) -> tuple[tuple[int, ...], dict[int, bytes]]:
    """What storing `board` as `version` writes: the version of each chunk (0: empty) for its
    head, and the encoded chunks to store by index. A whole board (`previous` None) writes every
    chunk; a patched one only the chunks of `players`, the rest keep their `previous` version."""
    if previous is None:
        changed: Iterable[int] = range(CHUNKS)
        versions = [0] * CHUNKS
    else:
        changed = {chunk_of(player) for player in players}
        versions = list(previous)
    values: dict[int, bytes] = {}
    for index in changed:
        rows = board.chunks[index]
        versions[index] = version if rows else 0
        if rows:
            values[index] = encode_rows(rows.values())
    return tuple(versions), values


@dataclass(frozen=True)
class Head:
    """What the board key holds: a board's identity and what it was built from, not its rows."""

    generation: int  # the generation counter's value read before the rows were read
    built_at: float  # when the rows were last brought up to date
    position: Position  # the change log's position the rows reflect
    sweep_from: Cursor | None  # where the next sweep page starts (None: the table's start)
    scan_read_units: float  # what the last full Scan of the table cost
    total: int  # rows
    digest: str  # Board.digest of the rows
    versions: tuple[int, ...]  # ids of the newest versions, oldest first; the last is this one
    chunks: tuple[int, ...]  # for each chunk, the id of the version that wrote it (0: empty)

    @property
    def version(self) -> int:
        return self.versions[-1]


@dataclass(frozen=True)
class Entry:
    """A cached board a container holds: its head and its rows (what a rebuild patches)."""

    head: Head
    board: Board

    @property
    def position(self) -> Position:
        return self.head.position

    @property
    def sweep_from(self) -> Cursor | None:
        return self.head.sweep_from

    @property
    def scan_read_units(self) -> float:
        return self.head.scan_read_units

    @property
    def rows(self) -> Mapping[str, StatsRow]:
        return self.board.rows


def inflate(value: bytes, what: str) -> bytes | None:
    """`value` decompressed, or None (logged) when it is not zlib or inflates too far."""
    try:
        inflater = zlib.decompressobj()
        data = inflater.decompress(value, MAX_INFLATED_BYTES)
        if inflater.unconsumed_tail or not inflater.eof:
            raise ValueError(f"does not inflate within {MAX_INFLATED_BYTES} bytes")
    except (ValueError, zlib.error) as error:
        logger.warning(f"cached {what} unreadable, treated as a miss", extra={"error": str(error)})
        return None
    return data


def _deflate(body: object) -> bytes:
    return zlib.compress(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(), 6)


def rows_to_json(rows: Iterable[StatsRow | RankedRow]) -> list[list[str | int]]:
    return [[r.player, r.games, r.wins, r.total_score] for r in rows]


def rows_from_json(rows: list[list[Any]]) -> tuple[StatsRow, ...]:
    """The rows of rows_to_json's lists (ValueError or TypeError when they are not such)."""
    return tuple(StatsRow(str(p), int(g), int(w), int(t)) for p, g, w, t in rows)


def _loaded(value: bytes | None, what: str) -> Any:
    """The JSON in a compressed value; None (logged) when absent or unreadable."""
    if not value:
        return None
    data = inflate(value, what)
    if data is None:
        return None
    try:
        return json.loads(data)
    except ValueError as error:
        logger.warning(f"cached {what} unreadable, treated as a miss", extra={"error": str(error)})
        return None


def encode_head(head: Head) -> bytes:
    """`<generation> <built_at>\\n<zlib(JSON)>`: the first line tells whether it is current."""
    body = {
        "position": [head.position.epoch, head.position.seq],
        "sweep_from": head.sweep_from,
        "scan_read_units": head.scan_read_units,
        "total": head.total,
        "digest": head.digest,
        "versions": head.versions,
        "chunks": head.chunks,
    }
    return b"%d %r\n" % (head.generation, head.built_at) + _deflate(body)


def decode_header(value: bytes | None) -> tuple[int, float] | None:
    """(generation, built_at) of an encoded head, without decompressing it."""
    if not value:
        return None
    try:
        generation, built_at = value[: value.index(b"\n")].split(b" ")
        return int(generation), float(built_at)
    except ValueError:
        return None


def decode_head(value: bytes | None) -> Head | None:
    """The head, or None for an absent or unreadable value (a miss, never an error)."""
    header = decode_header(value)
    if value is None or header is None:
        return None
    body = _loaded(value[value.index(b"\n") + 1 :], "board head")
    try:
        epoch, seq = body["position"]
        versions = tuple(int(version) for version in body["versions"])
        chunks = tuple(int(version) for version in body["chunks"])
        if not versions or len(chunks) != CHUNKS:
            raise ValueError("no version, or not one version per chunk")
        return Head(
            header[0],
            header[1],
            Position(int(epoch), int(seq)),
            body["sweep_from"],
            float(body["scan_read_units"]),
            int(body["total"]),
            str(body["digest"]),
            versions,
            chunks,
        )
    except (ValueError, TypeError, KeyError) as error:
        if body is not None:
            logger.warning(
                "cached board head unreadable, treated as a miss", extra={"error": str(error)}
            )
        return None


def encode_rows(rows: Iterable[StatsRow | RankedRow]) -> bytes:
    """A chunk: its rows, in no particular order."""
    return _deflate(rows_to_json(rows))


def decode_rows(value: bytes | None) -> list[RankedRow] | None:
    """A chunk's rows, or None (logged) when absent or unreadable."""
    loaded = _loaded(value, "board chunk")
    try:
        return (
            None
            if loaded is None
            else [ranked_row(str(p), int(g), int(w), int(t)) for p, g, w, t in loaded]
        )
    except (ValueError, TypeError) as error:
        logger.warning(
            "cached board chunk unreadable, treated as a miss", extra={"error": str(error)}
        )
        return None


def encode_changes(changes: RowChanges) -> bytes:
    """A delta: each changed row, a removed player as their name alone."""
    return _deflate(
        [
            [player] if row is None else [row.player, row.games, row.wins, row.total_score]
            for player, row in changes.items()
        ]
    )


def decode_changes(value: bytes | None) -> dict[str, StatsRow | None] | None:
    loaded = _loaded(value, "board delta")
    if loaded is None:
        return None
    try:
        changes: dict[str, StatsRow | None] = {}
        for item in loaded:
            if len(item) == 1:
                changes[str(item[0])] = None
            else:
                row = rows_from_json([item])[0]
                changes[row.player] = row
    except (ValueError, TypeError) as error:
        logger.warning(
            "cached board delta unreadable, treated as a miss", extra={"error": str(error)}
        )
        return None
    return changes


class PageBody:
    """One page of the board as the API serves it, and its entity tag."""

    __slots__ = ("etag", "gzip_base64", "text")

    def __init__(self, text: str, etag: str) -> None:
        self.text = text  # ASCII (names are \\u-escaped): its length is its size in bytes
        self.etag = etag
        self.gzip_base64: str | None = None  # filled the first time a client accepts gzip


class RenderedBoard:
    """A board as a request serves it: its rows as they were when it was made (read from the
    board until it changes, then from a copy the board gives it), pages rendered on first
    request and kept (bounded)."""

    def __init__(self, generation: int, built_at: float, board: Board) -> None:
        self.generation = generation
        self.built_at = built_at
        self.total = board.total
        # The rows' digest: the same board built twice, or by another container, has the same
        # tag, so a client's copy stays valid across rebuilds that changed nothing.
        self.digest = board.digest
        self._board = board
        self._rows: list[RankedRow] | None = None  # its own copy, once the board has changed
        board.read_by(self)
        self._built_at_iso = datetime.fromtimestamp(built_at, UTC).isoformat(
            timespec="milliseconds"
        )
        self._pages: OrderedDict[tuple[int, int], PageBody] = OrderedDict()

    def reads_from(self, board: Board) -> bool:
        return self._board is board and self._rows is None

    def keep(self, rows: list[RankedRow]) -> None:
        """The board is about to change: these are this board's rows from now on."""
        self._rows = rows

    def _rows_between(self, start: int, stop: int) -> list[RankedRow]:
        live = self._board.rows_for(self, start, stop)
        if live is not None:
            return live
        assert self._rows is not None, "a board that changed gave its readers their rows"
        return self._rows[start:stop]

    def same_as(self, generation: int, built_at: float) -> bool:
        return self.generation == generation and self.built_at == built_at

    def page(self, offset: int, limit: int) -> PageBody:
        key = (offset, limit)
        page = self._pages.get(key)
        if page is None:
            page = self._render(offset, limit)
            self._pages[key] = page
            if len(self._pages) > MEMORY_PAGES:
                self._pages.popitem(last=False)
        return page

    def _render(self, offset: int, limit: int) -> PageBody:
        players = ",".join(
            _player_json(rank_, row)
            for rank_, row in enumerate(
                self._rows_between(offset, offset + limit), start=offset + 1
            )
        )
        body = (
            f'{{"built_at":"{self._built_at_iso}","total":{self.total},"offset":{offset},'
            f'"limit":{limit},"players":[{players}]}}'
        )
        # Weak: the body also says when the board was built, which a rebuild changes.
        return PageBody(body, f'W/"{self.digest}-{offset}-{limit}"')

    def players(self) -> list[dict[str, Any]]:
        """Every player as the API shows them (for tests and tools)."""
        loaded: list[dict[str, Any]] = json.loads(self.page(0, self.total or 1).text)["players"]
        return loaded


def _player_json(rank_: int, row: RankedRow) -> str:
    games, wins = row.games, row.wins
    return (
        f'{{"rank":{rank_},"player":{json.dumps(row.player)},"games":{games},"wins":{wins},'
        f'"avg_score":{_avg_score(games, row.total_score)!r},'
        f'"win_percent":{_win_percent(games, wins)!r}}}'
    )
