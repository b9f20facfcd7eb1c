"""stats stream -> cache: one invalidation per batch that changes what the leaderboard shows.

If memcached does not take it, the relevant records are reported as batchItemFailures and
Lambda delivers them again, so an invalidation is never silently lost.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from tatourney.cache import Cache, CacheUnavailable, LeaderboardKeys
from tatourney.config import InvalidateConfig
from tatourney.invalidation import Invalidator, changes_leaderboard
from tatourney.logs import function_logger

logger = function_logger("tatourney-invalidate")
config = InvalidateConfig.from_env()
invalidator = Invalidator(
    Cache.connect(config.cache), LeaderboardKeys.for_prefix(config.cache.key_prefix)
)


@logger.inject_lambda_context
@event_source(data_class=DynamoDBStreamEvent)
def handler(event: DynamoDBStreamEvent, context: LambdaContext) -> dict[str, Any]:
    relevant = [
        record.dynamodb.sequence_number
        for record in event.records
        if record.dynamodb is not None
        and changes_leaderboard(
            record.dynamodb.old_image or None, record.dynamodb.new_image or None
        )
    ]
    if not relevant:
        return {"batchItemFailures": []}
    try:
        invalidator.invalidate()
    except CacheUnavailable as error:
        logger.error("invalidation failed, records will be retried", extra={"error": str(error)})
        return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in relevant]}
    logger.info("leaderboard invalidated", extra={"records": len(relevant)})
    return {"batchItemFailures": []}
