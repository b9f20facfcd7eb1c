"""The cache protocol's properties, against a real memcached and DynamoDB Local.

1-5: no stale set, no thundering herd, cache down is not site down, throttling is not an error
page, values that do not fit. Then the cost of a change: only the changed players are read,
joins and removals land, a lost log or board or invalidation still ends in the right board, and
a board kept in a container's memory is never served after the generation moved.
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Callable, Collection, Iterator
from typing import Any

import pytest

from tatourney.cache import DEAD_NODE_SECONDS, Cache, CacheUnavailable, LeaderboardKeys, home_node
from tatourney.changelog import ChangeLog, Position
from tatourney.config import CacheConfig
from tatourney.invalidation import CAS_ATTEMPTS, Invalidator
from tatourney.leaderboard import Served, Source, Unavailable
from tatourney.rebuild import FULL_SCAN_PAGE_ITEMS, SWEEP_ITEMS
from tatourney.table import Cursor, Players, ScanPage, StatsTable
from tatourney_local.faults import throttled
from tatourney_local.services import Memcached
from tatourney_local.tables import TableNames
from tests.conftest import Reader
from tests.core.boards import (
    TEN_PLAYERS,
    Tournament,
    cache_for,
    invalidator,
    many_players,
    players,
    put_many,
    source_of,
    wins_of,
)
from tests.support import LocalAws


def wait_until_lease_expired(tournament: Tournament) -> None:
    """Until the lease a throttled holder kept (LEASE_TTL_SECONDS) has expired."""
    lease = tournament.keys.lease
    cache = tournament.cache()
    deadline = time.monotonic() + 10
    while lease in cache.get_many([lease]):
        assert time.monotonic() < deadline, "the throttled holder's lease did not expire"
        time.sleep(0.05)


class ScanThenPause(StatsTable):
    """A stats table whose Scan pages, once read, run `meanwhile` before returning: a
    deterministic interleaving of a slow reader with a concurrent write and invalidation."""

    def __init__(self, inner: StatsTable, meanwhile: Callable[[], None]) -> None:
        self._inner = inner
        self._meanwhile = meanwhile

    def scan_page(
        self, start: Cursor | None, limit: int | None = None, consistent: bool = False
    ) -> ScanPage:
        page = self._inner.scan_page(start, limit, consistent)
        self._meanwhile()
        return page

    def get_players(self, players: Collection[str], consistent: bool = False) -> Players:
        return self._inner.get_players(players, consistent)


# 1. No stale set ------------------------------------------------------------------------------


@pytest.mark.localstack
@pytest.mark.parametrize("counter", ["kept", "evicted", "created-again-below"])
def test_late_store_after_invalidation_is_never_served(
    tournament: Tournament, counter: str
) -> None:
    """`created-again-below`: the counter evicted and created again below the late board's tag
    (where a random start lands half the time): a hit test must ask for equality."""
    tournament.write(TEN_PLAYERS)
    slow, next_reader = tournament.make_reader(), tournament.make_reader()
    keys = tournament.keys

    def write_and_invalidate() -> None:
        # Mark gets 9 more wins after the slow reader scanned, and the stream's invalidation
        # runs before the slow reader stores what it read.
        tournament.write([("Mark", 19, 10, 9000)])
        node = tournament.cache()
        tag = int(node.get(keys.generation) or 0)  # what the slow reader read before its Scan
        if counter != "kept":
            node.delete(keys.generation)
        if counter == "created-again-below":
            assert node.add(keys.generation, b"%d" % (tag - 2), 0)
        tournament.invalidate(["Mark"])

    slow.leaderboard._rebuilder._table = ScanThenPause(
        slow.leaderboard._table, write_and_invalidate
    )
    late = slow.leaderboard.read()
    assert source_of(late) is Source.MISS
    assert wins_of(late, "Mark") == 1, "the slow reader read before the write"

    after = next_reader.leaderboard.read()
    assert source_of(after) is Source.MISS, "the late store must not count as current"
    assert wins_of(after, "Mark") == 10
    assert players(after)[0]["player"] == "Mark"
    again = next_reader.leaderboard.read()
    assert source_of(again) is Source.HIT
    assert wins_of(again, "Mark") == 10


# 2. No thundering herd ------------------------------------------------------------------------


def read_at_once(readers: list[Reader]) -> list[object]:
    """Each reader's answer to one read, all started together on threads."""
    start = threading.Barrier(len(readers))
    answers: list[object] = [None] * len(readers)

    def read(index: int) -> None:
        start.wait(timeout=30)
        answers[index] = readers[index].leaderboard.read()

    threads = [threading.Thread(target=read, args=(i,)) for i in range(len(readers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


@pytest.mark.localstack
def test_fifty_concurrent_cold_readers_cause_one_scan(
    make_reader: Callable[..., Reader], aws: LocalAws, tables: TableNames
) -> None:
    aws.put_stats(tables.stats, TEN_PLAYERS)
    # The holder's lease outlasts its cold Scan beside 49 polling threads, however slow the machine.
    readers = [make_reader(lease_wait_seconds=10.0, lease_ttl_seconds=30) for _ in range(50)]
    answers = read_at_once(readers)

    assert sum(len(reader.scans) for reader in readers) == 1
    assert all(isinstance(answer, Served) for answer in answers)
    assert all(players(answer) == players(answers[0]) for answer in answers)
    sources = sorted(source_of(answer) for answer in answers)
    assert sources.count(Source.MISS) == 1
    assert sources.count(Source.HIT) == 49


@pytest.mark.localstack
def test_fifty_concurrent_readers_after_a_change_cause_one_rebuild(tournament: Tournament) -> None:
    tournament.write_many(many_players(200))
    readers = [
        tournament.make_reader(lease_wait_seconds=10.0, lease_ttl_seconds=30) for _ in range(50)
    ]
    assert source_of(readers[0].leaderboard.read()) is Source.MISS
    tournament.play([("player-00007", 11, 10, 2000)])

    answers = read_at_once(readers)

    assert sum(len(reader.players_read) for reader in readers) == 1, "one patch for all of them"
    assert sum(len(reader.scans) for reader in readers) == 1 + 1, "the first read and one sweep"
    sources = [source_of(answer) for answer in answers]
    assert sources.count(Source.MISS) == 1
    # Readers that waited longer than FRESH_WAIT_SECONDS for the holder had the last board,
    # flagged; every other answer is the new board.
    for answer in answers:
        expected = 7 if source_of(answer) is Source.STALE else 10
        assert wins_of(answer, "player-00007") == expected


@pytest.mark.localstack
def test_readers_outwaited_by_a_slow_lease_holder_answer_busy_instead_of_scanning(
    make_reader: Callable[..., Reader], aws: LocalAws, tables: TableNames
) -> None:
    aws.put_stats(tables.stats, TEN_PLAYERS)
    readers = [make_reader(lease_wait_seconds=0.2) for _ in range(20)]
    for reader in readers:  # whichever wins the lease holds it for a second after its scan
        reader.leaderboard._rebuilder._table = ScanThenPause(
            reader.leaderboard._table, lambda: time.sleep(1.0)
        )

    answers = read_at_once(readers)

    assert sum(len(reader.scans) for reader in readers) == 1
    served = [a for a in answers if isinstance(a, Served)]
    busy = [a for a in answers if isinstance(a, Unavailable)]
    assert [a.source for a in served].count(Source.MISS) == 1
    assert all(a.source is Source.HIT for a in served if a.source is not Source.MISS)
    assert len(served) + len(busy) == len(readers)
    assert busy, "the readers gave up waiting before the holder stored its board"
    retry_after = readers[0].leaderboard._config.retry_after_seconds
    assert all(a.retry_after_seconds == retry_after for a in busy)
    assert source_of(readers[0].leaderboard.read()) is Source.HIT


@pytest.mark.localstack
def test_readers_waiting_on_a_slow_rebuild_serve_the_last_board_as_stale(
    tournament: Tournament,
) -> None:
    tournament.write(TEN_PLAYERS)
    first, slow, waiting = (
        tournament.make_reader(),
        tournament.make_reader(),
        tournament.make_reader(lease_wait_seconds=5.0),
    )
    assert source_of(first.leaderboard.read()) is Source.MISS
    tournament.play([("Mark", 19, 10, 9000)])
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        holding.set()
        assert release.wait(timeout=30), "the waiting reader never answered"

    slow.leaderboard._rebuilder._table = ScanThenPause(slow.leaderboard._table, hold)
    rebuilding = threading.Thread(target=slow.leaderboard.read)
    rebuilding.start()
    assert holding.wait(timeout=30), "the slow reader took the lease and read the table"

    answer = waiting.leaderboard.read()
    release.set()
    rebuilding.join(timeout=30)

    assert source_of(answer) is Source.STALE
    assert wins_of(answer, "Mark") == 1, "the last board, flagged: not the new one, not a 503"
    assert waiting.requests == [], "it did not read the table beside the holder"
    assert wins_of(waiting.leaderboard.read(), "Mark") == 10


@pytest.mark.localstack
def test_lease_of_a_holder_that_died_is_taken_over_when_it_expires(tournament: Tournament) -> None:
    tournament.write(TEN_PLAYERS)
    keys = tournament.keys
    cache = tournament.cache()
    reader = tournament.make_reader(lease_wait_seconds=10.0)
    # It never stores, never releases; memcached's whole-second clock makes it last 1 to 2 s.
    assert cache.add(keys.lease, b"holder that died", 2)

    answer = reader.leaderboard.read()

    assert source_of(answer) is Source.MISS
    assert len(reader.scans) == 1
    assert answer.trace.lease_takeovers == 1
    assert keys.lease not in cache.get_many([keys.lease]), "the new holder released its lease"


class AddAfter(Cache):
    """A cache whose first `add` runs `meanwhile` before it: another reader stores the board
    between this reader's miss and its `add`."""

    def __init__(self, inner: Cache, meanwhile: Callable[[], None]) -> None:
        super().__init__(inner._client, inner.endpoint, inner._set_aside_seconds)
        self._meanwhile: Callable[[], None] | None = meanwhile

    def add(self, key: str, value: bytes, expire: int) -> bool:
        if self._meanwhile is not None:
            meanwhile, self._meanwhile = self._meanwhile, None
            meanwhile()
        return super().add(key, value, expire)


@pytest.mark.localstack
@pytest.mark.parametrize("lease_released", [True, False], ids=["lease-released", "lease-held"])
def test_reader_that_missed_just_before_the_board_was_stored_serves_it(
    tournament: Tournament, lease_released: bool
) -> None:
    tournament.write(TEN_PLAYERS)
    late, other = tournament.make_reader(), tournament.make_reader()
    lease = tournament.keys.lease
    cache = tournament.cache()
    other_answers: list[object] = []

    def other_reader_stores_the_board() -> None:
        other_answers.append(other.leaderboard.read())
        if not lease_released:  # as if the holder had stored but not yet released its lease
            assert cache.add(lease, b"holder releasing", 5)

    late.leaderboard._cache = AddAfter(late.leaderboard._cache, other_reader_stores_the_board)
    answer = late.leaderboard.read()

    assert [source_of(a) for a in other_answers] == [Source.MISS]
    assert source_of(answer) is Source.HIT, "the stored board is current: neither STALE nor a scan"
    assert late.requests == []


# 3. Cache down is not site down ---------------------------------------------------------------


@pytest.fixture
def own_memcached() -> Iterator[Memcached]:
    """A memcached this test may stop (the session's one stays up for the others)."""
    server = Memcached.start()
    yield server
    server.stop()


def test_memcached_stopped_mid_test_every_request_answered_from_table(
    make_reader: Callable[..., Reader], aws: LocalAws, tables: TableNames, own_memcached: Memcached
) -> None:
    aws.put_stats(tables.stats, TEN_PLAYERS)
    reader = make_reader(cache_endpoints=own_memcached.endpoint)
    assert source_of(reader.leaderboard.read()) is Source.MISS
    assert source_of(reader.leaderboard.read()) is Source.HIT

    own_memcached.stop()
    aws.put_stats(tables.stats, [("Mark", 19, 10, 9000)])
    answers = reader.reads_from_the_table(20)

    assert all(wins_of(a, "Mark") == 10 for a in answers), "answered from the table, not memory"
    assert len(reader.scans) == 1 + 20


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A real TCP listener on loopback that speaks no memcached."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        yield server


@pytest.fixture
def silent_cache_port(listener: socket.socket) -> int:
    """Accepts connections and never answers: a hung memcached."""
    return int(listener.getsockname()[1])


def test_hung_memcached_costs_one_timeout_then_table_answers(
    make_reader: Callable[..., Reader], aws: LocalAws, tables: TableNames, silent_cache_port: int
) -> None:
    aws.put_stats(tables.stats, TEN_PLAYERS)
    reader = make_reader(cache_endpoints=f"127.0.0.1:{silent_cache_port}")
    client = CountingClient(reader.leaderboard._cache._client)
    reader.leaderboard._cache._client = client
    reader.leaderboard._cache._set_aside_seconds = 60  # longer than the five reads, however slow
    answers = [reader.leaderboard.read() for _ in range(5)]
    assert all(len(players(answer)) == 10 for answer in answers)
    assert [a.trace.cache_errors for a in answers] == [1] * 5
    # One call waited out CACHE_TIMEOUT_MS; the node was then set aside, so the other four
    # requests went to the table without asking it again.
    assert len(client.names) == 1


class CountingClient:
    """A memcached client that counts the calls made through it."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.names: list[str] = []  # the operations called, in order

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._inner, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self.names.append(name)
            return method(*args, **kwargs)

        return call


@pytest.fixture
def dying_cache_port(listener: socket.socket) -> Iterator[int]:
    """Accepts and closes at once: a socket that dies mid-call."""
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(timeout=5)


def test_socket_dying_mid_call_is_a_cache_miss_not_an_error(
    make_reader: Callable[..., Reader], aws: LocalAws, tables: TableNames, dying_cache_port: int
) -> None:
    aws.put_stats(tables.stats, TEN_PLAYERS)
    reader = make_reader(cache_endpoints=f"127.0.0.1:{dying_cache_port}")
    reader.reads_from_the_table(3)


def test_cache_is_used_again_once_memcached_is_back(
    make_reader: Callable[..., Reader], aws: LocalAws, tables: TableNames, own_memcached: Memcached
) -> None:
    aws.put_stats(tables.stats, TEN_PLAYERS)
    reader = make_reader(cache_endpoints=own_memcached.endpoint)
    reader.leaderboard.read()
    own_memcached.stop()
    assert source_of(reader.leaderboard.read()) is Source.MISS

    restarted = Memcached.start(port=own_memcached.port)
    try:
        cache = reader.leaderboard._cache
        deadline = time.monotonic() + 2 * DEAD_NODE_SECONDS
        while cache._set_aside_until > time.monotonic():  # the node is set aside, then retried
            assert time.monotonic() < deadline, "the node stayed set aside"
            time.sleep(0.05)
        assert source_of(reader.leaderboard.read()) is Source.MISS
        assert source_of(reader.leaderboard.read()) is Source.HIT
    finally:
        restarted.stop()


# 4. Throttling is not an error page ------------------------------------------------------------


@pytest.mark.localstack
@pytest.mark.parametrize("operation", ["Scan", "BatchGetItem"], ids=["full-scan", "patch"])
def test_throttled_table_serves_the_last_board_flagged(
    tournament: Tournament, operation: str
) -> None:
    # 10 players: a Scan is cheaper than a patch; 200: a patch of one player is.
    fillers = [(f"filler-{n:03}", 10, 0, 100) for n in range(190)]  # ranked below the ten
    rows = TEN_PLAYERS if operation == "Scan" else [*TEN_PLAYERS, *fillers]
    tournament.write(rows)
    reader = tournament.make_reader()
    assert players(reader.leaderboard.read())[0]["player"] == "Tia"
    tournament.play([("Mark", 19, 10, 9000)])

    with throttled(reader.table_client, operation) as attempts:
        answer = reader.leaderboard.read()

    assert source_of(answer) is Source.STALE
    assert players(answer)[0]["player"] == "Tia", "the last good board"
    assert len(attempts) == 3, "the SDK retried, a bounded number of times (TABLE_MAX_ATTEMPTS)"


@pytest.mark.localstack
def test_throttled_table_with_nothing_cached_says_when_to_retry_and_is_not_asked_again_at_once(
    tournament: Tournament,
) -> None:
    tournament.write(TEN_PLAYERS)
    reader = tournament.make_reader(
        retry_after_seconds=7, table_max_attempts=2, lease_ttl_seconds=3
    )  # the lease lasts 2 to 3 s (memcached's whole-second clock): far longer than the next read
    other = tournament.make_reader(lease_wait_seconds=5.0)
    with throttled(reader.table_client) as attempts:
        answer = reader.leaderboard.read()
    assert isinstance(answer, Unavailable)
    assert answer.retry_after_seconds == 7
    assert "ProvisionedThroughputExceededException" in answer.reason
    assert len(attempts) == 2

    # The throttled holder kept its lease (LEASE_TTL_SECONDS): another reader does not ask the
    # table again at once, and says busy at once instead of waiting LEASE_WAIT_MS.
    busy = other.leaderboard.read()
    assert isinstance(busy, Unavailable)
    assert other.requests == []
    assert busy.trace.lease_waits == 1

    wait_until_lease_expired(tournament)
    assert source_of(other.leaderboard.read()) is Source.MISS  # the table answers again


def test_throttled_table_and_cache_down_gives_503_not_an_exception(
    make_reader: Callable[..., Reader], aws: LocalAws, tables: TableNames, own_memcached: Memcached
) -> None:
    aws.put_stats(tables.stats, TEN_PLAYERS)
    reader = make_reader(cache_endpoints=own_memcached.endpoint)
    own_memcached.stop()
    with throttled(reader.table_client):
        assert isinstance(reader.leaderboard.read(), Unavailable)


def test_throttled_table_and_cache_down_serves_this_containers_last_board_flagged(
    make_reader: Callable[..., Reader], aws: LocalAws, tables: TableNames, own_memcached: Memcached
) -> None:
    aws.put_stats(tables.stats, TEN_PLAYERS)
    reader = make_reader(cache_endpoints=own_memcached.endpoint)
    assert source_of(reader.leaderboard.read()) is Source.MISS
    own_memcached.stop()
    with throttled(reader.table_client):
        answer = reader.leaderboard.read()
    assert source_of(answer) is Source.STALE
    assert len(players(answer)) == 10


# 5. Values that do not fit --------------------------------------------------------------------


def put_random_players(aws: LocalAws, table: str, count: int, name_bytes: int) -> None:
    """`count` players with random (incompressible) names of `name_bytes` hex characters."""
    put_many(
        aws,
        table,
        [(secrets.token_hex(name_bytes // 2), 3, n % 3, 1500) for n in range(count)],
    )


@pytest.fixture
def small_item_memcached() -> Iterator[Memcached]:
    """memcached with a 64 KiB item limit, so a board of a few thousand players exceeds it."""
    server = Memcached.start(item_size_bytes=64 * 1024)
    yield server
    server.stop()


@pytest.fixture
def small_item_readers(
    make_reader: Callable[..., Reader], small_item_memcached: Memcached
) -> Callable[[int], list[Reader]]:
    """Two containers on that memcached, configured with an item limit of `limit_bytes`. Their
    full Scan has 30 s (half the lease): read whole, however slow the machine."""

    def build(limit_bytes: int) -> list[Reader]:
        return [
            make_reader(
                cache_endpoints=small_item_memcached.endpoint,
                cache_item_limit_bytes=limit_bytes,
                lease_ttl_seconds=60,
            )
            for _ in range(2)
        ]

    return build


def test_board_that_fits_only_compressed_is_cached_compressed(
    aws: LocalAws,
    tables: TableNames,
    small_item_readers: Callable[[int], list[Reader]],
) -> None:
    put_random_players(aws, tables.stats, 1500, name_bytes=8)  # ~140 KB as JSON
    readers = small_item_readers(65536)
    first = readers[0].leaderboard.read()
    assert len(players(first)) == 1500
    assert len(first.board.page(0, 1500).text) > 64 * 1024  # type: ignore[union-attr]
    second = readers[1].leaderboard.read()  # another container: from memcached
    assert source_of(second) is Source.HIT
    assert players(second) == players(first)


def test_board_too_large_even_compressed_is_skipped_and_still_served(
    aws: LocalAws,
    tables: TableNames,
    small_item_readers: Callable[[int], list[Reader]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    put_random_players(aws, tables.stats, 3000, name_bytes=40)  # random names: zlib cannot help
    # The board is stored in chunks (about 23 players each here): an item limit this small is
    # what makes one too large.
    readers = small_item_readers(1024)
    answers = [reader.reads_from_the_table(1)[0] for reader in readers]
    assert all(len(players(a)) == 3000 for a in answers)
    assert "board too large to cache, skipped" in caplog.text


def test_memcached_refusing_a_value_its_limit_is_smaller_than_configured_still_serves(
    aws: LocalAws,
    tables: TableNames,
    small_item_readers: Callable[[int], list[Reader]],
) -> None:
    put_random_players(aws, tables.stats, 3000, name_bytes=40)
    # Misconfigured: the function believes in 1 MiB items, the server allows 64 KiB.
    readers = small_item_readers(1 << 20)
    answers = [reader.leaderboard.read() for reader in readers]
    assert all(len(players(a)) == 3000 for a in answers)


# The cost of a change: only what changed is read ----------------------------------------------


@pytest.mark.localstack
def test_a_change_to_one_player_reads_that_player_and_one_sweep_page(
    tournament: Tournament,
) -> None:
    reader = tournament.board_cached()
    tournament.play([("player-00042", 11, 10, 2000)])

    answer = reader.leaderboard.read()

    assert source_of(answer) is Source.MISS
    assert reader.players_read == [{"player-00042"}], "only the changed player was read"
    assert [scan.get("Limit") for scan in reader.scans] == [SWEEP_ITEMS], "and one sweep page"
    assert players(answer)[0] == {
        "rank": 1,
        "player": "player-00042",
        "games": 11,
        "wins": 10,
        "avg_score": 181.8,
        "win_percent": 90.9,
    }
    assert len(players(answer)) == 200
    # Consumed capacity as DynamoDB Local reports it: one small item and one small page.
    assert answer.trace.reads.read_units <= 1.0


@pytest.mark.localstack
def test_joins_and_removals_end_in_the_right_board(tournament: Tournament) -> None:
    reader = tournament.board_cached()
    tournament.play([("Zoe", 1, 1, 100)], removed=("player-00003",))

    answer = reader.leaderboard.read()

    names = [p["player"] for p in players(answer)]
    assert "Zoe" in names
    assert "player-00003" not in names
    assert len(names) == 200
    assert reader.players_read == [{"Zoe", "player-00003"}]


@pytest.mark.localstack
@pytest.mark.parametrize("lost", ["log", "board", "both"])
def test_a_lost_log_or_board_ends_in_a_full_scan_and_the_right_board(
    tournament: Tournament, lost: str
) -> None:
    reader = tournament.board_cached()
    keys = tournament.keys
    cache = tournament.cache()
    tournament.play([("player-00042", 11, 10, 2000)])
    for key in {"log": [keys.log], "board": [keys.board], "both": [keys.log, keys.board]}[lost]:
        cache.delete(key)  # evicted, or lost with a node that restarted

    answer = reader.leaderboard.read()

    assert source_of(answer) is Source.MISS
    assert reader.players_read == [], "the log cannot tell what changed: no patch"
    assert [scan.get("Limit") for scan in reader.scans] == [FULL_SCAN_PAGE_ITEMS], "a full Scan"
    assert players(answer)[0]["player"] == "player-00042"
    assert len(players(answer)) == 200


@pytest.mark.localstack
def test_a_change_whose_invalidation_was_lost_is_found_by_the_sweep(tournament: Tournament) -> None:
    count = 200  # a patch of one player costs less than a Scan of them all
    reader = tournament.board_cached(count)
    tournament.write([("player-00017", 11, 10, 2000)])  # its invalidation is lost
    sweeps = 0
    while wins_of(reader.leaderboard.read(), "player-00017") != 10:
        sweeps += 1
        assert sweeps <= count // SWEEP_ITEMS + 1, "a whole sweep went by without finding it"
        tournament.play([("player-00001", 10 + sweeps, 1, 1001)])  # other changes
    assert sweeps >= 1, "found by a later rebuild, not the first read"


@pytest.mark.localstack
def test_with_no_change_a_board_older_than_cache_ttl_is_rebuilt_by_one_holder(
    make_reader: Callable[..., Reader], aws: LocalAws, tables: TableNames
) -> None:
    now = [1_000_000.0]
    put_many(aws, tables.stats, many_players(200))
    reader = make_reader(clock=lambda: now[0], cache_ttl_seconds=300)
    other = make_reader(clock=lambda: now[0], cache_ttl_seconds=300)
    assert source_of(reader.leaderboard.read()) is Source.MISS
    assert source_of(other.leaderboard.read()) is Source.HIT
    reader.requests.clear()
    aws.put_stats(tables.stats, [("player-00017", 11, 10, 2000)])  # its invalidation is lost

    now[0] += 299
    assert source_of(reader.leaderboard.read()) is Source.HIT
    assert reader.requests == []
    now[0] += 2
    rebuilt = reader.leaderboard.read()
    assert source_of(rebuilt) is Source.MISS
    assert reader.players_read == [], "nothing in the log"
    assert [scan.get("Limit") for scan in reader.scans] == [SWEEP_ITEMS], "one sweep page"
    assert source_of(other.leaderboard.read()) is Source.HIT, "the rebuilt board is current"


@pytest.mark.localstack
def test_a_board_kept_in_memory_is_never_served_after_the_generation_moved(
    tournament: Tournament,
) -> None:
    tournament.write_many(many_players(200))
    reader = tournament.make_reader(lease_ttl_seconds=2)
    assert source_of(reader.leaderboard.read()) is Source.MISS
    reader.requests.clear()
    assert source_of(reader.leaderboard.read()) is Source.HIT
    assert reader.requests == [], "the hit came from memory and memcached"
    tournament.play([("player-00042", 11, 10, 2000)])

    with throttled(reader.table_client, "BatchGetItem"):
        during = reader.leaderboard.read()
    wait_until_lease_expired(tournament)
    after = reader.leaderboard.read()

    assert source_of(during) is Source.STALE, "the memory board, flagged, while unreadable"
    assert source_of(after) is Source.MISS
    assert wins_of(after, "player-00042") == 10


@pytest.mark.localstack
def test_a_hit_from_memory_is_one_small_get(tournament: Tournament) -> None:
    reader = tournament.board_cached()
    client = CountingClient(reader.leaderboard._cache._client)
    reader.leaderboard._cache._client = client

    for _ in range(3):
        assert source_of(reader.leaderboard.read()) is Source.HIT
    assert client.names == ["get"] * 3


@pytest.mark.localstack
def test_a_full_scan_cut_short_is_continued_by_the_next_request(
    make_reader: Callable[..., Reader], aws: LocalAws, tables: TableNames
) -> None:
    put_many(aws, tables.stats, many_players(35))
    readers = [make_reader(lease_ttl_seconds=2) for _ in range(6)]
    for reader in readers:
        reader.leaderboard._rebuilder._scan_page_items = 10
        reader.leaderboard._rebuilder._scan_budget_seconds = 0  # one page a request

    answers = [reader.leaderboard.read() for reader in readers]

    assert [type(a).__name__ for a in answers[:3]] == ["Unavailable"] * 3, "nothing to serve yet"
    assert source_of(answers[3]) is Source.MISS, "the fourth page completed the board"
    assert len(players(answers[3])) == 35
    assert source_of(answers[4]) is Source.HIT
    starts = [scan.get("ExclusiveStartKey") for reader in readers for scan in reader.scans]
    assert starts[0] is None
    assert all(start is not None for start in starts[1:]), "each page went on from the last"
    assert len(starts) == 4


@pytest.mark.localstack
def test_a_full_scan_interrupted_by_throttling_keeps_the_pages_it_read(
    tournament: Tournament,
) -> None:
    tournament.write_many(many_players(35))
    first, second = (
        tournament.make_reader(lease_ttl_seconds=2),
        tournament.make_reader(lease_ttl_seconds=2),
    )
    for reader in (first, second):
        reader.leaderboard._rebuilder._scan_page_items = 10
        reader.leaderboard._rebuilder._scan_budget_seconds = 60  # only throttling cuts it short
    pages = [0]

    def third_page_on() -> bool:
        pages[0] += 1
        return pages[0] >= 3

    with throttled(first.table_client, "Scan", when=third_page_on):
        assert isinstance(first.leaderboard.read(), Unavailable)
    wait_until_lease_expired(tournament)

    answer = second.leaderboard.read()

    assert source_of(answer) is Source.MISS
    assert len(players(answer)) == 35
    assert second.scans[0].get("ExclusiveStartKey") is not None, "went on from page 3"
    assert len(second.scans) == 2


# The change log under concurrent invalidations -------------------------------------------------


def test_concurrent_invalidations_delivered_again_when_they_fail_lose_no_log_entry(
    memcached: Memcached, key_prefix: str
) -> None:
    """However the threads are scheduled: an invalidation that loses every compare-and-set
    fails (test below), and is delivered again, as Lambda does with a batch item failure."""
    invalidators = [invalidator(memcached, key_prefix) for _ in range(8)]
    start = threading.Barrier(len(invalidators))

    def invalidate(index: int) -> None:
        start.wait(timeout=30)
        for batch in range(10):
            for _ in range(100):
                try:
                    invalidators[index].invalidate({f"player-{index}-{batch}": (batch, 0, 0)})
                    break
                except CacheUnavailable:
                    continue

    threads = [threading.Thread(target=invalidate, args=(i,)) for i in range(len(invalidators))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    keys = LeaderboardKeys.for_prefix(key_prefix)
    log = ChangeLog.decode(cache_for(memcached, key_prefix).get(keys.log))
    assert log is not None
    assert log.seq >= 80, "a failed batch may have left its entry before failing"
    expected = {f"player-{i}-{b}" for i in range(8) for b in range(10)}
    assert log.changed_since(Position(log.epoch, 0)) == frozenset(expected)


class CasAlwaysLost(Cache):
    """A node on which another invalidation always wins the compare-and-set (injected)."""

    def cas(self, key: str, value: bytes, token: bytes, expire: int) -> bool:
        return False


def test_injected_lost_compare_and_sets_fail_the_invalidation_before_the_bump(
    memcached: Memcached, key_prefix: str
) -> None:
    keys = LeaderboardKeys.for_prefix(key_prefix)
    node = cache_for(memcached, key_prefix)
    invalidator(memcached, key_prefix).invalidate({"Tia": (1, 1, 1)})  # the log exists
    generation = node.get(keys.generation)
    contended = Invalidator(
        [CasAlwaysLost(node._client, node.endpoint)], LeaderboardKeys.for_prefix(key_prefix)
    )

    with pytest.raises(CacheUnavailable, match=f"{CAS_ATTEMPTS} compare-and-set attempts"):
        contended.invalidate({"Mark": (2, 2, 2)})
    assert node.get(keys.generation) == generation, "not bumped: the handler reports a failure"


# Rules of the protocol, each guarded -----------------------------------------------------------


def test_every_container_agrees_on_the_home_whatever_the_order_of_its_node_list() -> None:
    nodes = [(f"10.0.0.{n}", 11211) for n in range(1, 6)]
    orders = [nodes, nodes[::-1], nodes[2:] + nodes[:2]]
    homes = [[home_node(tuple(order), f"prefix-{n}") for n in range(40)] for order in orders]
    assert homes[0] == homes[1] == homes[2]
    assert len(set(homes[0])) > 1, "prefixes spread over the nodes"
    caches = Cache.connect_all(
        CacheConfig(endpoints=tuple(nodes), key_prefix="prefix-0", timeout_seconds=1, tls=False),
        set_aside_seconds=0,
    )
    assert caches[0].endpoint == homes[0][0], "the invalidation reaches the home first"
    assert sorted(cache.endpoint for cache in caches) == sorted(nodes)


@pytest.mark.localstack
def test_a_counter_created_again_by_a_reader_never_matches_an_old_boards_tag(
    tournament: Tournament,
) -> None:
    tournament.write(TEN_PLAYERS)
    first, second = tournament.make_reader(), tournament.make_reader()
    assert source_of(first.leaderboard.read()) is Source.MISS  # first creates the counter
    tournament.play([("Mark", 19, 10, 9000)])
    tournament.cache().delete(tournament.keys.generation)

    answer = second.leaderboard.read()  # second creates it again

    assert source_of(answer) is Source.MISS, "the old board's tag is not the new counter"
    assert wins_of(answer, "Mark") == 10


@pytest.mark.localstack
def test_a_stale_answer_serves_the_newer_of_the_cached_board_and_the_containers_own(
    tournament: Tournament,
) -> None:
    behind = tournament.board_cached()  # keeps the first board in memory
    ahead = tournament.make_reader()
    tournament.play([("player-00042", 11, 10, 2000)])
    assert wins_of(ahead.leaderboard.read(), "player-00042") == 10  # the newer board, cached
    tournament.play([("player-00043", 11, 10, 2000)])

    with throttled(behind.table_client, "BatchGetItem"):
        answer = behind.leaderboard.read()

    assert source_of(answer) is Source.STALE
    assert wins_of(answer, "player-00042") == 10, "the cached board, newer than its own"
