"""Session-wide local services: a real memcached and DynamoDB Local on free loopback ports.

Set LOCALSTACK_ENDPOINT (e.g. http://127.0.0.1:4566) to run the same tests against LocalStack's
DynamoDB instead of DynamoDB Local; memcached is always the local one.
"""

from __future__ import annotations

import dataclasses
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tatourney.cache import Cache
from tatourney.config import LeaderboardConfig
from tatourney.leaderboard import Leaderboard, Served, Source
from tatourney.table import StatsTable, dynamodb_client
from tatourney_local.services import DynamoDBLocal, Memcached, lambda_environment
from tatourney_local.tables import TableNames, create_tables
from tests.support import LocalAws


@pytest.fixture(scope="session")
def memcached() -> Iterator[Memcached]:
    server = Memcached.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def aws() -> Iterator[LocalAws]:
    localstack = os.environ.get("LOCALSTACK_ENDPOINT")
    if localstack:
        yield LocalAws(localstack)
        return
    server = DynamoDBLocal.start()
    yield LocalAws(server.endpoint_url)
    server.stop()


@pytest.fixture
def tables(aws: LocalAws) -> TableNames:
    """Fresh tables for one test (unique names: tests never see each other's data)."""
    suffix = uuid.uuid4().hex[:8]
    names = TableNames(games=f"games-{suffix}", stats=f"stats-{suffix}")
    create_tables(aws.client, names)
    return names


@pytest.fixture
def key_prefix() -> str:
    """A cache key prefix of one test's own, so tests share memcached but never keys."""
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def failures_file(tmp_path: Path) -> Path:
    """This test's failure destination (aggregate's FAILURE_DESTINATION), one JSON line each."""
    return tmp_path / "failures.jsonl"


@pytest.fixture
def lambda_env(
    monkeypatch: pytest.MonkeyPatch,
    memcached: Memcached,
    aws: LocalAws,
    tables: TableNames,
    key_prefix: str,
    failures_file: Path,
) -> dict[str, str]:
    """The functions' environment, pointed at this test's tables, key prefix and failure file."""
    env = lambda_environment(memcached.endpoint, aws.endpoint_url, tables.games, tables.stats)
    env["CACHE_KEY_PREFIX"] = key_prefix
    env["FAILURE_DESTINATION"] = failures_file.as_uri()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@dataclass
class Reader:
    """A leaderboard reader as a warm Lambda container has it: its own cache and table clients."""

    leaderboard: Leaderboard
    table_client: Any
    scans: list[float] = field(default_factory=list)

    def reads_from_the_table(self, times: int) -> list[Served]:
        """`times` reads, each asserted to be answered from the table (a MISS: nothing cached)."""
        answers = [self.leaderboard.read() for _ in range(times)]
        assert all(isinstance(a, Served) and a.source is Source.MISS for a in answers), answers
        return [a for a in answers if isinstance(a, Served)]


@pytest.fixture
def make_reader(lambda_env: dict[str, str]) -> Callable[..., Reader]:
    """Build readers from the functions' own configuration code; keyword overrides for settings."""

    def build(cache_endpoints: str | None = None, **overrides: Any) -> Reader:
        env = dict(lambda_env)
        if cache_endpoints is not None:
            env["CACHE_ENDPOINTS"] = cache_endpoints
        config = dataclasses.replace(LeaderboardConfig.from_env(env), **overrides)
        client = dynamodb_client(config.table_max_attempts)
        reader = Reader(
            Leaderboard(
                Cache.connect(config.cache), StatsTable(client, config.stats_table), config
            ),
            client,
        )
        client.meta.events.register(
            "before-call.dynamodb.Scan", lambda **_: reader.scans.append(time.monotonic())
        )
        return reader

    return build
