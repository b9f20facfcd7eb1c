"""Configuration from environment variables, read and validated once at cold start.

A bad or missing value raises ConfigError naming the variable, so a misconfigured function fails
its first invocation with a message that says what to fix instead of failing later, obscurely.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


class ConfigError(ValueError):
    """An environment variable is missing or malformed."""


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} must be set")
    return value


def _integer(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _boolean(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in ("true", "false"):
        raise ConfigError(f"{name} must be true or false, got {raw!r}")
    return raw == "true"


def _endpoints(env: Mapping[str, str], name: str) -> tuple[tuple[str, int], ...]:
    endpoints = []
    for part in _required(env, name).split(","):
        host, sep, port = part.strip().rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"{name} must be host:port[,host:port...], got {part.strip()!r}")
        endpoints.append((host, int(port)))
    return tuple(endpoints)


STREAM_ARN = re.compile(r"^arn:[^:]+:dynamodb:[^:]*:[^:]*:table/[^/]+/stream/\S+$")


def _key_prefix(env: Mapping[str, str], name: str, stream_name: str) -> str:
    """`name`'s prefix, then the identity of the stats table's stream when `stream_name` is set:
    a re-created table gets a new stream ARN (its label is the creation time), so a new stack
    never reads the boards an old one left in a shared cache."""
    prefix = env.get(name, "").strip() or "tatourney"
    # memcached keys are at most 250 bytes, printable ASCII without spaces.
    if len(prefix) > 100 or not all(33 <= ord(c) <= 126 for c in prefix):
        raise ConfigError(f"{name} must be 1-100 printable ASCII characters without spaces")
    stream_arn = env.get(stream_name, "").strip()
    if not stream_arn:
        return prefix
    if not STREAM_ARN.match(stream_arn):
        raise ConfigError(
            f"{stream_name} must be a DynamoDB stream ARN"
            f" (arn:...:dynamodb:region:account:table/name/stream/label), got {stream_arn!r}"
        )
    return f"{prefix}.{hashlib.sha256(stream_arn.encode()).hexdigest()[:12]}"


def _failure_destination(env: Mapping[str, str], name: str) -> str | Path:
    """An SQS queue URL as it is, or the path of a file:// URL."""
    # Only the aggregate function has a failure destination: the other functions' cold starts
    # do not import urllib.request (and http.client, email) for it.
    from urllib.request import url2pathname  # noqa: PLC0415

    url = _required(env, name)
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed IPv6 bracket, say
        parts = None
    if parts and parts.scheme in ("http", "https") and parts.hostname:
        return url
    path = url2pathname(parts.path) if parts else ""
    if (
        parts
        and parts.scheme == "file"
        and parts.netloc in ("", "localhost")
        and path.startswith("/")
        and not path.endswith("/")
        and "\0" not in path
        and not (parts.query or parts.fragment)
    ):
        return Path(path)
    raise ConfigError(
        f"{name} must be an SQS queue URL (https://sqs...) or file:///absolute/path.jsonl,"
        f" got {url!r}"
    )


@dataclass(frozen=True)
class CacheConfig:
    endpoints: tuple[tuple[str, int], ...]
    key_prefix: str
    timeout_seconds: float
    tls: bool

    VARIABLES = (
        "CACHE_ENDPOINTS",
        "CACHE_KEY_PREFIX",
        "CACHE_TIMEOUT_MS",
        "CACHE_TLS",
        "STATS_STREAM_ARN",
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> CacheConfig:
        return cls(
            endpoints=_endpoints(env, "CACHE_ENDPOINTS"),
            key_prefix=_key_prefix(env, "CACHE_KEY_PREFIX", "STATS_STREAM_ARN"),
            timeout_seconds=_integer(env, "CACHE_TIMEOUT_MS", 250, 10, 10_000) / 1000,
            tls=_boolean(env, "CACHE_TLS", default=False),
        )


@dataclass(frozen=True)
class LeaderboardConfig:
    stats_table: str
    cache: CacheConfig
    cache_ttl_seconds: int
    stale_ttl_seconds: int
    lease_ttl_seconds: int
    lease_wait_seconds: float
    retry_after_seconds: int
    cache_item_limit_bytes: int
    table_max_attempts: int

    VARIABLES = (
        "STATS_TABLE",
        *CacheConfig.VARIABLES,
        "CACHE_TTL_SECONDS",
        "STALE_TTL_SECONDS",
        "LEASE_TTL_SECONDS",
        "LEASE_WAIT_MS",
        "RETRY_AFTER_SECONDS",
        "CACHE_ITEM_LIMIT_BYTES",
        "TABLE_MAX_ATTEMPTS",
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> LeaderboardConfig:
        return cls(
            stats_table=_required(env, "STATS_TABLE"),
            cache=CacheConfig.from_env(env),
            cache_ttl_seconds=_integer(env, "CACHE_TTL_SECONDS", 300, 1, 30 * 86400),
            stale_ttl_seconds=_integer(env, "STALE_TTL_SECONDS", 86400, 1, 30 * 86400),
            # memcached expires items on its own whole-second clock: a lease of N seconds lasts
            # between N - 1 and N, so one of 1 second could be gone at once.
            lease_ttl_seconds=_integer(env, "LEASE_TTL_SECONDS", 5, 2, 60),
            lease_wait_seconds=_integer(env, "LEASE_WAIT_MS", 1500, 0, 30_000) / 1000,
            retry_after_seconds=_integer(env, "RETRY_AFTER_SECONDS", 5, 1, 3600),
            cache_item_limit_bytes=_integer(
                env, "CACHE_ITEM_LIMIT_BYTES", 1 << 20, 1024, 128 << 20
            ),
            table_max_attempts=_integer(env, "TABLE_MAX_ATTEMPTS", 3, 1, 10),
        )


@dataclass(frozen=True)
class AggregateConfig:
    games_table: str
    stats_table: str
    table_max_attempts: int
    failure_destination: str | Path  # where rejected records go: a queue URL or a file's path

    VARIABLES = ("GAMES_TABLE", "STATS_TABLE", "TABLE_MAX_ATTEMPTS", "FAILURE_DESTINATION")

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> AggregateConfig:
        return cls(
            games_table=_required(env, "GAMES_TABLE"),
            stats_table=_required(env, "STATS_TABLE"),
            table_max_attempts=_integer(env, "TABLE_MAX_ATTEMPTS", 3, 1, 10),
            failure_destination=_failure_destination(env, "FAILURE_DESTINATION"),
        )


@dataclass(frozen=True)
class InvalidateConfig:
    cache: CacheConfig

    VARIABLES = CacheConfig.VARIABLES

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> InvalidateConfig:
        return cls(cache=CacheConfig.from_env(env))


@dataclass(frozen=True)
class CheckerConfig:
    cache: CacheConfig
    recheck_seconds: int  # how long a change not yet invalidated is re-checked in a batch

    VARIABLES = (*CacheConfig.VARIABLES, "CHECKER_RECHECK_SECONDS")

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> CheckerConfig:
        return cls(
            cache=CacheConfig.from_env(env),
            recheck_seconds=_integer(env, "CHECKER_RECHECK_SECONDS", 10, 0, 600),
        )


# The variables each function reads (besides Powertools' own POWERTOOLS_*), for the
# Terraform tests to check that every one is set on the deployed function.
FUNCTION_VARIABLES: dict[str, tuple[str, ...]] = {
    "leaderboard": LeaderboardConfig.VARIABLES,
    "aggregate": AggregateConfig.VARIABLES,
    "invalidate": InvalidateConfig.VARIABLES,
    "checker": CheckerConfig.VARIABLES,
}
