"""The consistency checker against real memcached: boards, counters and change logs stored as the
protocol stores them, and the checker's verdict on each change; then the checker function on the
real stats stream of DynamoDB Local, after the real invalidate and leaderboard functions."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tatourney.board import CHUNKS, Head, encode_head, new_version, stored_chunks
from tatourney.board import Board as BoardRows
from tatourney.cache import Cache, LeaderboardKeys
from tatourney.changelog import ChangeLog, Position, Version
from tatourney.config import CacheConfig
from tatourney.consistency_check import Change, ConsistencyChecker, Verdict
from tatourney.table import StatsRow
from tatourney_local.services import Memcached
from tatourney_local.tables import TableNames
from tests.core.boards import TEN_PLAYERS
from tests.core.handler_io import CONTEXT, metrics_of, other_records
from tests.support import LocalAws, http_event, load_handler

GENERATION = 41


class Board:
    """One leaderboard's keys in memcached, written as the protocol writes them."""

    def __init__(self, memcached: Memcached, key_prefix: str) -> None:
        config = CacheConfig((("127.0.0.1", memcached.port),), key_prefix, 1.0, tls=False)
        self.cache = Cache.connect(config)
        self.keys = LeaderboardKeys.for_prefix(key_prefix)
        self.log = ChangeLog.new()

    def invalidate(self, players: dict[str, int | None]) -> int:
        """Log the players (at their games: None removed), then bump the counter; the entry's
        seq."""
        self.log = self.log.append({player: version(games) for player, games in players.items()})
        self.cache.set(self.keys.log, self.log.encode(), 0)
        self.cache.incr(self.keys.generation)
        return self.log.seq

    def store(self, rows: dict[str, int], built_at: float) -> None:
        """A whole board built now, as a lease holder stores one: its chunks, then its head,
        tagged with the present counter, at the log's present position."""
        generation = int(self.cache.get(self.keys.generation) or 0)
        board = BoardRows.of(StatsRow(player, games, 0, 0) for player, games in rows.items())
        version = new_version()
        chunks, values = stored_chunks(board, version, None)
        for index, value in values.items():
            self.cache.set(self.keys.chunk(index, version), value, 0)
        head = Head(
            generation,
            built_at,
            Position(self.log.epoch, self.log.seq),
            None,
            0.0,
            board.total,
            board.digest,
            (version,),
            chunks,
        )
        self.cache.set(self.keys.board, encode_head(head), 0)

    def checker(self, recheck_seconds: float = 0.0) -> ConsistencyChecker:
        return ConsistencyChecker(
            self.cache, self.keys, recheck_seconds, recheck_interval_seconds=0.05
        )


@pytest.fixture
def board(memcached: Memcached, key_prefix: str) -> Board:
    stored = Board(memcached, key_prefix)
    stored.cache.set(stored.keys.generation, b"%d" % GENERATION, 0)
    stored.invalidate({"Tia": 10, "Mark": 10})
    stored.store({"Tia": 10, "Mark": 10}, built_at=time.time() - 60)
    return stored


def version(games: int | None) -> Version:
    """The version of a row with `games` games (no wins, no score); None: removed."""
    return None if games is None else (games, 0, 0)


def change(player: str, games: int | None, ago: float = 5.0) -> Change:
    return Change(player, version(games), time.time() - ago)


def verdict(board: Board, checked: Change) -> Verdict:
    [check] = board.checker().check([checked])
    return check.verdict


def test_a_board_rebuilt_after_the_invalidation_showing_the_change_is_consistent(
    board: Board,
) -> None:
    board.invalidate({"Tia": 11})
    built_at = time.time()
    board.store({"Tia": 11, "Mark": 10}, built_at)
    tia = change("Tia", 11, ago=2.0)
    [check] = board.checker().check([tia])
    assert check.verdict is Verdict.CONSISTENT
    assert check.seconds_to_consistent == pytest.approx(built_at - tia.changed_at)


def test_a_board_rebuilt_after_the_invalidation_showing_the_old_row_is_inconsistent(
    board: Board, caplog: pytest.LogCaptureFixture
) -> None:
    seq = board.invalidate({"Tia": 11})
    board.store({"Tia": 10, "Mark": 10}, time.time())
    with caplog.at_level(logging.ERROR, logger="tatourney.consistency_check"):
        [check] = board.checker().check([change("Tia", 11)])
    assert check.verdict is Verdict.INCONSISTENT
    assert check.seconds_to_consistent is None
    [logged] = caplog.records
    assert logged.player == "Tia"  # type: ignore[attr-defined]
    assert logged.changed_version == logged.expected_version == (11, 0, 0)  # type: ignore[attr-defined]
    assert logged.shown_version == (10, 0, 0)  # type: ignore[attr-defined]
    assert (logged.generation, logged.logged_seq) == (GENERATION + 2, seq)  # type: ignore[attr-defined]
    assert logged.change_age_seconds >= 5.0  # type: ignore[attr-defined]


def test_a_player_missing_from_a_board_rebuilt_after_the_change_is_inconsistent(
    board: Board,
) -> None:
    board.invalidate({"Zoe": 1})
    board.store({"Tia": 10, "Mark": 10}, time.time())
    assert verdict(board, change("Zoe", 1)) is Verdict.INCONSISTENT


def test_no_board_since_the_invalidation_is_not_yet_rebuilt(board: Board) -> None:
    board.invalidate({"Tia": 11})  # the stored board is of the generation before
    assert verdict(board, change("Tia", 11)) is Verdict.NOT_YET_REBUILT
    board.cache.delete(board.keys.board)
    assert verdict(board, change("Tia", 11)) is Verdict.NOT_YET_REBUILT


