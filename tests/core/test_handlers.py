"""Each handler invoked with realistic events (API Gateway v2; DynamoDB stream batches read from the
real stream) against memcached and DynamoDB Local."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymemcache.client.base import Client

from tatourney.cache import LeaderboardKeys
from tatourney.config import ConfigError
from tatourney_local.faults import throttled
from tatourney_local.services import Memcached, free_port
from tatourney_local.tables import TableNames
from tests.core.test_cache_protocol import TEN_PLAYERS
from tests.support import FakeLambdaContext, LocalAws, http_event, load_handler

CONTEXT = FakeLambdaContext()


def body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


# leaderboard -----------------------------------------------------------------------------------


@pytest.mark.localstack
@pytest.mark.usefixtures("lambda_env")
def test_get_stats_returns_ranked_players_then_hits(aws: LocalAws, tables: TableNames) -> None:
    aws.put_stats(tables.stats, TEN_PLAYERS)
    leaderboard = load_handler("leaderboard")

    first = leaderboard.handler(http_event(), CONTEXT)
    assert first["statusCode"] == 200
    assert first["headers"]["Content-Type"] == "application/json"
    assert first["headers"]["X-Cache"] == "MISS"
    payload = body(first)
    assert [p["player"] for p in payload["players"]] == [name for name, *_ in TEN_PLAYERS]
    assert [p["rank"] for p in payload["players"]] == list(range(1, 11))
    assert payload["players"][0] == {
        "rank": 1,
        "player": "Tia",
        "games": 10,
        "wins": 7,
        "avg_score": 500.0,
        "win_percent": 70.0,
    }
    assert payload["cache"] == "MISS"
    assert payload["built_at"].endswith("+00:00")

    second = leaderboard.handler(http_event(), CONTEXT)
    assert second["headers"]["X-Cache"] == "HIT"
    assert body(second)["players"] == payload["players"]
    assert body(second)["built_at"] == payload["built_at"]


@pytest.mark.usefixtures("lambda_env")
def test_limit_returns_the_top_n(aws: LocalAws, tables: TableNames) -> None:
    aws.put_stats(tables.stats, TEN_PLAYERS)
    response = load_handler("leaderboard").handler(http_event(query={"limit": "3"}), CONTEXT)
    assert response["statusCode"] == 200
    assert [p["player"] for p in body(response)["players"]] == ["Tia", "Julie", "Kelby"]


@pytest.mark.usefixtures("lambda_env")
@pytest.mark.parametrize(
    "query",
    [
        {"limit": "0"},
        {"limit": "1001"},
        {"limit": "abc"},
        {"limit": "-1"},
        {"limit": ""},
        {"limit": "2.5"},
        {"page": "2"},
    ],
)
def test_malformed_query_is_400_with_json_error(query: dict[str, str]) -> None:
    response = load_handler("leaderboard").handler(http_event(query=query), CONTEXT)
    assert response["statusCode"] == 400
    assert body(response)["error"]


@pytest.mark.usefixtures("lambda_env")
def test_any_query_string_is_answered_200_or_400(aws: LocalAws, tables: TableNames) -> None:
    aws.put_stats(tables.stats, TEN_PLAYERS[:3])
    leaderboard = load_handler("leaderboard")

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        st.dictionaries(
            st.sampled_from(["limit", "Limit", "x", ""]), st.text(max_size=12), max_size=2
        )
    )
    def check(query: dict[str, str]) -> None:
        response = leaderboard.handler(http_event(query=query), CONTEXT)
        assert response["statusCode"] in {200, 400}
        assert isinstance(body(response), dict)

    check()


@pytest.mark.usefixtures("lambda_env")
def test_other_methods_are_405() -> None:
    response = load_handler("leaderboard").handler(http_event(method="POST"), CONTEXT)
    assert response["statusCode"] == 405
    assert response["headers"]["Allow"] == "GET"


@pytest.mark.usefixtures("lambda_env")
def test_throttled_table_with_nothing_cached_is_503_with_retry_after(
    aws: LocalAws, tables: TableNames
) -> None:
    aws.put_stats(tables.stats, TEN_PLAYERS)
    leaderboard = load_handler("leaderboard")
    with throttled(leaderboard.leaderboard._table._client):
        response = leaderboard.handler(http_event(), CONTEXT)
    assert response["statusCode"] == 503
    assert response["headers"]["Retry-After"] == "5"
    assert body(response)["retry_after"] == 5


@pytest.mark.usefixtures("lambda_env")
def test_one_json_log_line_with_cache_outcome_and_latency(
    aws: LocalAws, tables: TableNames
) -> None:
    aws.put_stats(tables.stats, TEN_PLAYERS)
    leaderboard = load_handler("leaderboard")
    output = io.StringIO()
    previous = leaderboard.logger.registered_handler.setStream(output)
    try:
        leaderboard.handler(http_event(), CONTEXT)
    finally:
        leaderboard.logger.registered_handler.setStream(previous)
    lines = [json.loads(line) for line in output.getvalue().splitlines()]
    served = [line for line in lines if line["message"] == "stats served"]
    assert len(served) == 1
    assert served[0]["cache"] == "MISS"
    assert served[0]["status"] == 200
    assert served[0]["latency_ms"] > 0
    assert served[0]["service"] == "tatourney-leaderboard"
    assert served[0]["function_request_id"] == CONTEXT.aws_request_id


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("STATS_TABLE", "", "STATS_TABLE must be set"),
        ("CACHE_ENDPOINTS", "localhost", "CACHE_ENDPOINTS must be host:port"),
        ("CACHE_TTL_SECONDS", "soon", "CACHE_TTL_SECONDS must be an integer"),
        ("LEASE_TTL_SECONDS", "0", "LEASE_TTL_SECONDS must be between 1 and 60"),
        ("CACHE_KEY_PREFIX", "has space", "CACHE_KEY_PREFIX must be 1-100 printable"),
    ],
)
@pytest.mark.usefixtures("lambda_env")
def test_bad_configuration_fails_cold_start_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=expected):
        load_handler("leaderboard")


# invalidate ------------------------------------------------------------------------------------


def cache_client(memcached: Memcached) -> Client:
    return Client(("127.0.0.1", memcached.port), default_noreply=False)


@pytest.mark.localstack
def test_stats_batch_with_insert_modify_remove_invalidates_once(
    lambda_env: dict[str, str],
    aws: LocalAws,
    tables: TableNames,
    memcached: Memcached,
    key_prefix: str,
) -> None:
    aws.put_stats(tables.stats, TEN_PLAYERS)
    leaderboard, invalidate = load_handler("leaderboard"), load_handler("invalidate")
    assert leaderboard.handler(http_event(), CONTEXT)["headers"]["X-Cache"] == "MISS"
    assert leaderboard.handler(http_event(), CONTEXT)["headers"]["X-Cache"] == "HIT"
    keys, cache = LeaderboardKeys.for_prefix(key_prefix), cache_client(memcached)
    generation = int(cache.get(keys.generation))
    seen = aws.stream_event(tables.stats)["Records"][-1]["dynamodb"]["SequenceNumber"]

    aws.put_stats(tables.stats, [("Mark", 19, 10, 9000), ("Zoe", 1, 1, 100)])
    aws.client.delete_item(TableName=tables.stats, Key={"player": {"S": "Moosa"}})
    batch = aws.stream_event(tables.stats, after=seen)
    assert sorted(r["eventName"] for r in batch["Records"]) == ["INSERT", "MODIFY", "REMOVE"]

    assert invalidate.handler(batch, CONTEXT) == {"batchItemFailures": []}
    assert int(cache.get(keys.generation)) == generation + 1, "one bump for the whole batch"
    assert cache.get(keys.board) is None

    after = leaderboard.handler(http_event(), CONTEXT)
    assert after["headers"]["X-Cache"] == "MISS"
    names = [p["player"] for p in body(after)["players"]]
    assert names[0] == "Mark"
    assert "Zoe" in names
    assert "Moosa" not in names


@pytest.mark.usefixtures("lambda_env")
def test_change_to_unshown_attribute_does_not_invalidate(
    aws: LocalAws, tables: TableNames, memcached: Memcached, key_prefix: str
) -> None:
    aws.put_stats(tables.stats, TEN_PLAYERS[:2])
    invalidate = load_handler("invalidate")
    invalidate.handler(aws.stream_event(tables.stats), CONTEXT)
    keys, cache = LeaderboardKeys.for_prefix(key_prefix), cache_client(memcached)
    generation = cache.get(keys.generation)
    seen = aws.stream_event(tables.stats)["Records"][-1]["dynamodb"]["SequenceNumber"]
    aws.client.update_item(
        TableName=tables.stats,
        Key={"player": {"S": "Tia"}},
        UpdateExpression="SET updated_at = :now",
        ExpressionAttributeValues={":now": {"S": "2026-11-22T12:00:00Z"}},
    )
    batch = aws.stream_event(tables.stats, after=seen)
    assert [r["eventName"] for r in batch["Records"]] == ["MODIFY"]
    assert invalidate.handler(batch, CONTEXT) == {"batchItemFailures": []}
    assert cache.get(keys.generation) == generation


def test_cache_unreachable_reports_relevant_records_for_retry(
    lambda_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, aws: LocalAws, tables: TableNames
) -> None:
    monkeypatch.setenv("CACHE_ENDPOINTS", f"127.0.0.1:{free_port()}")  # nothing listens there
    aws.put_stats(tables.stats, TEN_PLAYERS[:3])
    batch = aws.stream_event(tables.stats)
    response = load_handler("invalidate").handler(batch, CONTEXT)
    assert response == {
        "batchItemFailures": [
            {"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in batch["Records"]
        ]
    }
