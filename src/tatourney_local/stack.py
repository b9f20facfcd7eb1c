"""The local stack's wiring: memcached, DynamoDB Local, the three functions, the stream pollers
with the event source mappings' settings, the game simulator and the HTTP server, started in
order and stopped in reverse."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tatourney_local.http_api import site_and_api_handler
from tatourney_local.lambdas import LocalFunction
from tatourney_local.metrics import (
    AlarmView,
    CacheNodeStats,
    LocalMetrics,
    RecentEvents,
    alarm_thresholds,
    alarm_views,
)
from tatourney_local.services import (
    LOOPBACK,
    REPO_ROOT,
    DynamoDBLocal,
    Memcached,
    lambda_environment,
)
from tatourney_local.simulator import PLAYERS, GameSimulator
from tatourney_local.streams import FailureLog, MappingSettings, StreamMapping, inserts_only
from tatourney_local.tables import TableNames, create_tables

STATE_DIR = REPO_ROOT / ".local"
READY_TIMEOUT_SECONDS = 120
# The local metrics page: a static page and its script and style, fed by /local/metrics.json.
PAGES_DIR = Path(__file__).parent / "pages"
LOCAL_PAGES = {
    "/local/metrics": ("metrics.html", "text/html; charset=utf-8"),
    "/local/metrics.js": ("metrics.js", "text/javascript; charset=utf-8"),
    "/local/metrics.css": ("metrics.css", "text/css; charset=utf-8"),
}
# Its chart: the leaderboard's answers in 10-second bars over the last 5 minutes.
HISTORY_BUCKET_SECONDS = 10.0
HISTORY_BUCKETS = 30

# The event source mappings as modules/functions deploys them (tests/terraform checks): aggregate
# sees only new games (its filter criteria), both report partial failures and bisect on errors;
# aggregate gives up after bounded retries, invalidate only once a record is too old.
AGGREGATE_MAPPING = MappingSettings(
    function_name="tatourney-aggregate",
    batch_size=100,
    bisect_on_error=True,
    maximum_retry_attempts=10,
    maximum_record_age_seconds=86400,
    record_filter=inserts_only,
)
INVALIDATE_MAPPING = MappingSettings(
    function_name="tatourney-invalidate",
    batch_size=100,
    bisect_on_error=True,
    maximum_retry_attempts=-1,
    maximum_record_age_seconds=3600,
)


@dataclass(frozen=True)
class Options:
    host: str = LOOPBACK
    port: int = 8080  # 0: any free port
    memcached_port: int | None = None  # the first node's; None: any free port
    memcached_nodes: int = 1
    dynamodb_port: int | None = None
    games_per_minute: float = 6.0
    seed_rounds: int = 3
    function_log_level: str = "WARNING"
    state_dir: Path = STATE_DIR
    tables: TableNames = field(default_factory=TableNames)


class Stack:
    """Everything `make up` runs; `stop()` undoes `start()` in reverse, by PID and handle."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.failure_log = FailureLog(options.state_dir / "failures.jsonl")
        self.memcached: list[Memcached] = []
        self.dynamodb: DynamoDBLocal
        self.functions: dict[str, LocalFunction] = {}
        self.mappings: list[StreamMapping] = []
        self.metrics = LocalMetrics()
        self.server_errors = RecentEvents()  # 5xx answered to the site: API Gateway's 5xx
        self.simulator: GameSimulator
        self._server: ThreadingHTTPServer
        self._cleanup = contextlib.ExitStack()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        self._cleanup.close()

    def _start(self) -> None:
        options = self.options
        # Bind the site's port first: if it is taken, fail before starting anything else.
        self._server = ThreadingHTTPServer(
            (options.host, options.port),
            site_and_api_handler(self._invoke_leaderboard, {"api_base_url": ""}, self._local_page),
        )
        self._server.daemon_threads = True
        self._cleanup.callback(self._server.server_close)
        for node in range(options.memcached_nodes):
            server = Memcached.start(port=options.memcached_port if node == 0 else None)
            self._cleanup.callback(server.stop)
            self.memcached.append(server)
        self._cache_node_stats = [CacheNodeStats(server.endpoint) for server in self.memcached]
        self._thresholds = alarm_thresholds()
        self.dynamodb = DynamoDBLocal.start(port=options.dynamodb_port)
        self._cleanup.callback(self.dynamodb.stop)
        client = self.dynamodb.client()
        create_tables(client, options.tables)

        environment = lambda_environment(
            self.cache_endpoints,
            self.dynamodb.endpoint_url,
            options.tables.games,
            options.tables.stats,
        )
        # As Terraform sets it: the cache keys carry this stats table's identity.
        stats_table = client.describe_table(TableName=options.tables.stats)["Table"]
        environment["STATS_STREAM_ARN"] = stats_table["LatestStreamArn"]
        environment["POWERTOOLS_LOG_LEVEL"] = options.function_log_level
        environment["FAILURE_DESTINATION"] = self.failure_log.path.resolve().as_uri()
        # The functions print their metrics (embedded metric format) among their log lines; as
        # CloudWatch does, the runner takes them out of each invocation's output, for its page.
        for name in ("leaderboard", "aggregate", "invalidate"):
            self.functions[name] = LocalFunction(name, environment, self.metrics.record)

        for table, function, settings in (
            (options.tables.games, "aggregate", AGGREGATE_MAPPING),
            (options.tables.stats, "invalidate", INVALIDATE_MAPPING),
        ):
            stream_arn = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
            mapping = StreamMapping(
                self.dynamodb.streams_client(),
                stream_arn,
                self.functions[function].invoke,
                settings=settings,
                failure_log=self.failure_log,
            )
            mapping.start()
            self._cleanup.callback(mapping.stop)
            self.mappings.append(mapping)

        self.simulator = GameSimulator(client, options.tables.games, options.games_per_minute)
        seeded = self.simulator.seed(options.seed_rounds)
        self._wait_for_stats(games=2 * len(seeded))
        self._wait_for_invalidations(since=time.monotonic())
        self.simulator.start()
        self._cleanup.callback(self.simulator.stop)

        serving = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, name="http"
        )
        serving.start()
        self._cleanup.callback(serving.join, 10)
        self._cleanup.callback(self._server.shutdown)

    @property
    def cache_endpoints(self) -> str:
        """CACHE_ENDPOINTS: every memcached node, as Terraform lists the ElastiCache nodes."""
        return ",".join(server.endpoint for server in self.memcached)

    def _invoke_leaderboard(self, event: dict[str, Any]) -> Any:
        try:
            response = self.functions["leaderboard"].invoke(event)
        except Exception:
            self.server_errors.add()  # API Gateway answers 500
            raise
        if int(response.get("statusCode", 200)) >= 500:
            self.server_errors.add()
        return response

    def alarm_views(self) -> list[AlarmView]:
        """What the alarms of modules/monitoring would see of this stack, last minute."""
        return alarm_views(
            self.metrics,
            self._thresholds,
            iterator_ages_ms={
                m.settings.function_name.removeprefix("tatourney-"): m.iterator_ages_ms.maximum()
                for m in self.mappings
            },
            failed_records=len(self.failure_log.entries()),
            function_errors={name: f.errors.sum() for name, f in self.functions.items()},
            server_errors=self.server_errors.sum(),
            cache_nodes=self._cache_node_stats,
        )

    def _local_page(self, path: str) -> tuple[str, bytes] | None:
        if path == "/local/metrics.json":
            body = {
                "alarms": [
                    dataclasses.asdict(view) | {"state": view.state} for view in self.alarm_views()
                ],
                "functions": self.metrics.by_service(),
                "units": self.metrics.units(),
                "history": {
                    "bucket_seconds": HISTORY_BUCKET_SECONDS,
                    "series": self.metrics.history(
                        "tatourney-leaderboard",
                        ("Hits", "Misses", "StaleAnswers"),
                        HISTORY_BUCKET_SECONDS,
                        HISTORY_BUCKETS,
                    ),
                },
            }
            return "application/json", json.dumps(body).encode()
        if path in LOCAL_PAGES:
            name, content_type = LOCAL_PAGES[path]
            return content_type, (PAGES_DIR / name).read_bytes()
        return None

    def _wait_for_stats(self, games: int) -> None:
        """Until every seeded game went through the stream into stats: all players, all games."""
        client = self.dynamodb.client()
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while True:
            items = client.scan(TableName=self.options.tables.stats, ConsistentRead=True)["Items"]
            counted = sum(int(item["games"]["N"]) for item in items)
            if len(items) == len(PLAYERS) and counted >= games:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"stats has {len(items)} players and {counted} of {games} game results"
                    f" after {READY_TIMEOUT_SECONDS}s; see the log above"
                )
            time.sleep(0.2)

    def _wait_for_invalidations(self, since: float) -> None:
        """Until the stats changes made before `since` went through their stream to the
        invalidate function, so that the first board served is not invalidated under a reader."""
        invalidating = next(m for m in self.mappings if m.settings is INVALIDATE_MAPPING)
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while not invalidating.caught_up_since(since):
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the stats stream was not read to its end in {READY_TIMEOUT_SECONDS}s"
                )
            time.sleep(0.05)

    def describe(self) -> str:
        tables = self.options.tables
        rate = self.options.games_per_minute
        return "\n".join(
            [
                f"tatourney is running at {self.url}",
                f"  site and GET /stats  {self.url}  (try: curl -i {self.url}stats)",
                *(
                    f"  memcached            {server.endpoint} (pid {server.process.pid})"
                    for server in self.memcached
                ),
                f"  DynamoDB Local       {self.dynamodb.endpoint_url}"
                f" (pid {self.dynamodb.process.pid}), tables {tables.games}, {tables.stats}",
                "  stream pollers       games -> aggregate (INSERT only), stats -> invalidate",
                f"  local metrics        {self.url}local/metrics  (what the alarms would see)",
                f"  game simulator       {f'{rate:g} games a minute' if rate > 0 else 'off'}",
                f"  failure log          {self.failure_log.path}",
                "Ctrl-C (or `make down` from another shell) stops all of it.",
            ]
        )

    def endpoints(self) -> dict[str, str]:
        """How to reach the running stack: the site, DynamoDB Local and the games table."""
        return {
            "site": self.url,
            "dynamodb": self.dynamodb.endpoint_url,
            "games_table": self.options.tables.games,
        }

    def pids(self) -> list[tuple[str, int]]:
        return [
            ("runner", os.getpid()),
            *(("memcached", server.process.pid) for server in self.memcached),
            ("dynamodb-local", self.dynamodb.process.pid),
        ]