def test_a_change_the_log_does_not_hold_is_not_yet_invalidated(board: Board) -> None:
    assert verdict(board, change("Zoe", 1)) is Verdict.NOT_YET_INVALIDATED


def test_a_logged_change_before_the_counter_moved_is_not_yet_invalidated(board: Board) -> None:
    board.log = board.log.append({"Tia": version(11)})  # logged, the counter not bumped yet
    board.cache.set(board.keys.log, board.log.encode(), 0)
    assert verdict(board, change("Tia", 11)) is Verdict.NOT_YET_INVALIDATED


def test_a_removed_player_must_be_gone_from_a_board_rebuilt_after_it(board: Board) -> None:
    board.invalidate({"Mark": None})
    board.store({"Tia": 10, "Mark": 10}, time.time())
    assert verdict(board, change("Mark", None)) is Verdict.INCONSISTENT
    board.store({"Tia": 10}, time.time())
    assert verdict(board, change("Mark", None)) is Verdict.CONSISTENT


def test_a_later_change_on_the_board_is_consistent_and_an_older_one_is_not(board: Board) -> None:
    board.invalidate({"Tia": 11})
    board.invalidate({"Tia": 12})
    board.store({"Tia": 12, "Mark": 10}, time.time())
    assert verdict(board, change("Tia", 11)) is Verdict.CONSISTENT
    # Built at the second entry, showing the first:
    board.store({"Tia": 11, "Mark": 10}, time.time())
    assert verdict(board, change("Tia", 11)) is Verdict.INCONSISTENT


def test_a_change_read_before_its_own_invalidation_is_beyond_the_logged_one(board: Board) -> None:
    board.invalidate({"Tia": 11})
    board.store({"Tia": 12, "Mark": 10}, time.time())  # Tia's next game, committed, not logged yet
    assert verdict(board, change("Tia", 11)) is Verdict.CONSISTENT


def test_a_change_invalidated_while_the_checker_waits_is_rechecked(board: Board) -> None:
    invalidating = threading.Timer(0.3, board.invalidate, [{"Zoe": 1}])
    invalidating.start()
    try:
        [check] = board.checker(recheck_seconds=30).check([change("Zoe", 1)])
    finally:
        invalidating.join()
    assert check.verdict is Verdict.NOT_YET_REBUILT


def test_rechecks_stop_at_the_bound(board: Board) -> None:
    snapshots: list[float] = []
    checker = board.checker(recheck_seconds=2)
    take = checker.snapshot

    def counted(players: Collection[str]) -> object:
        snapshots.append(time.monotonic())
        return take(players)

    checker.snapshot = counted  # type: ignore[method-assign,assignment]
    [check] = checker.check([change("Zoe", 1)])
    assert check.verdict is Verdict.NOT_YET_INVALIDATED
    # One snapshot, then one per 50 ms interval within the 2 s bound.
    assert 2 <= len(snapshots) <= 1 + 2 / 0.05


def test_two_cache_round_trips_check_a_whole_batch(board: Board) -> None:
    """Counter, head and log in one get_many; the chunks of the changed players in another."""
    board.invalidate({f"player-{n}": 1 for n in range(100)})
    board.store({f"player-{n}": 1 for n in range(100)}, time.time())
    checker = board.checker()
    calls: list[list[str]] = []
    get_many = board.cache.get_many

    def counted(keys: list[str]) -> dict[str, bytes]:
        calls.append(keys)
        return get_many(keys)

    board.cache.get_many = counted  # type: ignore[method-assign]
    checks = checker.check([change(f"player-{n}", 1) for n in range(100)])
    assert {c.verdict for c in checks} == {Verdict.CONSISTENT}
    assert len(calls) == 2
    assert len(calls[1]) <= CHUNKS, "one key a chunk, however many players it holds"


# The function on the real stream -------------------------------------------------------------


@pytest.mark.usefixtures("lambda_env")
def test_checker_function_counts_each_class_from_the_stats_stream(
    aws: LocalAws, tables: TableNames, capfd: pytest.CaptureFixture[str]
) -> None:
    aws.put_stats(tables.stats, TEN_PLAYERS[:3])
    invalidate, leaderboard = load_handler("invalidate"), load_handler("leaderboard")
    checker = load_handler("checker")
    seeded = aws.stream_event(tables.stats)
    invalidate.handler(seeded, CONTEXT)
    assert leaderboard.handler(http_event(), CONTEXT)["headers"]["X-Cache"] == "MISS"
    capfd.readouterr()
    assert checker.handler(seeded, CONTEXT) == {"batchItemFailures": []}
    counted = metrics_of(capfd.readouterr().out)
    assert counted["Consistent"] == 3
    assert counted["Inconsistent"] == counted["NotYetRebuilt"] == 0
    assert "SecondsToConsistent" in counted

    last = seeded["Records"][-1]["dynamodb"]["SequenceNumber"]
    aws.put_stats(tables.stats, [("Zoe", 1, 1, 100)])
    change_batch = aws.stream_event(tables.stats, after=last)
    invalidate.handler(change_batch, CONTEXT)  # no read since: nothing rebuilt
    capfd.readouterr()
    checker.handler(change_batch, CONTEXT)
    counted = metrics_of(capfd.readouterr().out)
    assert (counted["NotYetRebuilt"], counted["Consistent"], counted["Inconsistent"]) == (1, 0, 0)


@pytest.mark.usefixtures("lambda_env")
def test_records_of_another_shape_are_skipped_never_raised(
    capfd: pytest.CaptureFixture[str],
) -> None:
    checker = load_handler("checker")

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(other_records, max_size=5))
    def check(records: list[dict[str, Any]]) -> None:
        assert checker.handler({"Records": records}, CONTEXT) == {"batchItemFailures": []}

    check()
    assert metrics_of(capfd.readouterr().out).get("Inconsistent", 0) == 0
