"""games stream -> stats rows: each new game folded into its player's row, exactly once.

A record that is no game within the bounds (tatourney.aggregation), or no record of the games
table at all, is rejected: logged at WARNING with its reason and sent, with the reason, to the
failure destination (FAILURE_DESTINATION), then counted as processed, so the shard moves on
instead of retrying a record that can never succeed. Records that could not be processed (the
stats transaction failed, or a rejection could not be stored) are reported as batchItemFailures,
so Lambda retries from the first of them (the event source mapping sets ReportBatchItemFailures):
nothing is dropped.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from tatourney.aggregation import Game, InvalidGame, Outcome, StatsWriter, shown
from tatourney.config import AggregateConfig
from tatourney.rejections import DestinationUnavailable, Rejection, open_destination
from tatourney.table import dynamodb_client
from tatourney.telemetry import function_logger, function_metrics, traced

logger = function_logger("tatourney-aggregate")
metrics = function_metrics("tatourney-aggregate")
config = AggregateConfig.from_env()
writer = StatsWriter(
    dynamodb_client(config.table_max_attempts, os.environ), config.games_table, config.stats_table
)
failure_destination = open_destination(config.failure_destination)
# Failures are reported per record even when every record fails, so that Lambda retries from
# the first failed record rather than treating the batch as a function error.
processor = BatchProcessor(
    event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False
)

GAME_KEYS = {"player", "game"}
OUTCOME_METRICS = {
    Outcome.APPLIED: "GamesFolded",
    Outcome.DUPLICATE: "DuplicatesSkipped",
    Outcome.GAME_GONE: "GamesGone",
}
counts: Counter[str] = Counter()  # this invocation's outcomes, by metric name


def new_game(record: object) -> Game | None:
    """The game a games stream record adds; None for a change to a game already recorded."""
    if not isinstance(record, Mapping):
        raise InvalidGame(f"not a stream record: {shown(record)}")
    event_name = record.get("eventName")
    # Games are facts: only a new one counts. The MODIFY that marks a game aggregated (and any
    # later edit or delete) changes nothing here; the mapping's filter keeps most of them out.
    if event_name in ("MODIFY", "REMOVE"):
        return None
    if event_name != "INSERT":
        raise InvalidGame(f"not a stream record: eventName is {shown(event_name)}")
    change = record.get("dynamodb")
    if not isinstance(change, Mapping):
        raise InvalidGame(f"the record has no dynamodb change: {shown(change)}")
    keys = change.get("Keys")
    if not isinstance(keys, Mapping) or set(keys) != GAME_KEYS:
        raise InvalidGame(f"not a games record: its keys are {shown(keys)}, not player and game")
    if "NewImage" not in change:
        raise InvalidGame("the record has no NewImage: the stream must carry new images")
    return Game.from_image(change["NewImage"])


def fold_game(record: DynamoDBRecord, lambda_context: LambdaContext) -> None:
    try:
        game = new_game(record.raw_event)
    except InvalidGame as invalid:
        reject(record.raw_event, str(invalid), lambda_context)
        return
    if game is None:
        return
    outcome = writer.apply(game)
    counts[OUTCOME_METRICS[outcome]] += 1
    logger.info("game folded", extra={"player": game.player, "game": game.game, "outcome": outcome})


def reject(record: object, reason: str, context: LambdaContext) -> None:
    """Log the rejected record and store it with its reason; DestinationUnavailable if it
    could not be stored, so that the record is reported for retry."""
    delivered = record if isinstance(record, Mapping) else {}
    change = delivered.get("dynamodb")
    sequence_number = change.get("SequenceNumber") if isinstance(change, Mapping) else None
    stream_arn = delivered.get("eventSourceARN")
    rejection = Rejection(
        reason=reason,
        record=record,
        function_arn=context.invoked_function_arn,
        request_id=context.aws_request_id,
        stream_arn=stream_arn if isinstance(stream_arn, str) else None,
        sequence_number=sequence_number if isinstance(sequence_number, str) else None,
        keys=change.get("Keys") if isinstance(change, Mapping) else None,
    )
    logger.warning(
        "game rejected",
        extra={"reason": reason, "sequence_number": rejection.sequence_number},
    )
    try:
        failure_destination.send(rejection)
        counts["RejectedRecords"] += 1
    except DestinationUnavailable:
        logger.exception(
            "rejected game not stored, reported for retry",
            extra={"sequence_number": rejection.sequence_number},
        )
        raise


@traced
@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    counts.clear()
    try:
        return process_partial_response(
            event=event, record_handler=fold_game, processor=processor, context=context
        )
    finally:
        # GamesFolded every invocation (0 included): its sample count is the batches handled.
        counts["GamesFolded"] += 0
        for name, value in counts.items():
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
