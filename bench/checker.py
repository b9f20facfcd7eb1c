"""The consistency checker under injected replica lag: games written, invalidated by the real
invalidate handler, read back at once by a reader whose table reads come from a replica `lag`
behind (tatourney_local.faults.ReplicaLag; DynamoDB Local is always strongly consistent), then
checked by the checker function's logic from memcached alone. With the protocol's consistency
mechanism on, the checker must find nothing inconsistent; with it off (the test-only switch that
the deployed functions cannot set), every board a lagging read rebuilt shows the old row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

from bench.modes import CacheAdmin, Mode, new_container
from bench.stack import TABLES, Changes, Stack
from tatourney.cache import Cache
from tatourney.config import LeaderboardConfig
from tatourney.consistency_check import Verdict
from tatourney.leaderboard import Leaderboard
from tatourney.table import StatsTable
from tatourney_local.faults import ReplicaLag
from tatourney_local.services import dynamodb_client

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient

LAGS_MS = (0, 100, 500, 2000)


def checker_under_lag(
    stack: Stack,
    changes: Changes,
    admin: CacheAdmin,
    games: int,
    progress: Callable[[str], None],
) -> list[dict[str, Any]]:
    """One row per lag and mechanism setting: changes checked, by class, and the worst time from
    a change to the board that shows it."""
    checker = new_container("checker")
    config = LeaderboardConfig.from_env()
    rows = []
    for lag_ms in LAGS_MS:
        for mechanism in (True, False):
            progress(f"checker: {lag_ms} ms replica lag, mechanism {'on' if mechanism else 'off'}")
            lag = ReplicaLag(lag_ms / 1000, stack.dynamodb.client(), [TABLES.stats])
            table_client = dynamodb_client(stack.dynamodb.endpoint_url)
            reader = Leaderboard(
                Cache.connect(config.cache),
                StatsTable(_returning(table_client), config.stats_table),
                config,
                settle=mechanism,
            )
            emitters = [stack.admin.meta.events, table_client.meta.events]
            for events in emitters:
                lag.install(events)
            verdicts: dict[str, int] = dict.fromkeys(map(str, Verdict), 0)
            seconds: list[float] = []
            try:
                changes.follow_from_now()
                reader.read()  # the board the games patch
                for _ in range(games):
                    changes.write()
                    event = changes.next_event()
                    admin.invalidate(Mode.TATOURNEY, event)
                    reader.read()  # begun after the invalidation was processed
                    found = checker.changes_of(DynamoDBStreamEvent(event))
                    for check in checker.checker.check(found):
                        verdicts[str(check.verdict)] += 1
                        if check.seconds_to_consistent is not None:
                            seconds.append(check.seconds_to_consistent)
            finally:
                for events in emitters:
                    lag.uninstall(events)
            rows.append(
                {
                    "lag_ms": lag_ms,
                    "mechanism": mechanism,
                    "checks": sum(verdicts.values()),
                    **verdicts,
                    "reads_behind": lag.answered_behind,
                    "worst_seconds_to_consistent": round(max(seconds), 3) if seconds else None,
                }
            )
    return rows


def _returning(client: DynamoDBClient) -> Callable[[], DynamoDBClient]:
    """StatsTable's connect for a client made already (bound now, not to the loop's variable)."""
    return lambda: client
