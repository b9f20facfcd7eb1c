"""The five properties of the cache protocol, against a real memcached and DynamoDB Local."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from tatourney.cache import DEAD_NODE_SECONDS, Cache, LeaderboardKeys
from tatourney.config import CacheConfig
from tatourney.invalidation import Invalidator
from tatourney.leaderboard import Served, Source, Unavailable
from tatourney.table import ScanResult, StatsTable
from tatourney_local.faults import throttled
from tatourney_local.services import Memcached
from tatourney_local.tables import TableNames
from tests.conftest import Reader
from tests.support import LocalAws

TEN_PLAYERS = [
    ("Tia", 10, 7, 5000),
    ("Julie", 10, 6, 4800),
    ("Kelby", 10, 5, 4700),
    ("Craig", 10, 5, 4600),
    ("Mike", 10, 4, 4500),
    ("Rich", 10, 4, 4400),
    ("Miles", 10, 3, 4300),
    ("John", 10, 3, 4200),
    ("Moosa", 10, 2, 4100),
    ("Mark", 10, 1, 4000),
]


def players(answer: object) -> list[dict[str, object]]:
    assert isinstance(answer, Served), answer
    parsed: list[dict[str, object]] = json.loads(answer.board.players_json)
    return parsed


def wins_of(answer: object, player: str) -> object:
    return next(p["wins"] for p in players(answer) if p["player"] == player)


def invalidator(memcached: Memcached, key_prefix: str) -> Invalidator:
    config = CacheConfig(
        endpoints=(("127.0.0.1", memcached.port),),
        key_prefix=key_prefix,
        timeout_seconds=1,
        tls=False,
    )
    return Invalidator(Cache.connect(config), LeaderboardKeys.for_prefix(key_prefix))


class ScanThenPause(StatsTable):
    """A stats table whose scan, once it has read, runs `meanwhile` before returning its result:
    a deterministic interleaving of a slow reader with a concurrent write and invalidation."""

    def __init__(self, inner: StatsTable, meanwhile: Callable[[], None]) -> None:
        self._inner = inner
        self._meanwhile = meanwhile

    def scan(self) -> ScanResult:
        result = self._inner.scan()
        self._meanwhile()
        return result


# 1. No stale set ------------------------------------------------------------------------------


@pytest.mark.localstack
@pytest.mark.parametrize("counter_evicted", [False, True], ids=["counter-kept", "counter-evicted"])
def test_late_store_after_invalidation_is_never_served(
    make_reader: Callable[..., Reader],
    aws: LocalAws,
    tables: TableNames,
    memcached: Memcached,
    key_prefix: str,
    counter_evicted: bool,
) -> None:
    aws.put_stats(tables.stats, TEN_PLAYERS)
    slow, next_reader = make_reader(), make_reader()
    keys = LeaderboardKeys.for_prefix(key_prefix)
    cache = invalidator(memcached, key_prefix)

    def write_and_invalidate() -> None:
        # Mark gets 9 more wins after the slow reader scanned, and the stream's invalidation
        # runs before the slow reader stores what it read.
        aws.put_stats(tables.stats, [("Mark", 19, 10, 9000)])
        if counter_evicted:
            cache._cache.delete(keys.generation)
        cache.invalidate()

    slow.leaderboard._table = ScanThenPause(slow.leaderboard._table, write_and_invalidate)
    late = slow.leaderboard.read()
    assert isinstance(late, Served)
    assert late.source is Source.MISS
    assert wins_of(late, "Mark") == 1, "the slow reader read before the write"

    after = next_reader.leaderboard.read()
    assert isinstance(after, Served)
    assert after.source is Source.MISS, "the late store must not count as current"
    assert wins_of(after, "Mark") == 10
    assert players(after)[0]["player"] == "Mark"
    again = next_reader.leaderboard.read()
    assert isinstance(again, Served)
    assert again.source is Source.HIT
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
    readers = [make_reader(lease_wait_seconds=10.0) for _ in range(50)]
    answers = read_at_once(readers)

    assert sum(len(reader.scans) for reader in readers) == 1
    assert all(isinstance(answer, Served) for answer in answers)
    assert all(players(answer) == players(answers[0]) for answer in answers)
    sources = sorted(answer.source for answer in answers if isinstance(answer, Served))
    assert sources.count(Source.MISS) == 1
    assert sources.count(Source.HIT) == 49


@pytest.mark.localstack
def test_readers_outwaited_by_a_slow_lease_holder_answer_busy_instead_of_scanning(
    make_reader: Callable[..., Reader], aws: LocalAws, tables: TableNames
) -> None:
    aws.put_stats(tables.stats, TEN_PLAYERS)
    readers = [make_reader(lease_wait_seconds=0.2) for _ in range(20)]
    for reader in readers:  # whichever wins the lease holds it for a second after its scan
        reader.leaderboard._table = ScanThenPause(
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
    assert readers[0].leaderboard.read().source is Source.HIT  # type: ignore[union-attr]


@pytest.mark.localstack
def test_lease_of_a_holder_that_died_is_taken_over_when_it_expires(
    make_reader: Callable[..., Reader],
    aws: LocalAws,
    tables: TableNames,
    memcached: Memcached,
    key_prefix: str,
) -> None:
    aws.put_stats(tables.stats, TEN_PLAYERS)
    keys = LeaderboardKeys.for_prefix(key_prefix)
    cache = invalidator(memcached, key_prefix)._cache
    assert cache.add(keys.lease, b"holder that died", 1)  # it never stores, never releases
    reader = make_reader(lease_wait_seconds=5.0)

    answer = reader.leaderboard.read()

    assert isinstance(answer, Served)
    assert answer.source is Source.MISS
    assert len(reader.scans) == 1
    assert keys.lease not in cache.get_many([keys.lease]), "the new holder released its lease"


class AddAfter(Cache):
    """A cache whose first `add` runs `meanwhile` before it: another reader stores the board
    between this reader's miss and its `add`."""

    def __init__(self, inner: Cache, meanwhile: Callable[[], None]) -> None:
        super().__init__(inner._client)
        self._meanwhile: Callable[[], None] | None = meanwhile

    def add(self, key: str, value: bytes, expire: int) -> bool:
        if self._meanwhile is not None:
            meanwhile, self._meanwhile = self._meanwhile, None
            meanwhile()
        return super().add(key, value, expire)


