"""The delta path, against a real memcached and DynamoDB Local: a warm container brings its board
up to date from the deltas the lease holder published, and reads the whole board (its chunks)
only when it has to: nothing held, a gap in the published versions, a delta evicted or
unreadable. Every path ends in the board the table holds. And what the cache holds is untrusted:
garbage or a zlib bomb in any of the board's values is a miss, answered cleanly."""

from __future__ import annotations

import zlib
from typing import Any

import pytest

from tatourney.board import (
    MAX_INFLATED_BYTES,
    RECENT_VERSIONS,
    Board,
    RankedRow,
    RenderedBoard,
    decode_head,
    encode_changes,
)
from tatourney.leaderboard import Source
from tatourney.table import StatsRow, StatsTable
from tests.conftest import Reader
from tests.core.boards import (
    Row,
    Tournament,
    players,
    source_of,
)


class KeyRecorder:
    """A memcached client that records the keys of every get_many made through it."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.keys: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def get_many(self, keys: list[str]) -> dict[str, bytes]:
        self.keys.extend(keys)
        found: dict[str, bytes] = self._inner.get_many(keys)
        return found

    def read(self, kind: str) -> list[str]:
        """The keys of that kind ("chunk" or "delta") it asked for."""
        return [key for key in self.keys if f":{kind}:" in key]


def warm_container(tournament: Tournament) -> tuple[Reader, KeyRecorder]:
    """Another container, serving the cached board (read whole once), its gets recorded after."""
    reader = tournament.make_reader()
    assert source_of(reader.leaderboard.read()) is Source.HIT
    recorder = KeyRecorder(reader.leaderboard._cache._client)
    reader.leaderboard._cache._client = recorder
    return reader, recorder


def game(
    tournament: Tournament, holder: Reader, rows: list[Row], removed: tuple[str, ...] = ()
) -> None:
    """A game played (its invalidation processed), then rebuilt by the lease holder."""
    tournament.play(rows, removed)
    assert source_of(holder.leaderboard.read()) is Source.MISS


def table_players(tournament: Tournament) -> list[dict[str, Any]]:
    """The board as the table holds it now, ranked and shown as the API shows it."""
    scanned = StatsTable(lambda: tournament.aws.client, tournament.tables.stats).scan()
    return RenderedBoard(0, 0.0, Board.of(scanned.rows)).players()


def test_a_container_that_missed_deltas_catches_up_from_them(tournament: Tournament) -> None:
    holder = tournament.board_cached()
    other, recorder = warm_container(tournament)
    for n in range(3):  # three games the other container serves nothing during
        game(
            tournament,
            holder,
            [(f"player-{n:05}", 20, 15 + n, 900)],
        )

    answer = other.leaderboard.read()

    assert source_of(answer) is Source.HIT
    assert players(answer) == table_players(tournament)
    assert players(answer)[0]["player"] == "player-00002"
    assert len(recorder.read("delta")) == 3, "the three versions' deltas"
    assert recorder.read("chunk") == [], "not the whole board"


def test_a_gap_in_the_published_changes_reads_the_whole_board_once(tournament: Tournament) -> None:
    holder = tournament.board_cached()
    other, recorder = warm_container(tournament)
    for n in range(RECENT_VERSIONS + 1):  # its version is no longer among the head's
        game(
            tournament,
            holder,
            [(f"player-{n:05}", 20, n % 7, 900)],
        )

    caught_up = other.leaderboard.read()

    assert players(caught_up) == table_players(tournament)
    assert recorder.read("delta") == []
    assert recorder.read("chunk"), "the whole board, from its chunks"
    recorder.keys.clear()
    game(
        tournament,
        holder,
        [("player-00150", 20, 19, 900)],
    )
    next_answer = other.leaderboard.read()
    assert players(next_answer) == table_players(tournament)
    assert (len(recorder.read("delta")), recorder.read("chunk")) == (1, []), "then deltas again"


@pytest.mark.parametrize("delta", ["evicted", "garbage", "zlib-bomb", "wrong-rows"])
def test_a_delta_evicted_unreadable_or_wrong_reads_the_whole_board(
    tournament: Tournament, delta: str
) -> None:
    holder = tournament.board_cached()
    other, recorder = warm_container(tournament)
    keys = tournament.keys
    cache = tournament.cache()
    game(
        tournament,
        holder,
        [("player-00007", 20, 18, 900)],
    )
    first_delta = keys.delta(version_of_cached_board(tournament))
    game(
        tournament,
        holder,
        [("player-00008", 20, 19, 900)],
    )
    if delta == "evicted":
        cache.delete(first_delta)
    elif delta == "wrong-rows":  # readable, but not what that version changed: the digest tells
        cache.set(
            first_delta, encode_changes({"player-00007": StatsRow("player-00007", 1, 1, 1)}), 0
        )
    else:
        cache.set(first_delta, BOMB if delta == "zlib-bomb" else b"\x78\x9cgarbage", 0)

    answer = other.leaderboard.read()

    assert source_of(answer) is Source.HIT
    assert players(answer) == table_players(tournament)
    assert recorder.read("chunk"), "the whole board, from its chunks"


def test_joins_and_removals_reach_a_warm_container_as_a_delta(tournament: Tournament) -> None:
    holder = tournament.board_cached()
    other, recorder = warm_container(tournament)
    # Two players a game: at 200 players, a patch of more costs more than a full Scan.
    game(
        tournament,
        holder,
        [("Zoe", 30, 30, 9000)],
        ("player-00003",),
    )
    game(
        tournament,
        holder,
        [("player-00004", 20, 0, 1)],
        ("player-00199",),
    )

    answer = other.leaderboard.read()

    shown = players(answer)
    assert shown == table_players(tournament)
    names = [p["player"] for p in shown]
    assert names[0] == "Zoe"
    assert "player-00003" not in names
    assert "player-00199" not in names
    assert len(names) == 199
    assert (len(recorder.read("delta")), recorder.read("chunk")) == (2, [])


def version_of_cached_board(tournament: Tournament) -> int:
    head = decode_head(tournament.cache().get(tournament.keys.board))
    assert head is not None
    return head.version


# A value that inflates past the bound (a few hundred KB stored, 33 MB inflated).
BOMB = zlib.compress(b"[" + b" " * MAX_INFLATED_BYTES + b"]", 9)


@pytest.mark.parametrize("value", ["head", "chunk"])
@pytest.mark.parametrize("content", ["garbage", "zlib-bomb"])
def test_garbage_or_a_zlib_bomb_in_the_cache_is_a_logged_miss_with_a_clean_answer(
    tournament: Tournament, caplog: pytest.LogCaptureFixture, value: str, content: str
) -> None:
    tournament.board_cached()
    keys = tournament.keys
    cache = tournament.cache()
    head_value = cache.get(keys.board)
    head = decode_head(head_value)
    assert head_value is not None
    assert head is not None
    bad = BOMB if content == "zlib-bomb" else b"\x78\x9c\x00garbage"
    if value == "head":  # its first line still says it is current
        cache.set(keys.board, head_value[: head_value.index(b"\n") + 1] + bad, 0)
    else:
        index = next(i for i, version in enumerate(head.chunks) if version)
        cache.set(keys.chunk(index, head.chunks[index]), bad, 0)

    answer = (
        tournament.make_reader().leaderboard.read()
    )  # a new container: it must read the whole board

    assert source_of(answer) is Source.MISS, "rebuilt from the table"
    assert players(answer) == table_players(tournament)
    assert f"cached board {value} unreadable, treated as a miss" in caplog.text
    if content == "zlib-bomb":
        bound = f"does not inflate within {MAX_INFLATED_BYTES} bytes"
        assert bound in [getattr(record, "error", None) for record in caplog.records]


def test_an_answer_held_across_a_patch_keeps_its_own_board(tournament: Tournament) -> None:
    holder = tournament.board_cached()
    other, _ = warm_container(tournament)
    before = other.leaderboard.read()  # no page of it rendered yet
    table_before = table_players(tournament)

    game(tournament, holder, [("player-00007", 20, 19, 900)])
    after = other.leaderboard.read()

    assert players(after) == table_players(tournament)
    assert players(after)[0]["player"] == "player-00007"
    assert players(before) == table_before, "the board an answer was given does not change"


def test_a_warm_container_patches_its_board_without_copying_the_ranking(
    tournament: Tournament, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder = tournament.board_cached()
    other, _ = warm_container(tournament)
    copies: list[int] = []
    keep = RenderedBoard.keep

    def recorded_keep(board: RenderedBoard, rows: list[RankedRow]) -> None:
        """The real method, each copy it is handed recorded."""
        copies.append(len(rows))
        keep(board, rows)

    monkeypatch.setattr(RenderedBoard, "keep", recorded_keep)

    for n in range(3):  # each answer let go of once served, as a handler does
        game(tournament, holder, [(f"player-{n:05}", 20, 15 + n, 900)])
        assert players(other.leaderboard.read()) == table_players(tournament)

    assert copies == [], "no board was held while its container patched it"
