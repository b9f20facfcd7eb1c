"""The leaderboard body: rows ranked by wins, and its cache encoding (generation, time, zlib)."""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from tatourney.table import StatsRow

# Bodies above this are compressed before caching: JSON shrinks several-fold, and every hit
# then moves fewer bytes; below it compression costs more CPU than the bytes it saves.
COMPRESS_ABOVE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Board:
    """A rendered leaderboard: the ranked players as a JSON array, and when it was built."""

    players_json: bytes
    built_at: float


def render(rows: Iterable[StatsRow], built_at: float) -> Board:
    """Rank by wins; ties broken by win %, then average score, then name, so order is stable."""
    scored = []
    for row in rows:
        avg_score = round(row.total_score / row.games, 1) if row.games > 0 else 0.0
        win_percent = round(100 * row.wins / row.games, 1) if row.games > 0 else 0.0
        scored.append((row, avg_score, win_percent))
    scored.sort(key=lambda s: (-s[0].wins, -s[2], -s[1], s[0].player))
    ranked = [
        {
            "rank": rank,
            "player": row.player,
            "games": row.games,
            "wins": row.wins,
            "avg_score": avg_score,
            "win_percent": win_percent,
        }
        for rank, (row, avg_score, win_percent) in enumerate(scored, start=1)
    ]
    return Board(json.dumps(ranked, separators=(",", ":")).encode(), built_at)


@dataclass(frozen=True)
class Entry:
    """A cached board and the generation it was built under (0 for the stale copy)."""

    generation: int
    board: Board


def encode(entry: Entry) -> bytes:
    """`<generation> <built_at> <raw|zlib>\\n<players_json, maybe compressed>`."""
    payload, encoding = entry.board.players_json, b"raw"
    if len(payload) > COMPRESS_ABOVE_BYTES:
        payload, encoding = zlib.compress(payload, 6), b"zlib"
    header = b"%d %.6f %s\n" % (entry.generation, entry.board.built_at, encoding)
    return header + payload


def decode(value: bytes | None) -> Entry | None:
    """The entry, or None for an absent or unreadable value (treated as a miss, never an error)."""
    if not value:
        return None
    try:
        header, payload = value.split(b"\n", 1)
        generation, built_at, encoding = header.split(b" ")
        if encoding == b"zlib":
            payload = zlib.decompress(payload)
        elif encoding != b"raw":
            return None
        return Entry(int(generation), Board(payload, float(built_at)))
    except (ValueError, zlib.error):
        return None