@pytest.mark.localstack
@pytest.mark.parametrize("lease_released", [True, False], ids=["lease-released", "lease-held"])
def test_reader_that_missed_just_before_the_board_was_stored_serves_it(
    make_reader: Callable[..., Reader],
    aws: LocalAws,
    tables: TableNames,
    memcached: Memcached,
    key_prefix: str,
    lease_released: bool,
) -> None:
    aws.put_stats(tables.stats, TEN_PLAYERS)
    late, other = make_reader(), make_reader()
    lease = LeaderboardKeys.for_prefix(key_prefix).lease
    cache = invalidator(memcached, key_prefix)._cache
    other_answers: list[object] = []

    def other_reader_stores_the_board() -> None:
        other_answers.append(other.leaderboard.read())
        if not lease_released:  # as if the holder had stored but not yet released its lease
            assert cache.add(lease, b"holder releasing", 5)

    late.leaderboard._cache = AddAfter(late.leaderboard._cache, other_reader_stores_the_board)
    answer = late.leaderboard.read()

    assert [a.source for a in other_answers] == [Source.MISS]  # type: ignore[attr-defined]
    assert isinstance(answer, Served)
    assert answer.source is Source.HIT, "the stored board is current: neither STALE nor a scan"
    assert len(late.scans) == 0


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
    assert reader.leaderboard.read().source is Source.MISS  # type: ignore[union-attr]
    assert reader.leaderboard.read().source is Source.HIT  # type: ignore[union-attr]

    own_memcached.stop()
    aws.put_stats(tables.stats, [("Mark", 19, 10, 9000)])
    started = time.monotonic()
    answers = reader.reads_from_the_table(20)
    elapsed = time.monotonic() - started

    assert all(wins_of(a, "Mark") == 10 for a in answers), "answered from the table, not a cache"
    assert len(reader.scans) == 1 + 20
    assert elapsed < 20, f"20 requests with the cache down took {elapsed:.1f}s"


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
    timings = []
    for _ in range(5):
        started = time.monotonic()
        answer = reader.leaderboard.read()
        timings.append(time.monotonic() - started)
        assert isinstance(answer, Served)
        assert len(players(answer)) == 10
    # The first request waits out CACHE_TIMEOUT_MS (250 ms) once; the node is then set aside.
    assert timings[0] >= 0.2
    assert sum(timings) < 10


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


# 4. Throttling is not an error page ------------------------------------------------------------


@pytest.mark.localstack
def test_throttled_table_serves_stale_copy_flagged(
    make_reader: Callable[..., Reader],
    aws: LocalAws,
    tables: TableNames,
    memcached: Memcached,
    key_prefix: str,
) -> None:
    aws.put_stats(tables.stats, TEN_PLAYERS)
    reader = make_reader()
    assert players(reader.leaderboard.read())[0]["player"] == "Tia"
    aws.put_stats(tables.stats, [("Mark", 19, 10, 9000)])
    invalidator(memcached, key_prefix).invalidate()

    with throttled(reader.table_client) as attempts:
        answer = reader.leaderboard.read()

    assert isinstance(answer, Served)
    assert answer.source is Source.STALE
    assert players(answer)[0]["player"] == "Tia", "the last good board"
    assert len(attempts) == 3, "the SDK retried, a bounded number of times (TABLE_MAX_ATTEMPTS)"


