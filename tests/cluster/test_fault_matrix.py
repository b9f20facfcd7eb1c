"""The fault matrix: real memcached nodes (1, 2, 3) that hang (SIGSTOP/SIGCONT) or crash and come
back empty (SIGKILL, then a new process on the same port), while games change the board; the
replica-lag fault (injected: DynamoDB Local is always strongly consistent) on every rebuild path;
and the node list changing under the two functions (grown then shrunk back, mismatched during a
rolling deploy), each function deployed anew with its list.

The stats stream feeds the real invalidate handler through the local event source mapping with
the deployed settings (retries, backoff, record age), so a failed invalidation is redelivered as
Lambda would. Two warm containers read throughout. Every test asserts the two guarantees:
- no 5xx: every answer is HIT, MISS or STALE (the table is healthy here);
- no read that began after the change's invalidation was processed serves a board from before it
  as current (HIT or MISS); the last board flagged STALE is an allowed answer, and counted.
Each run adds a row to the matrix `pytest` prints at the end (and writes with --fault-matrix).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pymemcache.client.base import Client

from tatourney.cache import LeaderboardKeys, home_node
from tatourney.consistency_check import Change
from tatourney.leaderboard import Served
from tatourney.table import Cursor, Players, ScanPage, StatsTable
from tatourney_local.lambdas import LocalFunction
from tatourney_local.services import LOOPBACK, Memcached
from tatourney_local.stack import INVALIDATE_MAPPING
from tatourney_local.streams import FailureLog, StreamMapping
from tatourney_local.tables import TableNames
from tests.cluster.checking import checker_figures
from tests.conftest import FaultMatrix, Reader
from tests.core.boards import TEN_PLAYERS, a_minute_on, replica_lag
from tests.support import LocalAws

HANG_SECONDS = 1.5
WAIT_SECONDS = 60.0
READ_PAUSE_SECONDS = 0.05
MAX_READS = 2000


class Cluster:
    """memcached nodes on loopback, each a process of its own that a test may hang or kill."""

    def __init__(self, size: int) -> None:
        self.nodes: list[Memcached] = []
        for _ in range(size):
            self.nodes.append(Memcached.start())

    @property
    def endpoints(self) -> str:
        return ",".join(node.endpoint for node in self.nodes)

    def home_of(self, key_prefix: str) -> int:
        """Index of the node holding the leaderboard's keys."""
        ports = [node.port for node in self.nodes]
        _, port = home_node(tuple((LOOPBACK, p) for p in ports), key_prefix)
        return ports.index(port)

    def hang(self, index: int) -> None:
        os.kill(self.nodes[index].process.pid, signal.SIGSTOP)

    def resume(self, index: int) -> None:
        os.kill(self.nodes[index].process.pid, signal.SIGCONT)

    def crash(self, index: int) -> None:
        self.nodes[index].process.kill()
        self.nodes[index].process.wait(timeout=10)

    def restart(self, index: int) -> None:
        """A new, empty memcached on the crashed node's port: a node that came back."""
        self.nodes[index] = Memcached.start(port=self.nodes[index].port)

    def stop(self) -> None:
        for node in self.nodes:
            if node.process.poll() is None:
                os.kill(node.process.pid, signal.SIGCONT)  # a stopped process cannot exit
            node.stop()


@dataclass(frozen=True)
class Read:
    reader: int  # which container
    started: float
    ended: float
    outcome: str  # HIT, MISS, STALE or 503
    mark_wins: int | None  # what the board said of Mark (None: no board)
    behind: int = 0  # players read again consistently: an eventually consistent read was behind


def is_older(read: Read, wins: int) -> bool:
    """Whether the read served a board from before the change that gave Mark `wins` wins (his
    wins only grow, so any smaller figure is an older board)."""
    return read.mark_wins is not None and read.mark_wins < wins


