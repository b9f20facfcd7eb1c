"""Ranking, the patched board, the cache encoding of a board, and the pages served from memory:
tested directly."""

from __future__ import annotations

import json
import zlib

from hypothesis import given
from hypothesis import strategies as st

from tatourney.board import (
    CHUNKS,
    MAX_INFLATED_BYTES,
    MEMORY_PAGES,
    Board,
    Head,
    RenderedBoard,
    decode_changes,
    decode_head,
    decode_rows,
    encode_changes,
    encode_head,
    encode_rows,
    rank,
)
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


def rendered(table: list[StatsRow], generation: int = 7, built_at: float = 1.0) -> RenderedBoard:
    return RenderedBoard(generation, built_at, Board.of(table))


def test_ranked_by_wins_then_win_percent_then_average_then_name() -> None:
    board = rendered(
        [
            StatsRow("Mark", 4, 2, 2000),  # 50 %, 500
            StatsRow("Tia", 2, 2, 800),  # 100 %
            StatsRow("Alan", 4, 2, 2000),  # same as Mark: name decides
            StatsRow("Rich", 4, 2, 2400),  # 50 %, 600
            StatsRow("Zed", 0, 0, 0),  # no games yet
        ]
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
    ranks = [p["rank"] for p in rendered(table).players()]
    assert ranks == list(range(1, len(table) + 1))


changes = st.dictionaries(st.text(min_size=1, max_size=20), st.none() | rows, max_size=10).map(
    lambda found: {p: None if r is None else StatsRow(p, *_counts(r)) for p, r in found.items()}
)


def _counts(row: StatsRow) -> tuple[int, int, int]:
    return row.games, row.wins, row.total_score


@given(boards, st.lists(changes, max_size=5))
def test_a_patched_board_is_the_board_built_from_its_rows(
    table: list[StatsRow], patches: list[dict[str, StatsRow | None]]
) -> None:
    board = Board.of(table)
    expected = {row.player: row for row in table}
    for patch in patches:
        board.apply(patch)
        for player, row in patch.items():
            expected.pop(player, None)
            if row is not None:
                expected[player] = row
    built = Board.of(expected.values())
    assert [row.stats_row() for row in board.ranking()] == list(rank(expected.values()))
    assert board.digest == built.digest
    assert dict(board.rows) == expected
    assert board.total == len(expected)


@given(
    st.integers(0, 2**63 - 1),
    st.floats(0, 4e9, allow_nan=False),
    st.none() | st.fixed_dictionaries({"player": st.fixed_dictionaries({"S": st.text()})}),
    st.lists(st.integers(1, 2**63 - 1), min_size=1, max_size=32),
    st.lists(st.integers(0, 2**63 - 1), min_size=CHUNKS, max_size=CHUNKS),
)
def test_head_encoding_round_trips(
    generation: int,
    built_at: float,
    sweep_from: dict[str, object] | None,
    versions: list[int],
    chunks: list[int],
) -> None:
    head = Head(
        generation,
        built_at,
        Position(2**62, 17),
        sweep_from,
        41.5,
        3,
        "ab" * 12,
        tuple(versions),
        tuple(chunks),
    )
    assert decode_head(encode_head(head)) == head


@given(boards, changes)
def test_chunk_and_delta_encodings_round_trip(
    table: list[StatsRow], patch: dict[str, StatsRow | None]
) -> None:
    assert [row.stats_row() for row in decode_rows(encode_rows(table)) or ()] == table
    assert decode_changes(encode_changes(patch)) == patch


def test_chunks_are_stored_compressed() -> None:
    table = [StatsRow(f"player-{i:05}", 30, i % 30, 15_000) for i in range(2000)]
    value = encode_rows(table)
    as_json = rendered(table).page(0, 2000).text
    assert len(value) < len(as_json) // 5


@given(st.binary(max_size=200))
def test_unreadable_values_are_misses_never_errors(value: bytes) -> None:
    assert decode_head(value) is None or isinstance(decode_head(value), Head)
    assert decode_rows(value) is None or isinstance(decode_rows(value), list)
    assert decode_changes(value) is None or isinstance(decode_changes(value), dict)


def test_corrupt_values_are_misses() -> None:
    assert decode_head(b"1 2.0\nnot zlib at all") is None
    assert decode_head(b"one 2.0\n") is None
    assert decode_head(b"1 2.0\n" + zlib.compress(b'{"versions": []}')) is None
    assert decode_head(b"") is None
    assert decode_head(None) is None
    assert decode_rows(zlib.compress(b'[["Tia", "one", 2, 3]]')) is None
    assert decode_changes(zlib.compress(b"[[]]")) is None


def test_a_value_that_inflates_beyond_the_bound_is_a_miss() -> None:
    bomb = zlib.compress(b"[" + b" " * (MAX_INFLATED_BYTES + 1) + b"]", 9)
    assert len(bomb) < MAX_INFLATED_BYTES // 500
    assert decode_rows(bomb) is None
    assert decode_changes(bomb) is None
    assert decode_head(b"1 2.0\n" + bomb) is None


@given(boards, st.integers(0, 40), st.integers(1, 40))
def test_a_page_is_the_slice_of_the_ranking_with_its_place_and_the_total(
    table: list[StatsRow], offset: int, limit: int
) -> None:
    board = rendered(table)
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
    first = rendered(table, generation=1, built_at=1.0)
    again = rendered(list(reversed(table)), generation=2, built_at=99.0)
    assert first.page(0, 10).etag == again.page(0, 10).etag
    assert first.page(0, 10).etag != first.page(10, 10).etag
    assert first.page(0, 10).etag.startswith('W/"')
    if table:
        changed = [StatsRow(table[0].player, table[0].games + 1, *_rest(table[0])), *table[1:]]
        assert rendered(changed).page(0, 10).etag != first.page(0, 10).etag


def _rest(row: StatsRow) -> tuple[int, int]:
    return row.wins, row.total_score


def test_pages_kept_in_memory_are_bounded() -> None:
    board = rendered([StatsRow("Tia", 1, 1, 10)])
    first = board.page(0, 1)
    assert board.page(0, 1) is first, "served again from memory"
    for offset in range(1, MEMORY_PAGES + 1):
        board.page(offset, 1)
    assert board.page(0, 1) is not first, "the oldest page was dropped"
