"""stats stream -> the consistency checker: for each change that can show on the board, whether
the cache serves it (src/tatourney/consistency_check.py). Reads memcached only, never the table.

A second consumer of the stats stream beside invalidate, with a batching window of tens of
seconds: by the time a batch arrives its invalidations have normally been processed, and the
ones that have not are re-checked within the invocation for CHECKER_RECHECK_SECONDS. Nothing is
retried: when memcached does not answer, the batch is counted unchecked (the invalidate
function's own alarms cover the outage) and the stream moves on.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from tatourney.cache import Cache, CacheUnavailable, LeaderboardKeys
from tatourney.config import CheckerConfig
from tatourney.consistency_check import Change, ConsistencyChecker, Verdict, change_of
from tatourney.telemetry import function_logger, function_metrics, traced

logger = function_logger("tatourney-checker")
metrics = function_metrics("tatourney-checker")
config = CheckerConfig.from_env()
checker = ConsistencyChecker(
    Cache.connect(config.cache),
    LeaderboardKeys.for_prefix(config.cache.key_prefix),
    recheck_seconds=config.recheck_seconds,
)


def changes_of(event: DynamoDBStreamEvent) -> list[Change]:
    """The changes that can show on the board; records of another shape are skipped (the
    invalidate function logs and counts them)."""
    changes = []
    for record in event.records:
        try:
            data = record.dynamodb
            player = data.keys.get("player") if data is not None else None
            if data is None or not isinstance(player, str) or not player:
                continue
            approximate = data.approximate_creation_date_time
            change = change_of(
                player,
                data.old_image or None,
                data.new_image or None,
                float(approximate) if approximate is not None else time.time(),
            )
        except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError):
            continue
        if change is not None:
            changes.append(change)
    return changes


@traced
@metrics.log_metrics
@logger.inject_lambda_context
@event_source(data_class=DynamoDBStreamEvent)
def handler(event: DynamoDBStreamEvent, context: LambdaContext) -> dict[str, Any]:
    changes = changes_of(event)
    try:
        checks = checker.check(changes)
    except CacheUnavailable as error:
        metrics.add_metric(name="UncheckedChanges", unit=MetricUnit.Count, value=len(changes))
        logger.warning("cache unavailable, changes not checked", extra={"error": str(error)})
        return {"batchItemFailures": []}
    counts = Counter(check.verdict for check in checks)
    for verdict in Verdict:
        metrics.add_metric(name=str(verdict), unit=MetricUnit.Count, value=counts[verdict])
    for check in checks:
        seconds = check.seconds_to_consistent
        if seconds is not None:
            metrics.add_metric(name="SecondsToConsistent", unit=MetricUnit.Seconds, value=seconds)
    logger.info("changes checked", extra={str(verdict): counts[verdict] for verdict in Verdict})
    return {"batchItemFailures": []}
