"""Ranking, the cache encoding of a board, and the pages served from memory: tested directly."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from tatourney.board import MEMORY_PAGES, Entry, RenderedBoard, decode, encode, rank
from tatourney.changelog import Position
from tatourney.table import StatsRow

rows = st.builds(
    StatsRow,
    player=st.text(min_size=1, max_size=20),
    games=st.integers(0, 10_000),
    wins=st.integers(0, 10_000),
    total_score=st.integers(0, 10_000_000),
)
boards = st.lists(rows, max_size=30, unique_by=lambda row: row.player)


def entry_of(table: list[StatsRow], generation: int = 7, built_at: float = 1.0) -> Entry:
    return Entry(generation, built_at, Position(3, 4), None, 0.5, rank(table))


def test_ranked_by_wins_then_win_percent_then_average_then_name() -> None:
    board = RenderedBoard(
        entry_of(
            [
                StatsRow("Mark", 4, 2, 2000),  # 50 %, 500
                StatsRow("Tia", 2, 2, 800),  # 100 %
                StatsRow("Alan", 4, 2, 2000),  # same as Mark: name decides
                StatsRow("Rich", 4, 2, 2400),  # 50 %, 600
                StatsRow("Zed", 0, 0, 0),  # no games yet
            ]
        )
    )
    players = board.players()
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


@given(boards)
def test_rank_order_does_not_depend_on_scan_order(table: list[StatsRow]) -> None:
    assert rank(table) == rank(list(reversed(table)))
    ranks = [p["rank"] for p in RenderedBoard(entry_of(table)).players()]
    assert ranks == list(range(1, len(table) + 1))


@given(
    boards,
    st.integers(0, 2**63 - 1),
    st.floats(0, 4e9, allow_nan=False),
    st.none() | st.fixed_dictionaries({"player": st.fixed_dictionaries({"S": st.text()})}),
)
def test_encoding_round_trips(
    table: list[StatsRow], generation: int, built_at: float, sweep_from: dict[str, object] | None
) -> None:
    entry = Entry(generation, built_at, Position(2**62, 17), sweep_from, 41.5, rank(table))
    assert decode(encode(entry)) == entry


def test_boards_are_stored_compressed() -> None:
    table = [StatsRow(f"player-{i:05}", 30, i % 30, 15_000) for i in range(2000)]
    value = encode(entry_of(table))
    as_json = RenderedBoard(entry_of(table)).page(0, 2000).text
    assert len(value) < len(as_json) // 5


@given(st.binary(max_size=200))
def test_unreadable_values_are_misses_never_errors(value: bytes) -> None:
    decoded = decode(value)
    assert decoded is None or isinstance(decoded, Entry)


def test_corrupt_values_are_misses() -> None:
    assert decode(b"1 2.0\nnot zlib at all") is None
    assert decode(b"one 2.0\n") is None
    assert decode(b"") is None
    assert decode(None) is None


@given(boards, st.integers(0, 40), st.integers(1, 40))
def test_a_page_is_the_slice_of_the_ranking_with_its_place_and_the_total(
    table: list[StatsRow], offset: int, limit: int
) -> None:
    board = RenderedBoard(entry_of(table))
    text = board.page(offset, limit).text
    assert text.isascii(), "its length is its size in bytes (gzip threshold, Content-Length)"
    page = json.loads(text)
    assert page["total"] == len(table)
    assert (page["offset"], page["limit"]) == (offset, limit)
    assert page["players"] == board.players()[offset : offset + limit]
    assert page["built_at"] == "1970-01-01T00:00:01.000+00:00"


@given(boards)
def test_the_entity_tag_depends_on_the_rows_and_the_page_not_on_when_or_under_what(
    table: list[StatsRow],
) -> None:
    first = RenderedBoard(entry_of(table, generation=1, built_at=1.0))
    again = RenderedBoard(entry_of(table, generation=2, built_at=99.0))
    assert first.page(0, 10).etag == again.page(0, 10).etag
    assert first.page(0, 10).etag != first.page(10, 10).etag
    assert first.page(0, 10).etag.startswith('W/"')
    if table:
        changed = [StatsRow(table[0].player, table[0].games + 1, *_rest(table[0])), *table[1:]]
        assert RenderedBoard(entry_of(changed)).page(0, 10).etag != first.page(0, 10).etag


def _rest(row: StatsRow) -> tuple[int, int]:
    return row.wins, row.total_score


def test_pages_kept_in_memory_are_bounded() -> None:
    board = RenderedBoard(entry_of([StatsRow("Tia", 1, 1, 10)]))
    first = board.page(0, 1)
    assert board.page(0, 1) is first, "served again from memory"
    for offset in range(1, MEMORY_PAGES + 1):
        board.page(offset, 1)
    assert board.page(0, 1) is not first, "the oldest page was dropped"
