"""Configuration parsing: defaults, bounds, and errors that name the variable."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tatourney.config import (
    FUNCTION_VARIABLES,
    AggregateConfig,
    ConfigError,
    InvalidateConfig,
    LeaderboardConfig,
)

MINIMAL = {
    "STATS_TABLE": "stats",
    "GAMES_TABLE": "games",
    "CACHE_ENDPOINTS": "cache.local:11211",
    "FAILURE_DESTINATION": "file:///var/tatourney/failures.jsonl",
}


def test_defaults() -> None:
    config = LeaderboardConfig.from_env(MINIMAL)
    assert config.cache.endpoints == (("cache.local", 11211),)
    assert config.cache.key_prefix == "tatourney"
    assert config.cache.timeout_seconds == 0.25
    assert config.cache.tls is False
    assert config.cache_ttl_seconds == 300
    assert config.stale_ttl_seconds == 86400
    assert config.lease_ttl_seconds == 5
    assert config.lease_wait_seconds == 1.5
    assert config.retry_after_seconds == 5
    assert config.cache_item_limit_bytes == 1 << 20
    assert config.table_max_attempts == 3


def test_several_endpoints() -> None:
    env = {**MINIMAL, "CACHE_ENDPOINTS": "a.example:11211, b.example:11212"}
    assert InvalidateConfig.from_env(env).cache.endpoints == (
        ("a.example", 11211),
        ("b.example", 11212),
    )


@pytest.mark.parametrize(
    "value", ["", "host", "host:", ":11211", "host:port", "host:70000", "a:1,,b:2"]
)
def test_bad_endpoints_name_the_variable(value: str) -> None:
    with pytest.raises(ConfigError, match="CACHE_ENDPOINTS"):
        InvalidateConfig.from_env({**MINIMAL, "CACHE_ENDPOINTS": value})


@given(st.sampled_from(LeaderboardConfig.VARIABLES[1:]), st.text(max_size=8))
def test_any_value_parses_or_raises_an_error_naming_its_variable(name: str, value: str) -> None:
    with contextlib.suppress(ConfigError):
        LeaderboardConfig.from_env({**MINIMAL, name: value})
        return
    with pytest.raises(ConfigError, match=name):
        LeaderboardConfig.from_env({**MINIMAL, name: value})


@pytest.mark.parametrize(("value", "tls"), [("true", True), ("TRUE", True), ("false", False)])
def test_cache_tls_is_a_boolean(value: str, tls: bool) -> None:
    assert InvalidateConfig.from_env({**MINIMAL, "CACHE_TLS": value}).cache.tls is tls


@pytest.mark.parametrize("value", ["yes", "1", "on", "tru"])
def test_cache_tls_rejects_anything_but_true_or_false(value: str) -> None:
    with pytest.raises(ConfigError, match="CACHE_TLS must be true or false"):
        InvalidateConfig.from_env({**MINIMAL, "CACHE_TLS": value})


def test_aggregate_needs_both_tables() -> None:
    with pytest.raises(ConfigError, match="GAMES_TABLE must be set"):
        AggregateConfig.from_env({"STATS_TABLE": "stats"})


@pytest.mark.parametrize(
    ("url", "destination"),
    [
        ("https://sqs.us-east-1.amazonaws.com/123456789012/failures", None),
        ("http://localhost.localstack.cloud:4566/000000000000/failures", None),
        ("file:///var/tatourney/failures.jsonl", Path("/var/tatourney/failures.jsonl")),
        ("file:///tmp/my%20stack/f%C3%A9.jsonl", Path("/tmp/my stack/f\u00e9.jsonl")),
        ("file://localhost/tmp/failures.jsonl", Path("/tmp/failures.jsonl")),
    ],
)
def test_failure_destination_is_a_queue_url_or_a_files_path(
    url: str, destination: Path | None
) -> None:
    parsed = AggregateConfig.from_env({**MINIMAL, "FAILURE_DESTINATION": url}).failure_destination
    assert parsed == (destination or url)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "failures.jsonl",
        "/var/tatourney/failures.jsonl",
        "file:failures.jsonl",
        "file://host/failures.jsonl",
        "file:///",
        "file:///var/tatourney/",
        "file:///var/fail%00ures.jsonl",
        "file:///var/failures.jsonl?x=1",
        "https:///no-host",
        "http://[::1",
        "ftp://example.com/failures",
        "arn:aws:sqs:us-east-1:123456789012:failures",
    ],
)
def test_a_bad_failure_destination_fails_naming_the_variable(url: str) -> None:
    with pytest.raises(ConfigError, match="FAILURE_DESTINATION must be"):
        AggregateConfig.from_env({**MINIMAL, "FAILURE_DESTINATION": url})


def test_aggregate_needs_a_failure_destination() -> None:
    env = {name: value for name, value in MINIMAL.items() if name != "FAILURE_DESTINATION"}
    with pytest.raises(ConfigError, match="FAILURE_DESTINATION must be set"):
        AggregateConfig.from_env(env)


@given(st.text(st.characters(codec="utf-8", exclude_characters="\x00/"), min_size=1))
def test_a_files_uri_gives_back_its_path(name: str) -> None:
    path = Path("/var") / name
    url = path.as_uri()
    assert AggregateConfig.from_env(
        {**MINIMAL, "FAILURE_DESTINATION": url}
    ).failure_destination == (path)


@given(st.text())
def test_any_failure_destination_parses_or_raises_an_error_naming_it(url: str) -> None:
    with contextlib.suppress(ConfigError):
        AggregateConfig.from_env({**MINIMAL, "FAILURE_DESTINATION": url})
        return
    with pytest.raises(ConfigError, match="FAILURE_DESTINATION"):
        AggregateConfig.from_env({**MINIMAL, "FAILURE_DESTINATION": url})


def test_variables_listed_per_function_are_the_ones_read() -> None:
    # Every listed variable changes the parsed configuration (or its validation) when set.
    for function, config in (
        ("leaderboard", LeaderboardConfig),
        ("aggregate", AggregateConfig),
        ("invalidate", InvalidateConfig),
    ):
        baseline = config.from_env(MINIMAL)
        for name in FUNCTION_VARIABLES[function]:
            value = "true" if name == "CACHE_TLS" else "7"
            try:
                changed = config.from_env({**MINIMAL, name: value})
            except ConfigError:
                continue
            assert changed != baseline, f"{function} ignores {name}"


STREAM = "arn:aws:dynamodb:eu-west-1:123456789012:table/demo-stats/stream/2026-12-06T15:00:00.000"
RECREATED = (
    "arn:aws:dynamodb:eu-west-1:123456789012:table/demo-stats/stream/2026-12-06T16:30:00.000"
)


def test_the_key_prefix_carries_the_stats_tables_stream_so_a_recreated_table_has_new_keys() -> None:
    env = {**MINIMAL, "CACHE_KEY_PREFIX": "demo"}
    first = LeaderboardConfig.from_env({**env, "STATS_STREAM_ARN": STREAM}).cache.key_prefix
    again = LeaderboardConfig.from_env({**env, "STATS_STREAM_ARN": STREAM}).cache.key_prefix
    recreated = LeaderboardConfig.from_env({**env, "STATS_STREAM_ARN": RECREATED}).cache.key_prefix
    assert first == again
    assert first.startswith("demo.")
    assert recreated != first
    # The invalidate function derives the same prefix from the same variables.
    invalidate = InvalidateConfig.from_env({**env, "STATS_STREAM_ARN": STREAM})
    assert invalidate.cache.key_prefix == first


def test_a_stats_stream_arn_that_is_not_one_is_named() -> None:
    with pytest.raises(ConfigError, match="STATS_STREAM_ARN must be a DynamoDB stream ARN"):
        LeaderboardConfig.from_env({**MINIMAL, "STATS_STREAM_ARN": "demo-stats"})
