"""Configuration parsing: defaults, bounds, and errors that name the variable."""

from __future__ import annotations

import contextlib

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

MINIMAL = {"STATS_TABLE": "stats", "GAMES_TABLE": "games", "CACHE_ENDPOINTS": "cache.local:11211"}


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
