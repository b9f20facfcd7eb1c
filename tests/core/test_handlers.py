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
from tatourney.changelog import ChangeLog
from tatourney.config import ConfigError
from tatourney_local.faults import throttled
from tatourney_local.services import Memcached, free_port
from tatourney_local.tables import TableNames
from tests.core.boards import TEN_PLAYERS
from tests.core.handler_io import CONTEXT, decoded_body, metrics_of, other_records
from tests.support import LocalAws, http_event, load_handler


def body(response: dict[str, Any]) -> Any:
    return json.loads(decoded_body(response))


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
    assert (payload["total"], payload["offset"], payload["limit"]) == (10, 0, 100)
    assert payload["built_at"].endswith("+00:00")

    second = leaderboard.handler(http_event(), CONTEXT)
    assert second["headers"]["X-Cache"] == "HIT"
    assert body(second) == payload


@pytest.mark.usefixtures("lambda_env")
def test_limit_returns_the_top_n(aws: LocalAws, tables: TableNames) -> None:
    aws.put_stats(tables.stats, TEN_PLAYERS)
    response = load_handler("leaderboard").handler(http_event(query={"limit": "3"}), CONTEXT)
    assert response["statusCode"] == 200
    assert [p["player"] for p in body(response)["players"]] == ["Tia", "Julie", "Kelby"]


@pytest.mark.usefixtures("lambda_env")
@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "\u00b2"}, {"page": "2"}])
def test_malformed_query_is_400_with_json_error_naming_the_parameter(
    query: dict[str, str],
) -> None:
    response = load_handler("leaderboard").handler(http_event(query=query), CONTEXT)
    assert response["statusCode"] == 400
    assert next(iter(query)) in body(response)["error"]


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
    assert "busy" in body(response)["error"]


