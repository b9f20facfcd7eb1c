"""Rendering and the cache encoding of the board: pure functions, tested directly."""

from __future__ import annotations

import json
import zlib

from hypothesis import given
from hypothesis import strategies as st

from tatourney.board import COMPRESS_ABOVE_BYTES, Board, Entry, decode, encode, render
from tatourney.table import StatsRow

rows = st.builds(
    StatsRow,
    player=st.text(min_size=1, max_size=20),
    games=st.integers(0, 10_000),
    wins=st.integers(0, 10_000),
    total_score=st.integers(0, 10_000_000),
)


def test_ranked_by_wins_then_win_percent_then_average_then_name() -> None:
    board = render(
        [
            StatsRow("Mark", 4, 2, 2000),  # 50 %, 500
            StatsRow("Tia", 2, 2, 800),  # 100 %
            StatsRow("Alan", 4, 2, 2000),  # same as Mark: name decides
            StatsRow("Rich", 4, 2, 2400),  # 50 %, 600
            StatsRow("Zed", 0, 0, 0),  # no games yet
        ],
        built_at=1.0,
    )
    players = json.loads(board.players_json)
    assert [p["player"] for p in players] == ["Tia", "Rich", "Alan", "Mark", "Zed"]
    assert players[0] == {
        "rank": 1,
        "player": "Tia",
        "games": 2,
        "wins": 2,
        "avg_score": 400.0,
        "win_percent": 100.0,
    }
    assert players[-1]["avg_score"] == 0.0
    assert players[-1]["win_percent"] == 0.0


@given(st.lists(rows, max_size=30))
def test_rank_order_does_not_depend_on_scan_order(table: list[StatsRow]) -> None:
    assert render(table, 1.0) == render(list(reversed(table)), 1.0)
    ranks = [p["rank"] for p in json.loads(render(table, 1.0).players_json)]
    assert ranks == list(range(1, len(table) + 1))


@given(
    st.integers(0, 2**63 - 1),
    st.floats(0, 4e9, allow_nan=False),
    st.binary(max_size=3 * COMPRESS_ABOVE_BYTES),
)
def test_encoding_round_trips(generation: int, built_at: float, payload: bytes) -> None:
    entry = Entry(generation, Board(payload, round(built_at, 6)))
    decoded = decode(encode(entry))
    assert decoded is not None
    assert decoded.generation == generation
    assert decoded.board.players_json == payload
    assert abs(decoded.board.built_at - entry.board.built_at) < 1e-3


def test_large_bodies_are_compressed() -> None:
    payload = b'{"player":"x"}' * (COMPRESS_ABOVE_BYTES // 10)
    value = encode(Entry(7, Board(payload, 1.0)))
    assert b" zlib\n" in value.split(b"\n", 1)[0] + b"\n"
    assert len(value) < len(payload) // 10
    assert zlib.decompress(value.split(b"\n", 1)[1]) == payload


@given(st.binary(max_size=200))
def test_unreadable_values_are_misses_never_errors(value: bytes) -> None:
    decoded = decode(value)
    assert decoded is None or isinstance(decoded, Entry)


def test_corrupt_compressed_value_is_a_miss() -> None:
    assert decode(b"1 2.0 zlib\nnot zlib at all") is None
    assert decode(b"1 2.0 gzip\n[]") is None
    assert decode(b"") is None
