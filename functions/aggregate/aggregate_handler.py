"""games stream -> stats rows: each new game folded into its player's row, exactly once.

Failed records are reported as batchItemFailures, so Lambda retries from the first of them
instead of the whole batch (the event source mapping sets ReportBatchItemFailures).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from tatourney.aggregation import Game, StatsWriter
from tatourney.config import AggregateConfig
from tatourney.table import dynamodb_client
from tatourney.telemetry import function_logger

logger = function_logger("tatourney-aggregate")
config = AggregateConfig.from_env()
writer = StatsWriter(
    dynamodb_client(config.table_max_attempts), config.games_table, config.stats_table
)
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def fold_game(record: DynamoDBRecord) -> None:
    # Games are facts: only a new one counts. The MODIFY that marks a game aggregated (and any
    # later edit or delete) changes nothing here; the mapping's filter keeps most of them out.
    if record.event_name != DynamoDBRecordEventName.INSERT or record.dynamodb is None:
        return
    game = Game.from_item(record.dynamodb.new_image)
    outcome = writer.apply(game)
    logger.info("game folded", extra={"player": game.player, "game": game.game, "outcome": outcome})


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=fold_game, processor=processor, context=context
    )
