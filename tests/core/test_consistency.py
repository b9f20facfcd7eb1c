"""Correct under DynamoDB's eventually consistent reads: the replica-lag fault (injected: DynamoDB
Local is always strongly consistent), and every rebuild path settled against the change log's
versions — patch, full Scan, resumed full Scan — against a real memcached and DynamoDB Local.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tatourney.cache import LeaderboardKeys
from tatourney.changelog import ChangeLog
from tatourney.leaderboard import Source
from tatourney.rebuild import SWEEP_ITEMS
from tatourney_local.faults import unprocessed_keys
from tatourney_local.services import Memcached, dynamodb_client, free_port
from tatourney_local.tables import TableNames
from tests.conftest import Reader
from tests.core.boards import (
    LAG_SECONDS,
    Tournament,
    a_minute_on,
    cache_for,
    many_players,
    players,
    put_many,
    replica_lag,
    source_of,
    wins_of,
)
from tests.support import FakeLambdaContext, LocalAws, load_handler


def one_page_a_request(tournament: Tournament, **settings: Any) -> tuple[Reader, Reader]:
    """Two readers of 35 players whose full Scan reads one page of 10 a request."""
    tournament.write_many(many_players(35))
    readers = (
        tournament.make_reader(lease_ttl_seconds=2, **settings),
        tournament.make_reader(lease_ttl_seconds=2, **settings),
    )
    for reader in readers:
        reader.leaderboard._rebuilder._scan_page_items = 10
        reader.leaderboard._rebuilder._scan_budget_seconds = 0
    return readers


def consistent_flags(reader: Reader) -> list[bool]:
    """ConsistentRead of each BatchGetItem the reader made."""
    return [
        bool(keys.get("ConsistentRead"))
        for operation, params in reader.requests
        if operation == "BatchGetItem"
        for keys in params["RequestItems"].values()
    ]


def test_injected_replica_lag_answers_eventual_reads_with_the_previous_version(
    aws: LocalAws, tables: TableNames
) -> None:
    aws.put_stats(tables.stats, [("Mark", 10, 1, 4000), ("Tia", 10, 7, 5000)])
    reader = dynamodb_client(aws.endpoint_url)
    key = {"player": {"S": "Mark"}}
    with replica_lag(aws, tables, seconds=LAG_SECONDS) as lag:
        lag.install(reader.meta.events)
        aws.put_stats(tables.stats, [("Mark", 11, 2, 4500), ("Zoe", 1, 1, 100)])
        aws.client.delete_item(TableName=tables.stats, Key={"player": {"S": "Tia"}})

        eventual = reader.get_item(TableName=tables.stats, Key=key)["Item"]
        strong = reader.get_item(TableName=tables.stats, Key=key, ConsistentRead=True)["Item"]
        scanned = {
            item["player"]["S"]: item["wins"]["N"]
            for item in reader.scan(TableName=tables.stats)["Items"]
        }
        lag.lag_seconds = 0  # the replica caught up
        caught_up = reader.get_item(TableName=tables.stats, Key=key)["Item"]
        lag.uninstall(reader.meta.events)

    assert eventual["wins"]["N"] == "1", "a replica behind answers the version before the write"
    assert strong["wins"]["N"] == "2", "a consistent read is answered as sent"
    assert scanned == {"Mark": "1", "Tia": "7"}, "the insert not yet there, the delete not yet"
    assert caught_up["wins"]["N"] == "2"


@pytest.mark.parametrize("settle", [True, False], ids=["settled", "settling-off"])
def test_with_injected_replica_lag_a_patch_serves_the_change_reading_it_again_consistently(
    tournament: Tournament, settle: bool
) -> None:
    """With settling off (the test switch), the fault puts the pre-change row back as current:
    what settling prevents."""
    reader = tournament.board_cached(settle=settle)
    with replica_lag(tournament.aws, tournament.tables, reader):
        tournament.play([("player-00042", 11, 10, 2000)])
        answer = reader.leaderboard.read()
        again = reader.leaderboard.read()

    assert source_of(answer) is Source.MISS
    assert source_of(again) is Source.HIT
    if not settle:
        assert wins_of(again, "player-00042") == 2, "the pre-change row, served as current"
        return
    assert wins_of(answer, "player-00042") == 10, "the change, not the replica's old row"
    assert wins_of(again, "player-00042") == 10
    assert reader.players_read == [{"player-00042"}, {"player-00042"}]
    assert consistent_flags(reader) == [False, True], "read again consistently, once"
    assert answer.trace.reads.behind == 1


@pytest.mark.parametrize("change", ["insert", "remove", "edit keeping games"])
def test_with_injected_replica_lag_joins_removals_and_edits_are_settled(
    tournament: Tournament, change: str
) -> None:
    reader = tournament.board_cached()
    with replica_lag(tournament.aws, tournament.tables, reader):
        if change == "insert":
            tournament.write([("Zoe", 1, 1, 100)])
            player = "Zoe"
        elif change == "remove":
            player = "player-00003"
            tournament.remove(player)
        else:  # an admin fix of the wins: games stays as it was
            player = "player-00042"
            tournament.write([(player, 10, 9, 1042)])
        tournament.invalidate([player])
        answer = reader.leaderboard.read()

    shown = {p["player"]: p for p in players(answer)}
    if change == "insert":
        assert shown["Zoe"]["wins"] == 1
    elif change == "remove":
        assert player not in shown
    else:
        assert shown[player]["wins"] == 9
    assert consistent_flags(reader) == [False, True]


def test_with_injected_replica_lag_a_full_scan_settles_against_the_log(
    tournament: Tournament,
) -> None:
    tournament.write_many(many_players(50))
    # The log is old enough to vouch for what it holds.
    reader = tournament.make_reader(clock=a_minute_on)
    with replica_lag(tournament.aws, tournament.tables, reader):
        tournament.play([("player-00042", 11, 10, 2000)])
        answer = reader.leaderboard.read()  # no board yet: a full Scan, behind for the change

    assert source_of(answer) is Source.MISS
    assert [scan.get("ExclusiveStartKey") for scan in reader.scans] == [None]
    assert [scan["ConsistentRead"] for scan in reader.scans] == [False]
    assert wins_of(answer, "player-00042") == 10
    assert reader.players_read == [{"player-00042"}]
    assert consistent_flags(reader) == [True]


def test_with_injected_replica_lag_a_full_scan_against_a_log_created_anew_reads_consistently(
    tournament: Tournament,
) -> None:
    """The log lost (evicted, or with its node) right after a change was processed: the new log
    does not name the change, so only a consistent Scan can be sure to see it."""
    tournament.write_many(many_players(50))
    reader = tournament.make_reader()
    with replica_lag(tournament.aws, tournament.tables, reader):
        tournament.play([("player-00042", 11, 10, 2000)])
        tournament.cache().delete(reader.leaderboard._keys.log)
        answer = reader.leaderboard.read()

    assert source_of(answer) is Source.MISS
    assert [scan["ConsistentRead"] for scan in reader.scans] == [True]
    assert wins_of(answer, "player-00042") == 10


def test_with_injected_replica_lag_a_resumed_full_scan_settles_against_the_log(
    tournament: Tournament,
) -> None:
    first, second = one_page_a_request(tournament, clock=a_minute_on)
    with replica_lag(tournament.aws, tournament.tables, first, second):
        first.leaderboard.read()  # page one, kept as progress
        tournament.play([("player-00001", 11, 10, 2000), ("player-00033", 11, 10, 9)])
        for reader in (second, first, second):
            answer = reader.leaderboard.read()

    assert source_of(answer) is Source.MISS
    assert wins_of(answer, "player-00001") == 10, "read on page one, before the change"
    assert wins_of(answer, "player-00033") == 10, "read after the change, by a replica behind"
    assert len(players(answer)) == 35


def test_a_full_scan_reads_the_players_changed_while_it_ran_again_at_its_end(
    tournament: Tournament,
) -> None:
    first, second = one_page_a_request(tournament)
    first.leaderboard.read()  # page one, kept as progress
    tournament.play([("player-00001", 11, 10, 2000)])  # on page one, now changed
    for reader in (second, first, second):
        answer = reader.leaderboard.read()

    assert wins_of(answer, "player-00001") == 10
    read_by_name = first.players_read + second.players_read
    assert read_by_name == [{"player-00001"}], "the change, read again once the Scan ended"
    assert consistent_flags(first) + consistent_flags(second) == [False], (
        "eventually consistent: the replica is not behind, settling had nothing to do"
    )


def test_a_full_scan_is_not_resumed_from_progress_of_a_log_created_again(
    tournament: Tournament,
) -> None:
    first, second = one_page_a_request(tournament)
    first.leaderboard.read()  # page one, kept as progress under the log's epoch
    # A change whose log entry was lost with the log (evicted): only a new Scan can see it.
    tournament.write([("player-00001", 11, 10, 2000)])
    tournament.cache().delete(first.leaderboard._keys.log)
    second.requests.clear()
    answers = [reader.leaderboard.read() for reader in (second, first, second, first)]

    assert second.scans[0].get("ExclusiveStartKey") is None, "started again from page one"
    assert wins_of(answers[-1], "player-00001") == 10


def test_injected_partial_batch_answers_are_asked_again_and_land(tournament: Tournament) -> None:
    reader = tournament.board_cached(count=500)  # four players: a patch
    changed = ["player-00042", "player-00043", "player-00044", "player-00045"]
    tournament.play([(name, 11, 10, 2000) for name in changed])
    calls = [0]

    def first_answer() -> bool:
        calls[0] += 1
        return calls[0] == 1

    with unprocessed_keys(reader.table_client, when=first_answer) as cut:
        answer = reader.leaderboard.read()

    assert cut == [2], "half the keys came back unprocessed"
    assert [wins_of(answer, name) for name in changed] == [10, 10, 10, 10]
    assert len(reader.players_read) == 2, "the unprocessed keys asked again"
    assert consistent_flags(reader) == [False, False], "asked again, not found behind"
    assert [scan.get("Limit") for scan in reader.scans] == [SWEEP_ITEMS]


def test_the_invalidate_function_logs_each_players_version_from_the_stream_records(
    lambda_env: dict[str, str], aws: LocalAws, tables: TableNames, memcached: Memcached
) -> None:
    aws.put_stats(tables.stats, [("Mark", 10, 1, 4000), ("Tia", 10, 7, 5000)])
    aws.put_stats(tables.stats, [("Mark", 11, 2, 4600)])  # the newest record of Mark wins
    aws.client.delete_item(TableName=tables.stats, Key={"player": {"S": "Tia"}})
    aws.client.put_item(  # an item that is not a stats row: the board leaves it out
        TableName=tables.stats,
        Item={"player": {"S": "Odd"}, "games": {"S": "many"}},
    )

    handler = load_handler("invalidate")
    assert handler.handler(aws.stream_event(tables.stats), FakeLambdaContext()) == {
        "batchItemFailures": []
    }

    keys = LeaderboardKeys.for_prefix(lambda_env["CACHE_KEY_PREFIX"])
    log = ChangeLog.decode(cache_for(memcached, lambda_env["CACHE_KEY_PREFIX"]).get(keys.log))
    assert log is not None
    assert log.versions() == {"Mark": (11, 2, 4600), "Tia": None, "Odd": None}


def test_with_injected_replica_lag_the_cache_down_fallback_reads_consistently(
    make_reader: Callable[..., Reader], aws: LocalAws, tables: TableNames
) -> None:
    """Without the cache there is no log to check against: the fallback's Scan is consistent."""
    put_many(aws, tables.stats, many_players(20))
    reader = make_reader(cache_endpoints=f"127.0.0.1:{free_port()}")  # nothing listens there
    with replica_lag(aws, tables, reader):
        aws.put_stats(tables.stats, [("player-00007", 11, 10, 2000)])
        answer = reader.leaderboard.read()

    assert source_of(answer) is Source.MISS
    assert answer.trace.cache_errors == 1
    assert wins_of(answer, "player-00007") == 10
    assert [scan.get("ConsistentRead") for scan in reader.scans] == [True]