@dataclass
class FaultRun:
    """One scenario: the stack, its reads, and when each change was written and processed."""

    aws: LocalAws
    tables: TableNames
    cluster: Cluster
    key_prefix: str
    readers: list[Reader]
    invalidate: LocalFunction  # what the mapping invokes: a test may deploy another
    failure_log: FailureLog
    reads: list[Read] = field(default_factory=list)
    written: dict[int, float] = field(default_factory=dict)  # Mark's wins -> when written
    writing: dict[int, float] = field(default_factory=dict)  # Mark's wins -> when sent
    processed: dict[int, float] = field(default_factory=dict)  # ... -> invalidation processed
    changes: list[Change] = field(default_factory=list)  # for the consistency checker
    failed_deliveries: int = 0
    recovered_at: float = 0.0  # when the fault ended (the node answers again)
    _turn: int = 0

    @property
    def home(self) -> int:
        """Index of the node holding the leaderboard's keys."""
        return self.cluster.home_of(self.key_prefix)

    def recovered(self) -> None:
        self.recovered_at = time.monotonic()

    def deliver(self, event: dict[str, Any]) -> Any:
        """The mapping's invocation of invalidate, noting which changes it processed when."""
        answer = self.invalidate.invoke(event)
        failed = {failure["itemIdentifier"] for failure in answer["batchItemFailures"]}
        self.failed_deliveries += bool(failed)
        for record in event["Records"]:
            data = record["dynamodb"]
            image = data.get("NewImage") or {}
            if data["Keys"]["player"]["S"] == "Mark" and data["SequenceNumber"] not in failed:
                self.processed.setdefault(int(image["wins"]["N"]), time.monotonic())
        return answer

    def change(self, wins: int) -> None:
        """A game gives Mark `wins` wins: the stats row changes, its stream record follows."""
        self.writing[wins] = time.monotonic()
        self.aws.put_stats(self.tables.stats, [("Mark", wins + 9, wins, 9000)])
        self.written[wins] = time.monotonic()
        self.changes.append(Change("Mark", (wins + 9, wins, 9000), time.time()))

    def read(self) -> Read:
        index = self._turn % len(self.readers)
        reader = self.readers[index]
        self._turn += 1
        started = time.monotonic()
        answer = reader.leaderboard.read()
        ended = time.monotonic()
        if isinstance(answer, Served):
            wins = next(p["wins"] for p in answer.board.players() if p["player"] == "Mark")
            behind = answer.trace.reads.behind
            read = Read(index, started, ended, answer.source.value, wins, behind)
        else:
            read = Read(index, started, ended, "503", None)
        self.reads.append(read)
        return read

    def read_for(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and len(self.reads) < MAX_READS:
            self.read()
            time.sleep(READ_PAUSE_SECONDS)

    def wait_until_processed(self, wins: int) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while wins not in self.processed:
            assert time.monotonic() < deadline, f"change to {wins} wins never processed"
            time.sleep(0.02)

    def read_until_failed_deliveries(self, count: int) -> None:
        """Read while the mapping delivers the change's invalidation, until `count` deliveries
        have been refused."""
        deadline = time.monotonic() + WAIT_SECONDS
        while self.failed_deliveries < count:
            assert time.monotonic() < deadline, "the invalidation was not reported as failed"
            self.read_for(0.2)

    def fault_ended(self, wins: int) -> None:
        """The nodes answer again: read until the change to `wins` is processed and shown, and
        every container served from the cache since."""
        self.recovered()
        self.read_until_processed_and_served_from_the_cache(wins)

    def read_until_processed_and_served_from_the_cache(self, wins: int) -> None:
        """Read until the change's invalidation was processed, a read begun after it shows the
        change, and every container has been served from the cache again since the fault ended
        (its client uses the node once more: an old board it still holds would show now)."""
        deadline = time.monotonic() + WAIT_SECONDS
        while not (self._processed_and_shown(wins) and self._all_served_from_cache()):
            assert time.monotonic() < deadline, (
                f"within {WAIT_SECONDS}s: change to {wins} wins processed and shown: "
                f"{self._processed_and_shown(wins)}, every container served from the cache "
                f"since the fault ended: {self._all_served_from_cache()}"
            )
            self.read()
            time.sleep(READ_PAUSE_SECONDS)
        for _ in range(10):
            self.read()

    def _processed_and_shown(self, wins: int) -> bool:
        processed = self.processed.get(wins)
        return processed is not None and any(
            r.started >= processed and r.mark_wins == wins for r in self.reads
        )

    def _all_served_from_cache(self) -> bool:
        served = {
            r.reader for r in self.reads if r.started >= self.recovered_at and r.outcome == "HIT"
        }
        return served == set(range(len(self.readers)))

    def assert_guarantees(self, wins: int) -> None:
        processed = self.processed[wins]
        assert not [r for r in self.reads if r.outcome == "503"], "a node outage gave a 503"
        late = [
            r
            for r in self.reads
            if r.started >= processed and is_older(r, wins) and r.outcome != "STALE"
        ]
        assert not late, f"boards from before the change served after it was processed: {late}"
        assert self.failure_log.entries() == [], "the invalidation was discarded, not redelivered"

    def row(self, scenario: str, wins: int) -> dict[str, Any]:
        leaderboard = self.readers[0].leaderboard
        # The boards are dated by the readers' clock, which some rows set ahead.
        ahead = leaderboard._clock() - time.time()
        checked = checker_figures(leaderboard._config.cache, self.changes, ahead)
        assert checked["checker inconsistent"] == 0, "the consistency checker saw an old board"
        written, processed = self.written[wins], self.processed[wins]
        old = [r for r in self.reads if r.started >= written and is_older(r, wins)]
        return {
            "fault": scenario,
            "nodes": len(self.cluster.nodes),
            "reads": len(self.reads),
            "5xx": sum(r.outcome == "503" for r in self.reads),
            "old after processed": sum(
                r.started >= processed and r.outcome != "STALE" for r in old
            ),
            "flagged STALE after processed": sum(
                r.started >= processed and r.outcome == "STALE" for r in old
            ),
            "old before processed": len(old),
            "worst staleness s": round(max((r.ended - written for r in old), default=0.0), 2),
            "processed after s": round(processed - written, 2),
            "failed deliveries": self.failed_deliveries,
            "re-read behind": sum(r.behind for r in self.reads),
            **checked,
        }


def invalidate_function(lambda_env: dict[str, str], endpoints: str) -> LocalFunction:
    """The invalidate function deployed with the node list `endpoints`."""
    return LocalFunction("invalidate", {**lambda_env, "CACHE_ENDPOINTS": endpoints})


@pytest.fixture(params=[1, 2, 3], ids=lambda n: f"{n}-nodes")
def cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    running = Cluster(request.param)
    yield running
    running.stop()


@pytest.fixture
def run(
    cluster: Cluster,
    aws: LocalAws,
    tables: TableNames,
    lambda_env: dict[str, str],
    make_reader: Callable[..., Reader],
    key_prefix: str,
    tmp_path: Path,
) -> Iterator[FaultRun]:
    """The board built and cached, the stats stream feeding invalidate, two warm readers."""
    aws.put_stats(tables.stats, TEN_PLAYERS)
    invalidate = invalidate_function(lambda_env, cluster.endpoints)
    stream_arn = aws.client.describe_table(TableName=tables.stats)["Table"]["LatestStreamArn"]
    failure_log = FailureLog(tmp_path / "failures.jsonl")
    readers = [make_reader(cache_endpoints=cluster.endpoints) for _ in range(2)]
    fault_run = FaultRun(aws, tables, cluster, key_prefix, readers, invalidate, failure_log)
    mapping = StreamMapping(
        aws.streams,
        stream_arn,
        fault_run.deliver,
        settings=INVALIDATE_MAPPING,
        failure_log=failure_log,
    )
    seeded = time.monotonic()
    mapping.start()
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while not mapping.caught_up_since(seeded):
            assert time.monotonic() < deadline, "the seed's invalidations were not processed"
            time.sleep(0.05)
        for reader in readers:
            reader.leaderboard.read()
        assert [fault_run.read().outcome for _ in readers] == ["HIT", "HIT"]
        yield fault_run
    finally:
        mapping.stop()


def test_the_board_node_hangs_across_a_change_and_comes_back(
    run: FaultRun, cluster: Cluster, fault_matrix: FaultMatrix
) -> None:
    home = run.home
    cluster.hang(home)
    run.change(10)
    run.read_for(HANG_SECONDS)
    assert run.reads[-1].mark_wins == 10, "while it hangs, the table answers"
    cluster.resume(home)
    run.fault_ended(10)

    run.assert_guarantees(10)
    fault_matrix.add(run.row("board node hangs across a change", 10))


def test_the_board_node_is_killed_and_restarted_empty_during_a_change(
    run: FaultRun, cluster: Cluster, fault_matrix: FaultMatrix
) -> None:
    home = run.home
    cluster.crash(home)
    run.change(10)
    run.read_for(HANG_SECONDS)
    cluster.restart(home)
    run.fault_ended(10)

    run.assert_guarantees(10)
    fault_matrix.add(run.row("board node killed, back empty", 10))


class PauseAfterRead(StatsTable):
    """The holder's table: after reading, it says so and waits until told to go on."""

    def __init__(self, inner: StatsTable) -> None:
        self._inner = inner
        self.has_read = threading.Event()
        self.go_on = threading.Event()

    def _pause(self) -> None:
        self.has_read.set()
        assert self.go_on.wait(timeout=WAIT_SECONDS), "the test never let the holder go on"

    def scan_page(
        self, start: Cursor | None, limit: int | None = None, consistent: bool = False
    ) -> ScanPage:
        page = self._inner.scan_page(start, limit, consistent)
        self._pause()
        return page

    def get_players(self, players: Collection[str], consistent: bool = False) -> Players:
        return self._inner.get_players(players, consistent)


def test_the_board_node_hangs_while_a_lease_holder_rebuilds(
    run: FaultRun,
    cluster: Cluster,
    make_reader: Callable[..., Reader],
    fault_matrix: FaultMatrix,
) -> None:
    holder = make_reader(cache_endpoints=cluster.endpoints)
    table = PauseAfterRead(holder.leaderboard._table)
    holder.leaderboard._rebuilder._table = table
    holder.leaderboard._table = table
    run.change(10)
    run.wait_until_processed(10)  # the board is invalidated: the next read rebuilds
    rebuilding = threading.Thread(target=holder.leaderboard.read)
    rebuilding.start()
    assert table.has_read.wait(timeout=WAIT_SECONDS), "the holder took the lease and read"

    home = run.home
    cluster.hang(home)  # the holder stores into a node that does not answer
    table.go_on.set()
    rebuilding.join(timeout=WAIT_SECONDS)
    run.change(20)  # and a change whose invalidation cannot reach it
    run.read_for(HANG_SECONDS)
    cluster.resume(home)
    run.fault_ended(20)

    run.assert_guarantees(10)
    run.assert_guarantees(20)
    fault_matrix.add(run.row("board node hangs during a rebuild", 20))


def test_an_invalidation_arriving_while_the_node_is_unreachable_is_redelivered(
    run: FaultRun, cluster: Cluster, fault_matrix: FaultMatrix
) -> None:
    home = run.home
    cluster.hang(home)
    run.change(10)
    run.read_until_failed_deliveries(3)  # the mapping retries; the function keeps saying no
    assert 10 not in run.processed
    cluster.resume(home)
    run.fault_ended(10)

    run.assert_guarantees(10)
    fault_matrix.add(run.row("invalidation while unreachable", 10))


@pytest.mark.parametrize("cluster", [2, 3], ids=lambda n: f"{n}-nodes", indirect=True)
def test_every_other_node_hangs_while_the_board_node_is_fine(
    run: FaultRun, cluster: Cluster, fault_matrix: FaultMatrix
) -> None:
    """Readers never touch the other nodes; the invalidation must reach them too (each may be
    the home of a shorter list), so it counts as processed once they answer again."""
    others = [i for i in range(len(cluster.nodes)) if i != run.home]
    for index in others:
        cluster.hang(index)
    run.change(10)
    run.read_until_failed_deliveries(1)
    for index in others:
        cluster.resume(index)
    run.fault_ended(10)

    run.assert_guarantees(10)
    assert all(reader.leaderboard._cache._set_aside_until == 0 for reader in run.readers)
    fault_matrix.add(run.row("every other node hangs", 10))


@pytest.mark.parametrize("cluster", [3], ids=lambda n: f"{n}-nodes", indirect=True)
def test_a_leaderboards_board_lease_and_scan_never_leave_its_home_node(
    run: FaultRun, cluster: Cluster, key_prefix: str
) -> None:
    keys = LeaderboardKeys.for_prefix(key_prefix)
    homed = [keys.board, keys.lease, keys.scan]
    home = run.home
    others = [node for index, node in enumerate(cluster.nodes) if index != home]

    def held_elsewhere(names: list[str]) -> list[str]:
        return [key for node in others for key in Client((LOOPBACK, node.port)).get_many(names)]

    assert held_elsewhere(homed) == []
    assert sorted(held_elsewhere([keys.generation, keys.log])) == sorted(
        [keys.generation, keys.log] * len(others)
    ), "the counter and the log follow every change on every node"
    cluster.hang(home)
    run.change(10)
    run.read_until_failed_deliveries(2)  # the invalidation was tried, and refused
    assert held_elsewhere(homed) == [], "a key was written to another node while its home hung"
    cluster.resume(home)
    run.fault_ended(10)
    assert held_elsewhere(homed) == []


# DynamoDB's eventually consistent reads: the replica-lag fault ---------------------------------

FILLERS = [(f"filler-{n:03}", 10, 0, 100) for n in range(190)]  # ranked below the ten


@pytest.mark.parametrize("cluster", [1], ids=lambda n: f"{n}-nodes", indirect=True)
@pytest.mark.parametrize("lag_ms", [0, 100, 500, 2000])
@pytest.mark.parametrize("path", ["patch", "full Scan", "resumed Scan"])
def test_injected_replica_lag_never_puts_the_pre_change_board_back(
    run: FaultRun, cluster: Cluster, fault_matrix: FaultMatrix, lag_ms: int, path: str
) -> None:
    if path == "patch":  # 200 players: re-reading one costs less than a Scan
        run.aws.put_stats(run.tables.stats, FILLERS)
        run.change(5)
        run.read_until_processed_and_served_from_the_cache(5)
    for reader in run.readers:  # the log vouches for what it holds: Scans are not consistent
        reader.leaderboard._clock = reader.leaderboard._rebuilder._clock = a_minute_on
        if path == "resumed Scan":  # a page of 3 a request: the Scan goes on across requests
            reader.leaderboard._rebuilder._scan_page_items = 3
            reader.leaderboard._rebuilder._scan_budget_seconds = 0
    with replica_lag(run.aws, run.tables, *run.readers, seconds=lag_ms / 1000):
        run.change(10)
        run.read_until_processed_and_served_from_the_cache(10)
        run.read_for(lag_ms / 1000)  # and on, while replicas are behind the change

    run.assert_guarantees(10)
    # A rebuild begun after the invalidation was processed and done while the replicas were still
    # behind read the old row, and settling read it again: the fault was exercised. (Whether the
    # stream delivers within the lag depends on the machine's load, so this is asked of the reads
    # that did fall within it; at 2,000 ms they all but always do.)
    # The fault dates a write when it returns, after the run sent it: a read that ended within
    # the lag of the sending was behind, however long the write took.
    sent, processed = run.writing[10], run.processed[10]
    within_lag = [
        read
        for read in run.reads
        if read.outcome == "MISS"
        and processed <= read.started
        and read.ended < sent + lag_ms / 1000
    ]
    if within_lag:
        assert sum(read.behind for read in within_lag) >= 1, "the fault made no read behind"
    fault_matrix.add(run.row(f"replica lag {lag_ms} ms, {path}", 10))


# The node list changes: scale out, scale back in, a rolling deploy ----------------------------


def node_lists(run: FaultRun) -> tuple[str, str]:
    """(the list without the home of the whole cluster, the whole list): growing from the first
    to the second moves the home to the added node."""
    home = run.home
    shorter = [node.endpoint for index, node in enumerate(run.cluster.nodes) if index != home]
    return ",".join(shorter), run.cluster.endpoints


def deploy(
    run: FaultRun,
    make_reader: Callable[..., Reader],
    lambda_env: dict[str, str],
    invalidate: str | None = None,
    leaderboard: str | None = None,
) -> None:
    """Deploy the functions with new node lists: new containers, cold."""
    if invalidate is not None:
        run.invalidate = invalidate_function(lambda_env, invalidate)
    if leaderboard is not None:
        run.readers = [make_reader(cache_endpoints=leaderboard) for _ in run.readers]
    run.recovered()  # every container must be served from the cache again


def start_on_the_shorter_list(
    run: FaultRun,
    make_reader: Callable[..., Reader],
    lambda_env: dict[str, str],
) -> tuple[str, str]:
    """Both functions deployed with the shorter list, and the node it leaves out emptied (on
    ElastiCache a node added to a cluster is a new, empty node)."""
    shorter, whole = node_lists(run)
    deploy(run, make_reader, lambda_env, invalidate=shorter, leaderboard=shorter)
    added = run.home
    run.cluster.crash(added)
    run.cluster.restart(added)
    run.change(5)
    run.read_until_processed_and_served_from_the_cache(5)
    return shorter, whole


@pytest.mark.parametrize("cluster", [3], ids=lambda n: f"{n}-nodes", indirect=True)
def test_the_node_list_grown_then_shrunk_back_never_serves_the_old_home_board(
    run: FaultRun,
    cluster: Cluster,
    make_reader: Callable[..., Reader],
    lambda_env: dict[str, str],
    fault_matrix: FaultMatrix,
) -> None:
    """The old home keeps its board while the added node is the home; scaled back in, it is the
    home again, and must have followed the changes made meanwhile."""
    before, grown = start_on_the_shorter_list(run, make_reader, lambda_env)
    old_readers = run.readers
    deploy(run, make_reader, lambda_env, invalidate=grown, leaderboard=grown)
    run.change(10)
    run.read_until_processed_and_served_from_the_cache(10)
    deploy(run, make_reader, lambda_env, invalidate=before)
    run.readers = old_readers  # warm containers of the first list, their boards in memory
    run.change(20)
    run.read_until_processed_and_served_from_the_cache(20)

    run.assert_guarantees(10)
    run.assert_guarantees(20)
    fault_matrix.add(run.row("node list grown then shrunk back", 20))


@pytest.mark.parametrize("cluster", [3], ids=lambda n: f"{n}-nodes", indirect=True)
def test_mismatched_node_lists_during_a_deploy_never_serve_the_pre_change_board(
    run: FaultRun,
    cluster: Cluster,
    make_reader: Callable[..., Reader],
    lambda_env: dict[str, str],
    fault_matrix: FaultMatrix,
) -> None:
    """Scale out with the invalidate function deployed first, then scale in with the
    leaderboard function first: while they differ, the invalidate function's list holds the
    leaderboard's, whose home follows every change."""
    before, grown = start_on_the_shorter_list(run, make_reader, lambda_env)
    deploy(run, make_reader, lambda_env, invalidate=grown)
    run.change(10)  # the readers' home is not the invalidate function's
    run.read_until_processed_and_served_from_the_cache(10)
    deploy(run, make_reader, lambda_env, leaderboard=grown)
    run.change(20)
    run.read_until_processed_and_served_from_the_cache(20)
    deploy(run, make_reader, lambda_env, leaderboard=before)
    run.change(30)  # scale in: the readers' home is not the invalidate function's again
    run.read_until_processed_and_served_from_the_cache(30)
    deploy(run, make_reader, lambda_env, invalidate=before)
    run.change(40)
    run.read_until_processed_and_served_from_the_cache(40)

    for wins in (10, 20, 30, 40):
        run.assert_guarantees(wins)
    fault_matrix.add(run.row("mismatched lists during a deploy", 40))
