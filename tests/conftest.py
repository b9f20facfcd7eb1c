"""Session-wide local services: a real memcached, DynamoDB Local and LocalStack on free
loopback ports (each started on first use, stopped at the end).

Tests that use `aws` run against DynamoDB Local; those marked `localstack` run against both
DynamoDB Local and LocalStack (`--aws-backends` narrows that, as `make test-localstack` does).
LocalStack is the one at LOCALSTACK_ENDPOINT if set, else started (tatourney_local.localstack).
memcached is always the local one.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tatourney.cache import Cache
from tatourney.config import LeaderboardConfig
from tatourney.leaderboard import Leaderboard, Served, Source
from tatourney.table import StatsTable, dynamodb_client
from tatourney_local.localstack import LocalStack
from tatourney_local.services import DynamoDBLocal, Memcached, lambda_environment
from tatourney_local.tables import TableNames, create_tables
from tests.localstack.stack import localstack_session, terraform_found, terraform_stack
from tests.support import LocalAws

# The Terraform-deployed stack, shared by tests/localstack and tests/terraform_apply.
__all__ = ["localstack_session", "terraform_found", "terraform_stack"]

# No per-example time limit: a property either holds or not, and a machine busy with the other
# tests' servers must not turn a slow example into a failure (speed is for `make bench`).
settings.register_profile("tatourney", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("tatourney")


class FaultMatrix:
    """Rows of the fault matrix (fault x nodes -> 5xx, stale reads, staleness), from the tests
    of tests/cluster; printed at the end of the run."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)

    def markdown(self) -> str:
        rows = sorted(self.rows, key=lambda row: (row["fault"], row["nodes"]))
        header = list(rows[0])
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(str(row[name]) for name in header) + " |" for row in rows]
        return "\n".join(lines) + "\n"


FAULT_MATRIX = pytest.StashKey[FaultMatrix]()


@pytest.fixture(scope="session")
def fault_matrix(pytestconfig: pytest.Config) -> FaultMatrix:
    return pytestconfig.stash.setdefault(FAULT_MATRIX, FaultMatrix())


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    matrix = config.stash.get(FAULT_MATRIX, None)
    if matrix is None or not matrix.rows:
        return
    terminalreporter.section("fault matrix (tests/cluster)")
    terminalreporter.write(matrix.markdown())
    path: Path | None = config.getoption("--fault-matrix")
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(matrix.markdown())
        terminalreporter.write_line(f"written to {path}")


@pytest.fixture(scope="session")
def memcached() -> Iterator[Memcached]:
    server = Memcached.start()
    yield server
    server.stop()


BACKENDS = ("dynamodb-local", "localstack")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fault-matrix",
        metavar="PATH",
        type=Path,
        help="also write the fault matrix (tests/cluster) to PATH, as a Markdown table",
    )
    parser.addoption(
        "--aws-backends",
        default=",".join(BACKENDS),
        help="comma-separated backends the tests marked localstack run against "
        f"(default: {','.join(BACKENDS)})",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Each test marked `localstack` that uses `aws` runs once per backend."""
    if "aws" in metafunc.fixturenames and metafunc.definition.get_closest_marker("localstack"):
        backends = metafunc.config.getoption("--aws-backends").split(",")
        unknown = set(backends) - set(BACKENDS)
        if unknown:
            raise pytest.UsageError(f"--aws-backends: unknown {sorted(unknown)}; use {BACKENDS}")
        metafunc.parametrize("aws", backends, indirect=True)


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[LocalAws]:
    server = DynamoDBLocal.start()
    yield LocalAws(server.endpoint_url)
    server.stop()


@pytest.fixture(scope="session")
def localstack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """LocalStack for the session; its files (and log, localstack.log) in a temporary folder."""
    service = LocalStack.start(tmp_path_factory.mktemp("localstack"))
    yield service
    service.stop()


@pytest.fixture(scope="session")
def localstack_aws(localstack: LocalStack) -> LocalAws:
    return LocalAws(localstack.endpoint_url, localstack.session())


@pytest.fixture
def aws(request: pytest.FixtureRequest) -> LocalAws:
    """The backend of this test: DynamoDB Local unless parametrized (pytest_generate_tests)."""
    backend = getattr(request, "param", "dynamodb-local")
    fixture = "localstack_aws" if backend == "localstack" else "dynamodb_local"
    local_aws: LocalAws = request.getfixturevalue(fixture)
    return local_aws


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
    """A leaderboard reader as a warm Lambda container has it: its own cache and table clients,
    and every request it made of the table (operation name and parameters)."""

    leaderboard: Leaderboard
    table_client: Any
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def scans(self) -> list[dict[str, Any]]:
        """The Scan requests (full-scan pages and sweep pages alike)."""
        return [params for operation, params in self.requests if operation == "Scan"]

    @property
    def players_read(self) -> list[set[str]]:
        """The players each BatchGetItem request asked for."""
        return [
            {key["player"]["S"] for keys in params["RequestItems"].values() for key in keys["Keys"]}
            for operation, params in self.requests
            if operation == "BatchGetItem"
        ]

    def reads_from_the_table(self, times: int) -> list[Served]:
        """`times` reads, each asserted to be answered from the table (a MISS: nothing cached)."""
        answers = [self.leaderboard.read() for _ in range(times)]
        assert all(isinstance(a, Served) and a.source is Source.MISS for a in answers), answers
        return [a for a in answers if isinstance(a, Served)]


@pytest.fixture
def make_reader(lambda_env: dict[str, str]) -> Callable[..., Reader]:
    """Build readers from the functions' own configuration code; keyword overrides for settings."""

    def build(
        cache_endpoints: str | None = None,
        clock: Callable[[], float] = time.time,
        settle: bool = True,
        **overrides: Any,
    ) -> Reader:
        env = dict(lambda_env)
        if cache_endpoints is not None:
            env["CACHE_ENDPOINTS"] = cache_endpoints
        config = dataclasses.replace(LeaderboardConfig.from_env(env), **overrides)
        client = dynamodb_client(config.table_max_attempts, env)
        reader = Reader(
            Leaderboard(
                Cache.connect(config.cache),
                StatsTable(lambda: client, config.stats_table),
                config,
                clock,
                settle,
            ),
            client,
        )

        def record(model: Any, params: dict[str, Any], **_: Any) -> None:
            reader.requests.append((model.name, params))

        client.meta.events.register("provide-client-params.dynamodb.*", record)
        return reader

    return build
