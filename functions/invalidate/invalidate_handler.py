"""stats stream -> cache: one invalidation per batch that changes what the leaderboard shows,
naming the players it changed and the version each record's NewImage left them at (the newest
record of a player in the batch wins: a shard keeps a key's records in order).

If memcached does not take it, the relevant records are reported as batchItemFailures and
Lambda delivers them again, so an invalidation is never silently lost. A record that does not
look like a stats row (no `player` key: a table of another shape) is ignored, and logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from tatourney.cache import Cache, CacheUnavailable, LeaderboardKeys
from tatourney.changelog import Version
from tatourney.config import InvalidateConfig
from tatourney.invalidation import Invalidator, changes_leaderboard, version_after
from tatourney.telemetry import function_logger, function_metrics, traced

logger = function_logger("tatourney-invalidate")
metrics = function_metrics("tatourney-invalidate")
config = InvalidateConfig.from_env()
# No circuit breaker: a retried invalidation must reach the node the moment it answers again.
invalidator = Invalidator(
    Cache.connect_all(config.cache, set_aside_seconds=0),
    LeaderboardKeys.for_prefix(config.cache.key_prefix),
)


@dataclass
class Changes:
    players: dict[str, Version] = field(default_factory=dict)
    sequence_numbers: list[str] = field(default_factory=list)  # of the records that count
    ignored: int = 0


def changes_of(event: DynamoDBStreamEvent) -> Changes:
    """The players whose shown stats the batch changed, and the records that say so."""
    changes = Changes()
    for record in event.records:
        try:
            data = record.dynamodb
            player = data.keys.get("player") if data is not None else None
            if not isinstance(player, str) or not player or data is None:
                raise ValueError("no player key")
            sequence_number = data.sequence_number
            if not isinstance(sequence_number, str):
                raise ValueError("no sequence number")
            changed = changes_leaderboard(data.old_image or None, data.new_image or None)
            version = version_after(data.new_image or None)
        except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError) as error:
            changes.ignored += 1
            logger.warning(
                "stream record ignored: not a stats row change",
                extra={"reason": str(error), "record": repr(record.raw_event)[:500]},
            )
            continue
        if changed:
            changes.players[player] = version
            changes.sequence_numbers.append(sequence_number)
    return changes


@traced
@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context
@event_source(data_class=DynamoDBStreamEvent)
def handler(event: DynamoDBStreamEvent, context: LambdaContext) -> dict[str, Any]:
    changes = changes_of(event)
    if changes.ignored:
        metrics.add_metric(name="IgnoredRecords", unit=MetricUnit.Count, value=changes.ignored)
    if not changes.players:
        # Nothing shown changed: counted as a batch that needed no invalidation.
        metrics.add_metric(name="Invalidations", unit=MetricUnit.Count, value=0)
        return {"batchItemFailures": []}
    try:
        invalidator.invalidate(changes.players)
    except CacheUnavailable as error:
        metrics.add_metric(name="InvalidationFailures", unit=MetricUnit.Count, value=1)
        logger.error("invalidation failed, records will be retried", extra={"error": str(error)})
        return {
            "batchItemFailures": [
                {"itemIdentifier": sequence} for sequence in changes.sequence_numbers
            ]
        }
    metrics.add_metric(name="Invalidations", unit=MetricUnit.Count, value=1)
    logger.info(
        "leaderboard invalidated",
        extra={"records": len(changes.sequence_numbers), "players": len(changes.players)},
    )
    return {"batchItemFailures": []}
