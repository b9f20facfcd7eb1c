"""GET /stats (API Gateway HTTP API, payload v2): the leaderboard, read through the cache."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from tatourney.cache import Cache
from tatourney.config import LeaderboardConfig
from tatourney.leaderboard import Leaderboard, Served
from tatourney.logs import function_logger
from tatourney.responses import BadRequest, error_response, leaderboard_response, parse_limit
from tatourney.table import StatsTable, dynamodb_client

logger = function_logger("tatourney-leaderboard")
config = LeaderboardConfig.from_env()
leaderboard = Leaderboard(
    Cache.connect(config.cache),
    StatsTable(dynamodb_client(config.table_max_attempts), config.stats_table),
    config,
)


@logger.inject_lambda_context
@event_source(data_class=APIGatewayProxyEventV2)
def handler(event: APIGatewayProxyEventV2, context: LambdaContext) -> dict[str, Any]:
    started = time.perf_counter()
    if event.request_context.http.method != "GET":
        return error_response(405, "only GET is supported", {"Allow": "GET"})
    try:
        limit = parse_limit(event.query_string_parameters)
    except BadRequest as error:
        return error_response(400, str(error))
    answer = leaderboard.read()
    response = leaderboard_response(answer, limit, time.time())
    logger.info(
        "stats served",
        extra={
            "status": response["statusCode"],
            "cache": answer.source if isinstance(answer, Served) else None,
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
        },
    )
    return response