@pytest.mark.localstack
def test_throttled_table_with_nothing_cached_says_when_to_retry(
    make_reader: Callable[..., Reader], aws: LocalAws, tables: TableNames
) -> None:
    aws.put_stats(tables.stats, TEN_PLAYERS)
    reader = make_reader(retry_after_seconds=7, table_max_attempts=2)
    with throttled(reader.table_client) as attempts:
        answer = reader.leaderboard.read()
    assert isinstance(answer, Unavailable)
    assert answer.retry_after_seconds == 7
    assert "ProvisionedThroughputExceededException" in answer.reason
    assert len(attempts) == 2

    after = reader.leaderboard.read()  # the throttling ends: the next request is served
    assert isinstance(after, Served)
    assert after.source is Source.MISS


def test_throttled_table_and_cache_down_gives_503_not_an_exception(
    make_reader: Callable[..., Reader], aws: LocalAws, tables: TableNames, own_memcached: Memcached
) -> None:
    aws.put_stats(tables.stats, TEN_PLAYERS)
    reader = make_reader(cache_endpoints=own_memcached.endpoint)
    reader.leaderboard.read()
    own_memcached.stop()
    with throttled(reader.table_client):
        assert isinstance(reader.leaderboard.read(), Unavailable)


# 5. Values that do not fit --------------------------------------------------------------------


def put_many_players(aws: LocalAws, table: str, count: int, name_bytes: int) -> None:
    """`count` players with random (incompressible) names of `name_bytes` hex characters."""
    import secrets

    for start in range(0, count, 25):
        aws.client.batch_write_item(
            RequestItems={
                table: [
                    {
                        "PutRequest": {
                            "Item": {
                                "player": {"S": secrets.token_hex(name_bytes // 2)},
                                "games": {"N": "3"},
                                "wins": {"N": str(i % 3)},
                                "total_score": {"N": "1500"},
                            }
                        }
                    }
                    for i in range(start, min(start + 25, count))
                ]
            }
        )


@pytest.fixture
def small_item_memcached() -> Iterator[Memcached]:
    """memcached with a 64 KiB item limit, so a board of a few thousand players exceeds it."""
    server = Memcached.start(item_size_bytes=64 * 1024)
    yield server
    server.stop()


def test_board_that_fits_only_compressed_is_cached_compressed(
    make_reader: Callable[..., Reader],
    aws: LocalAws,
    tables: TableNames,
    small_item_memcached: Memcached,
) -> None:
    put_many_players(aws, tables.stats, 1500, name_bytes=8)  # ~120 KB of JSON, compresses well
    reader = make_reader(
        cache_endpoints=small_item_memcached.endpoint, cache_item_limit_bytes=64 * 1024
    )
    first = reader.leaderboard.read()
    assert len(players(first)) == 1500
    assert len(first.board.players_json) > 64 * 1024  # type: ignore[union-attr]
    second = reader.leaderboard.read()
    assert isinstance(second, Served)
    assert second.source is Source.HIT
    assert players(second) == players(first)


def test_board_too_large_even_compressed_is_skipped_and_still_served(
    make_reader: Callable[..., Reader],
    aws: LocalAws,
    tables: TableNames,
    small_item_memcached: Memcached,
    caplog: pytest.LogCaptureFixture,
) -> None:
    put_many_players(aws, tables.stats, 3000, name_bytes=40)  # random names: zlib cannot help
    reader = make_reader(
        cache_endpoints=small_item_memcached.endpoint, cache_item_limit_bytes=64 * 1024
    )
    answers = reader.reads_from_the_table(2)
    assert all(len(players(a)) == 3000 for a in answers)
    assert "board too large to cache, skipped" in caplog.text


def test_memcached_refusing_a_value_its_limit_is_smaller_than_configured_still_serves(
    make_reader: Callable[..., Reader],
    aws: LocalAws,
    tables: TableNames,
    small_item_memcached: Memcached,
) -> None:
    put_many_players(aws, tables.stats, 3000, name_bytes=40)
    # Misconfigured: the function believes in 1 MiB items, the server allows 64 KiB.
    reader = make_reader(
        cache_endpoints=small_item_memcached.endpoint, cache_item_limit_bytes=1 << 20
    )
    answers = [reader.leaderboard.read() for _ in range(2)]
    assert all(isinstance(a, Served) and len(players(a)) == 3000 for a in answers)


def test_cache_is_used_again_once_memcached_is_back(
    make_reader: Callable[..., Reader], aws: LocalAws, tables: TableNames, own_memcached: Memcached
) -> None:
    aws.put_stats(tables.stats, TEN_PLAYERS)
    reader = make_reader(cache_endpoints=own_memcached.endpoint)
    reader.leaderboard.read()
    own_memcached.stop()
    assert reader.leaderboard.read().source is Source.MISS  # type: ignore[union-attr]

    restarted = Memcached.start(port=own_memcached.port)
    try:
        time.sleep(DEAD_NODE_SECONDS + 0.5)  # the node is set aside this long, then retried
        assert reader.leaderboard.read().source is Source.MISS  # type: ignore[union-attr]
        assert reader.leaderboard.read().source is Source.HIT  # type: ignore[union-attr]
    finally:
        restarted.stop()
