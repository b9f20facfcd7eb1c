"""The leaderboard: rows ranked by wins, their cache encoding, and the pages served from memory.

What memcached holds is an `Entry`: the ranked rows and what they were built from (the
generation, the change-log position, where the sweep continues). What a warm container keeps is a
`RenderedBoard`: the same rows with the JSON of the pages already asked for, so a hit serialises
nothing.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tatourney.changelog import Position
from tatourney.table import Cursor, StatsRow

# Pages a container keeps rendered (and gzipped, once asked for) per board: the site asks for
# pages of 100 players (~10 KB), a client at most 1,000 (~100 KB), so this bounds them at about
# 160 KB, 1.6 MB at worst, beside the board's rows (about 2 MB at 10,000 players).
MEMORY_PAGES = 16


def rank(rows: Iterable[StatsRow]) -> tuple[StatsRow, ...]:
    """By wins; ties broken by win %, then average score, then name, so the order is stable."""
    return tuple(sorted(rows, key=lambda r: (-r.wins, -_win_percent(r), -_avg_score(r), r.player)))


def _avg_score(row: StatsRow) -> float:
    return round(row.total_score / row.games, 1) if row.games > 0 else 0.0


def _win_percent(row: StatsRow) -> float:
    return round(100 * row.wins / row.games, 1) if row.games > 0 else 0.0


@dataclass(frozen=True)
class Entry:
    """A board as cached: its ranked rows and what they were built from."""

    generation: int  # the generation counter's value read before the rows were read
    built_at: float  # when the rows were last brought up to date
    position: Position  # the change log's position the rows reflect
    sweep_from: Cursor | None  # where the next sweep page starts (None: the table's start)
    scan_read_units: float  # what the last full Scan of the table cost
    rows: tuple[StatsRow, ...]  # ranked


def rows_to_json(rows: Iterable[StatsRow]) -> list[list[str | int]]:
    return [[r.player, r.games, r.wins, r.total_score] for r in rows]


def rows_from_json(rows: list[list[Any]]) -> tuple[StatsRow, ...]:
    """The rows of rows_to_json's lists (ValueError or TypeError when they are not such)."""
    return tuple(StatsRow(str(p), int(g), int(w), int(t)) for p, g, w, t in rows)


def encode(entry: Entry) -> bytes:
    """`<generation> <built_at>\\n<zlib(JSON)>`: the header alone tells whether it is current."""
    body = {
        "position": [entry.position.epoch, entry.position.seq],
        "sweep_from": entry.sweep_from,
        "scan_read_units": entry.scan_read_units,
        "rows": rows_to_json(entry.rows),
    }
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return b"%d %r\n" % (entry.generation, entry.built_at) + zlib.compress(payload, 6)


def decode_header(value: bytes | None) -> tuple[int, float] | None:
    """(generation, built_at) of an encoded entry, without decompressing it."""
    if not value:
        return None
    try:
        generation, built_at = value[: value.index(b"\n")].split(b" ")
        return int(generation), float(built_at)
    except ValueError:
        return None


def decode(value: bytes | None) -> Entry | None:
    """The entry, or None for an absent or unreadable value (treated as a miss, never an error)."""
    header = decode_header(value)
    if value is None or header is None:
        return None
    try:
        body = json.loads(zlib.decompress(value[value.index(b"\n") + 1 :]))
        epoch, seq = body["position"]
        rows = rows_from_json(body["rows"])
        return Entry(
            header[0],
            header[1],
            Position(int(epoch), int(seq)),
            body["sweep_from"],
            float(body["scan_read_units"]),
            rows,
        )
    except (ValueError, TypeError, KeyError, zlib.error):
        return None


class PageBody:
    """One page of the board as the API serves it, and its entity tag."""

    __slots__ = ("etag", "gzip_base64", "text")

    def __init__(self, text: str, etag: str) -> None:
        self.text = text  # ASCII (names are \u-escaped): its length is its size in bytes
        self.etag = etag
        self.gzip_base64: str | None = None  # filled the first time a client accepts gzip


class RenderedBoard:
    """A board as a container serves it: pages rendered on first request, kept (bounded)."""

    def __init__(self, entry: Entry) -> None:
        self.generation = entry.generation
        self.built_at = entry.built_at
        self.rows = entry.rows
        self.total = len(entry.rows)
        # Derived from the rows alone: the same board built twice, or by another container,
        # has the same tag, so a client's copy stays valid across rebuilds that changed nothing.
        digest = hashlib.blake2b(digest_size=12)
        for row in entry.rows:
            digest.update(b"%s\0%d\0%d\0%d\n" % (row.player.encode(), *_counts(row)))
        self.digest = digest.hexdigest()
        self._built_at_iso = datetime.fromtimestamp(entry.built_at, UTC).isoformat(
            timespec="milliseconds"
        )
        self._pages: OrderedDict[tuple[int, int], PageBody] = OrderedDict()

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
            for rank_, row in enumerate(self.rows[offset : offset + limit], start=offset + 1)
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


def _counts(row: StatsRow) -> tuple[int, int, int]:
    return row.games, row.wins, row.total_score


def _player_json(rank_: int, row: StatsRow) -> str:
    return (
        f'{{"rank":{rank_},"player":{json.dumps(row.player)},"games":{row.games},'
        f'"wins":{row.wins},"avg_score":{_avg_score(row)!r},"win_percent":{_win_percent(row)!r}}}'
    )