@pytest.mark.usefixtures("lambda_env")
def test_a_defect_is_a_clean_503_with_its_traceback_logged_fault_injected(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    leaderboard = load_handler("leaderboard")

    def defect() -> None:
        raise RuntimeError("a bug")

    leaderboard.leaderboard.read = defect
    response = leaderboard.handler(http_event(), CONTEXT)
    assert response["statusCode"] == 503
    assert response["headers"]["Retry-After"] == "5"
    assert "RuntimeError: a bug" in caplog.text
    assert metrics_of(capfd.readouterr().out)["BusyAnswers"] == 1


@pytest.mark.usefixtures("lambda_env")
@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_a_json_log_line_with_cache_outcome_and_latency_hits_only_at_debug(
    aws: LocalAws, tables: TableNames, monkeypatch: pytest.MonkeyPatch, level: str
) -> None:
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", level)
    aws.put_stats(tables.stats, TEN_PLAYERS)
    leaderboard = load_handler("leaderboard")
    output = io.StringIO()
    previous = leaderboard.logger.registered_handler.setStream(output)
    try:
        leaderboard.handler(http_event(), CONTEXT)  # a MISS
        leaderboard.handler(http_event(), CONTEXT)  # a HIT
    finally:
        leaderboard.logger.registered_handler.setStream(previous)
    lines = [json.loads(line) for line in output.getvalue().splitlines()]
    served = [line for line in lines if line["message"] == "stats served"]
    assert [line["cache"] for line in served] == (["MISS", "HIT"] if level == "DEBUG" else ["MISS"])
    assert served[0]["cache"] == "MISS"
    assert served[0]["status"] == 200
    assert served[0]["latency_ms"] > 0
    assert served[0]["service"] == "tatourney-leaderboard"
    assert served[0]["function_request_id"] == CONTEXT.aws_request_id


@pytest.mark.usefixtures("lambda_env")
def test_each_answer_prints_its_metrics_in_embedded_metric_format(
    aws: LocalAws, tables: TableNames, capfd: pytest.CaptureFixture[str]
) -> None:
    aws.put_stats(tables.stats, TEN_PLAYERS)
    leaderboard = load_handler("leaderboard")
    capfd.readouterr()

    def metrics_after(event: dict[str, Any]) -> tuple[int, dict[str, float]]:
        status = leaderboard.handler(event, CONTEXT)["statusCode"]
        return status, metrics_of(capfd.readouterr().out)

    status, miss = metrics_after(http_event())
    assert status == 200
    assert miss["Misses"] == 1
    assert miss["ColdStart"] == 1
    assert miss["TableScans"] == 1
    assert 0 < miss["ReadUnits"] < 5
    assert miss["Latency"] > 0
    assert miss["BoardAge"] >= 0
    assert "Hits" not in miss

    status, hit = metrics_after(http_event())
    assert hit["Hits"] == 1
    assert "TableScans" not in hit
    assert "ColdStart" not in hit
    etag = leaderboard.handler(http_event(), CONTEXT)["headers"]["ETag"]
    capfd.readouterr()

    unchanged = http_event()
    unchanged["headers"]["if-none-match"] = etag
    status, not_modified = metrics_after(unchanged)
    assert status == 304
    assert set(not_modified) == {"NotModified", "Latency", "BoardAge"}
    assert not_modified["NotModified"] == 1
    status, bad = metrics_after(http_event(query={"limit": "x"}))
    assert (status, bad["BadRequests"]) == (400, 1)
    status, refused = metrics_after(http_event(method="DELETE"))
    assert (status, refused["BadRequests"]) == (405, 1)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("STATS_TABLE", "", "STATS_TABLE must be set"),
        ("CACHE_ENDPOINTS", "localhost", "CACHE_ENDPOINTS must be host:port"),
        ("CACHE_TTL_SECONDS", "soon", "CACHE_TTL_SECONDS must be an integer"),
        ("LEASE_TTL_SECONDS", "1", "LEASE_TTL_SECONDS must be between 2 and 60"),
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
def test_stats_batch_with_insert_modify_remove_invalidates_once_naming_its_players(
    lambda_env: dict[str, str],
    aws: LocalAws,
    tables: TableNames,
    memcached: Memcached,
    key_prefix: str,
    capfd: pytest.CaptureFixture[str],
) -> None:
    aws.put_stats(tables.stats, TEN_PLAYERS)
    leaderboard, invalidate = load_handler("leaderboard"), load_handler("invalidate")
    assert leaderboard.handler(http_event(), CONTEXT)["headers"]["X-Cache"] == "MISS"
    assert leaderboard.handler(http_event(), CONTEXT)["headers"]["X-Cache"] == "HIT"
    keys, cache = LeaderboardKeys.for_prefix(key_prefix), cache_client(memcached)
    generation = int(cache.get(keys.generation))
    log_before = ChangeLog.decode(cache.get(keys.log))
    assert log_before is not None
    seen = aws.stream_event(tables.stats)["Records"][-1]["dynamodb"]["SequenceNumber"]

    aws.put_stats(tables.stats, [("Mark", 19, 10, 9000), ("Zoe", 1, 1, 100)])
    aws.client.delete_item(TableName=tables.stats, Key={"player": {"S": "Moosa"}})
    batch = aws.stream_event(tables.stats, after=seen)
    assert sorted(r["eventName"] for r in batch["Records"]) == ["INSERT", "MODIFY", "REMOVE"]
    capfd.readouterr()

    assert invalidate.handler(batch, CONTEXT) == {"batchItemFailures": []}
    assert int(cache.get(keys.generation)) == generation + 1, "one bump for the whole batch"
    log = ChangeLog.decode(cache.get(keys.log))
    assert log is not None
    assert log.changed_since(log_before.position) == frozenset({"Mark", "Zoe", "Moosa"})
    assert log.seq == log_before.seq + 1, "one log entry for the whole batch"
    assert metrics_of(capfd.readouterr().out)["Invalidations"] == 1

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
    generation, log = cache.get(keys.generation), cache.get(keys.log)
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
    assert (cache.get(keys.generation), cache.get(keys.log)) == (generation, log)


def test_cache_unreachable_reports_relevant_records_for_retry(
    lambda_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    aws: LocalAws,
    tables: TableNames,
    capfd: pytest.CaptureFixture[str],
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
    output = capfd.readouterr().out
    assert metrics_of(output)["InvalidationFailures"] == 1
    # Said as what it is: a retry to come, not an error that needs anyone.
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    failed = [line for line in lines if line.get("message", "").startswith("invalidation failed")]
    assert [(line["level"], line["message"]) for line in failed] == [
        ("WARNING", "invalidation failed, will be retried")
    ]


@pytest.mark.usefixtures("lambda_env")
def test_records_of_another_shape_are_ignored_never_raised(
    memcached: Memcached, key_prefix: str
) -> None:
    invalidate = load_handler("invalidate")
    keys, cache = LeaderboardKeys.for_prefix(key_prefix), cache_client(memcached)

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(other_records, max_size=5))
    def check(records: list[dict[str, Any]]) -> None:
        before = cache.get(keys.generation)
        response = invalidate.handler({"Records": records}, CONTEXT)
        assert response == {"batchItemFailures": []}
        players = [
            r["dynamodb"]["Keys"]["player"]
            for r in records
            if isinstance(r.get("dynamodb"), dict)
            and isinstance(r["dynamodb"].get("Keys"), dict)
            and r["dynamodb"]["Keys"].get("player", {}) != {}
        ]
        if not players:
            assert cache.get(keys.generation) == before, "nothing to invalidate"

    check()


def test_an_ignored_record_is_logged_and_counted(
    lambda_env: dict[str, str],
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    record = {"eventName": "INSERT", "dynamodb": {"Keys": {"id": {"S": "x"}}}}
    assert load_handler("invalidate").handler({"Records": [record]}, CONTEXT) == {
        "batchItemFailures": []
    }
    assert "stream record ignored: not a stats row change" in caplog.text
    assert metrics_of(capfd.readouterr().out)["IgnoredRecords"] == 1


@pytest.mark.parametrize("tracing", ["false", "true", None], ids=["on", "off", "unset"])
def test_the_tracer_wraps_the_handlers_only_when_tracing_is_on(
    lambda_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    aws: LocalAws,
    tables: TableNames,
    tracing: str | None,
) -> None:
    if tracing is None:
        monkeypatch.delenv("POWERTOOLS_TRACE_DISABLED", raising=False)
    else:
        monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", tracing)
    aws.put_stats(tables.stats, TEN_PLAYERS)
    for name in ("leaderboard", "invalidate", "aggregate"):
        handler = load_handler(name).handler
        # The outermost wrapper's code says whose it is (functools.wraps copies only names).
        wrapped_by_tracer = handler.__code__.co_qualname.startswith("Tracer.")
        assert wrapped_by_tracer is (tracing == "false"), name
    response = load_handler("leaderboard").handler(http_event(), CONTEXT)
    assert response["statusCode"] == 200
