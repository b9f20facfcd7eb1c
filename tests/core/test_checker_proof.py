"""The proof that the consistency checker sees what it must: under injected replica lag, with the
protocol's consistency mechanism on it reports no inconsistency, with it off (the test-only switch)
it reports every one — the real invalidate, leaderboard and checker functions, against a real
memcached and DynamoDB Local."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from tatourney.leaderboard import Served, Source
from tatourney_local.tables import TableNames
from tests.conftest import Reader
from tests.core.boards import TEN_PLAYERS, a_minute_on, replica_lag
from tests.core.handler_io import CONTEXT, metrics_of
from tests.support import LocalAws, load_handler

PROOF_CHANGES = 4


@pytest.mark.parametrize("settle", [True, False], ids=["mechanism-on", "mechanism-off"])
def test_under_injected_replica_lag_the_checker_reports_inconsistencies_only_without_the_mechanism(
    settle: bool,
    aws: LocalAws,
    tables: TableNames,
    lambda_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    make_reader: Callable[..., Reader],
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Each game is invalidated, then read by a reader that began after the invalidation was
    processed, from a replica that has not applied the write yet (injected). With the protocol's
    consistency mechanism (rebuilds settled against the change log's versions) the board shows
    every game; without it (the test-only switch) the reader serves the pre-change row as
    current, and the checker, reading memcached alone, must say so for each game."""
    monkeypatch.setenv("CHECKER_RECHECK_SECONDS", "0")
    aws.put_stats(tables.stats, TEN_PLAYERS)
    invalidate, checker = load_handler("invalidate"), load_handler("checker")
    batch = aws.stream_event(tables.stats)
    invalidate.handler(batch, CONTEXT)
    # The log just created vouches at once (the reader's clock is ahead), so the rebuilds read
    # eventually consistently and the fault answers them: none is a consistent young-log Scan.
    reader = make_reader(settle=settle, clock=a_minute_on)
    assert isinstance(reader.leaderboard.read(), Served)
    capfd.readouterr()

    counted: Counter[str] = Counter()
    with replica_lag(aws, tables, reader) as lag:
        for game in range(1, PROOF_CHANGES + 1):
            last = batch["Records"][-1]["dynamodb"]["SequenceNumber"]
            aws.put_stats(tables.stats, [("Mark", 10 + game, 1 + game, 4000 + 500 * game)])
            batch = aws.stream_event(tables.stats, after=last)
            assert invalidate.handler(batch, CONTEXT) == {"batchItemFailures": []}
            answer = reader.leaderboard.read()  # begun after the invalidation was processed
            assert isinstance(answer, Served)
            assert answer.source is Source.MISS
            assert checker.handler(batch, CONTEXT) == {"batchItemFailures": []}
            counted.update(metrics_of(capfd.readouterr().out))
        assert lag.answered_behind >= PROOF_CHANGES, "the fault was on: reads were behind"

    if settle:
        assert (counted["Consistent"], counted["Inconsistent"]) == (PROOF_CHANGES, 0)
    else:
        assert (counted["Inconsistent"], counted["Consistent"]) == (PROOF_CHANGES, 0)
    assert counted["NotYetRebuilt"] == counted["NotYetInvalidated"] == 0
