"""GET /stats (API Gateway HTTP API, payload v2): the leaderboard, read through the cache.

Every request gets a clean answer: 200 or 304, 400 (a JSON error naming the parameter), 405, or
503 with Retry-After; never an exception, whatever the event holds.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from tatourney.cache import Cache
from tatourney.config import LeaderboardConfig
from tatourney.leaderboard import Answer, Leaderboard, Served, Source
from tatourney.responses import BadRequest, error_response, leaderboard_response, parse_page
from tatourney.table import StatsTable, dynamodb_client
from tatourney.telemetry import function_logger, function_metrics, traced

logger = function_logger("tatourney-leaderboard")
metrics = function_metrics("tatourney-leaderboard")
config = LeaderboardConfig.from_env()
leaderboard = Leaderboard(
    Cache.connect(config.cache),
    # The client (and boto3 with it) is created on the first read of the table: a hit needs neither.
    StatsTable(
        functools.partial(dynamodb_client, config.table_max_attempts, dict(os.environ)),
        config.stats_table,
    ),
    config,
)

ANSWER_METRICS = {Source.HIT: "Hits", Source.MISS: "Misses", Source.STALE: "StaleAnswers"}


def http_request(event: Any) -> tuple[str, Mapping[str, str], Mapping[str, str]]:
    """Method, query parameters and (lower-case) headers of a payload v2 event; the optional
    parts may be absent. BadRequest when it is not such an event."""
    try:
        method = event["requestContext"]["http"]["method"]
        query = event.get("queryStringParameters") or {}
        headers = event.get("headers") or {}
        parts = (method, *query, *query.values(), *headers, *headers.values())
    except (KeyError, TypeError, AttributeError):
        raise BadRequest("not an API Gateway HTTP API (payload 2.0) request") from None
    if not all(isinstance(part, str) for part in parts):
        raise BadRequest("not an API Gateway HTTP API (payload 2.0) request")
    return method, query, {name.lower(): value for name, value in headers.items()}


def respond(event: Any) -> tuple[dict[str, Any], Answer | None]:
    try:
        method, query, headers = http_request(event)
        if method != "GET":
            return error_response(405, "only GET is supported", {"Allow": "GET"}), None
        page = parse_page(query)
    except BadRequest as error:
        return error_response(400, str(error)), None
    answer = leaderboard.read()
    response = leaderboard_response(
        answer, page, headers.get("if-none-match"), headers.get("accept-encoding")
    )
    return response, answer


def record(status: int, answer: Answer | None, latency_ms: float) -> None:
    """The request's metrics (README, "Operating it") and its log line."""
    if status == 304:
        metrics.add_metric(name="NotModified", unit=MetricUnit.Count, value=1)
    elif isinstance(answer, Served):
        metrics.add_metric(name=ANSWER_METRICS[answer.source], unit=MetricUnit.Count, value=1)
    elif status == 503:
        metrics.add_metric(name="BusyAnswers", unit=MetricUnit.Count, value=1)
    else:
        metrics.add_metric(name="BadRequests", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="Latency", unit=MetricUnit.Milliseconds, value=latency_ms)
    if answer is not None:
        trace = answer.trace
        for name, value in (
            ("TableScans", trace.reads.scan_pages),
            ("PlayerReads", trace.reads.players),
            ("ReadUnits", trace.reads.read_units),
            ("LeaseWaits", trace.lease_waits),
            ("LeaseTakeovers", trace.lease_takeovers),
            ("CacheErrors", trace.cache_errors),
        ):
            if value:
                metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    source = answer.source.value if isinstance(answer, Served) else None
    if isinstance(answer, Served):
        age = max(time.time() - answer.board.built_at, 0.0)
        metrics.add_metric(name="BoardAge", unit=MetricUnit.Seconds, value=round(age, 3))
    # A hit is counted (metrics) and its request is in the API's access log; a log line of its
    # own would cost more than the hit, so it is written only at DEBUG. Every other answer is.
    log = logger.debug if source == Source.HIT.value and status in (200, 304) else logger.info
    log(
        "stats served",
        extra={"status": status, "cache": source, "latency_ms": round(latency_ms, 3)},
    )


@traced
@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        response, answer = respond(event)
    except Exception:
        # A defect, not a request's fault: still a clean, retryable answer (and a log line
        # with the traceback), never API Gateway's bare 500.
        logger.exception("leaderboard failed")
        seconds = config.retry_after_seconds
        response = error_response(503, "internal error", {"Retry-After": str(seconds)})
        answer = None
    record(response["statusCode"], answer, (time.perf_counter() - started) * 1000)
    return response
