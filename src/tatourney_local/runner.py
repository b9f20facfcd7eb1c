"""`make up`: the whole tournament on one machine, on memcached and DynamoDB Local.

A development server, not a Lambda emulator: it imports the three handlers with the environment
Terraform gives them, serves the site and `GET /stats` (as API Gateway's HTTP API would invoke
`leaderboard`), polls both tables' streams into `aggregate` and `invalidate` with the event source
mappings' semantics (streams.py), and plays games into the games table (simulator.py).

    python -m tatourney_local.runner up [--port 8080] [--games-per-minute 6] ...
    python -m tatourney_local.runner down
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import dataclasses
import importlib
import json
import logging
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email.message import Message
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any
from urllib.parse import parse_qs

import boto3
from aws_lambda_powertools.metrics.provider.cold_start import reset_cold_start_flag

from tatourney.telemetry import service_name
from tatourney_local.faults import ReplicaLag
from tatourney_local.metrics import (
    METRIC_LINES,
    AlarmView,
    CacheNodeStats,
    LocalMetrics,
    RecentEvents,
    alarm_thresholds,
    alarm_views,
    render_page,
)
from tatourney_local.services import (
    LOOPBACK,
    REPO_ROOT,
    DynamoDBLocal,
    Memcached,
    ServiceError,
    lambda_environment,
)
from tatourney_local.simulator import PLAYERS, GameSimulator
from tatourney_local.streams import (
    FailureLog,
    MappingSettings,
    StreamMapping,
    inserts_only,
    local_function_arn,
)
from tatourney_local.tables import TableNames, create_tables

logger = logging.getLogger("tatourney_local.runner")

SITE_DIR = REPO_ROOT / "site"
STATE_DIR = REPO_ROOT / ".local"
PID_FILE_NAME = "up.pid"
READY_TIMEOUT_SECONDS = 120

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
class LocalContext:
    """The parts of Lambda's context object that Powertools and the handlers read."""

    function_name: str
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    timeout_seconds: float = 30.0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return local_function_arn(self.function_name)

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self.started
        return max(int((self.timeout_seconds - elapsed) * 1000), 0)


class LocalFunction:
    """One function's handler module, cold-started with its environment, invoked one at a time
    (like a single warm container: the module's globals are not shared between invocations)."""

    def __init__(
        self,
        name: str,
        environment: Mapping[str, str],
        metrics: Callable[[dict[str, Any]], None] = lambda document: None,
    ) -> None:
        self.name = f"tatourney-{name}"
        self.module = cold_start(name, {**environment, "POWERTOOLS_SERVICE_NAME": self.name})
        self.errors = RecentEvents()  # invocations that raised: Lambda's Errors metric
        self._metrics = metrics  # takes the metric documents the function prints
        self._lock = threading.Lock()

    def invoke(self, event: dict[str, Any]) -> Any:
        with self.invoking(), METRIC_LINES.captured_by(self._metrics):
            try:
                return self.module.handler(event, LocalContext(self.name))
            except Exception:
                self.errors.add()
                raise

    @contextlib.contextmanager
    def invoking(self) -> Iterator[None]:
        """The container to oneself: no invocation runs meanwhile."""
        with self._lock:
            yield


def cold_start(name: str, environment: Mapping[str, str]) -> ModuleType:
    """Import functions/<name>/<name>_handler.py afresh with `environment` set.

    The handlers read their configuration at import, as on a Lambda cold start; the process's
    own environment is restored afterwards, so several stacks (or tests) can share a process.
    What Powertools keeps per process is reset as a new process would have it: the function's
    logger is configured anew (its level from this environment), and its first invocation
    reports a cold start.
    """
    directory = str(REPO_ROOT / "functions" / name)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    module_name = f"{name}_handler"
    saved = dict(os.environ)
    os.environ.update(environment)
    try:
        service = logging.getLogger(service_name(f"tatourney-{name}"))
        for handler in list(service.handlers):
            service.removeHandler(handler)
        service.init = False  # type: ignore[attr-defined]  # Powertools' "configured" mark
        vars(service).pop("powertools_handler", None)
        reset_cold_start_flag()  # type: ignore[no-untyped-call]
        sys.modules.pop(module_name, None)
        return importlib.import_module(module_name)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def http_api_event(
    method: str, target: str, headers: Message, source_ip: str, route: str
) -> dict[str, Any]:
    """The event API Gateway's HTTP API (payload format 2.0) sends for this request."""
    now = time.time()
    raw_path, _, raw_query = target.partition("?")
    lowered: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()  # HTTP APIs lower-case header names and join repeated ones
        lowered[key] = f"{lowered[key]},{value}" if key in lowered else value
    cookies = lowered.pop("cookie", None)
    host = lowered.get("host", LOOPBACK)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": lowered,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex[:16],
            "routeKey": route,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies.split("; ")
    query = parse_qs(raw_query, keep_blank_values=True)
    if query:
        event["queryStringParameters"] = {key: ",".join(values) for key, values in query.items()}
    return event


LocalPage = Callable[[str], tuple[str, bytes] | None]


def site_and_api_handler(
    api: Callable[[dict[str, Any]], Any],
    site_config: Mapping[str, Any],
    local_page: LocalPage = lambda path: None,
) -> type[SimpleHTTPRequestHandler]:
    """Request handler: `GET /stats` through the leaderboard function, `local_page`'s pages
    (content type and body, for paths under /local/), the rest from site/."""
    config_body = json.dumps(dict(site_config)).encode()

    class SiteAndApi(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(SITE_DIR), **kwargs)

        def do_GET(self) -> None:
            path = self.path.partition("?")[0]
            if path == "/stats":
                self._invoke_api()
            elif path == "/config.json":
                self._send(200, {"Content-Type": "application/json"}, config_body)
            elif path.startswith("/local/") and (page := local_page(path)) is not None:
                self._send(200, {"Content-Type": page[0]}, page[1])
            else:
                super().do_GET()

        def end_headers(self) -> None:
            # The site changes while you edit it; never let the browser keep an old copy.
            # (The API's responses say themselves how they may be kept.)
            if self.path.partition("?")[0] != "/stats":
                self.send_header("Cache-Control", "no-store")
            super().end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("%s %s", self.address_string(), format % args)

        def _invoke_api(self) -> None:
            event = http_api_event(
                "GET", self.path, self.headers, self.client_address[0], "GET /stats"
            )
            try:
                response = api(event)
            except Exception:
                # What API Gateway answers when the integration fails.
                logger.exception("leaderboard failed")
                message = b'{"message":"Internal Server Error"}'
                self._send(500, {"Content-Type": "application/json"}, message)
                return
            body = response.get("body", "")
            payload = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
            headers = {name: str(value) for name, value in response.get("headers", {}).items()}
            self._send(int(response.get("statusCode", 200)), headers, payload)

        def _send(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if status != 304:  # a 304 has no body, and no length of one
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return SiteAndApi


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
    replica_lag_ms: int = 0  # the replica-lag fault on the functions' DynamoDB clients; 0: off


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
        self.replica_lag: ReplicaLag | None = None  # --replica-lag-ms
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
        if options.replica_lag_ms:
            # On a new default session before the functions' clients exist, so they all get it;
            # `client` (created before) reads the previous versions consistently.
            self.replica_lag = ReplicaLag(
                options.replica_lag_ms / 1000, client, [options.tables.stats]
            )
            self._cleanup.callback(setattr, boto3, "DEFAULT_SESSION", boto3.DEFAULT_SESSION)
            boto3.DEFAULT_SESSION = boto3.Session()
            self.replica_lag.install(boto3.DEFAULT_SESSION.events)

        environment = lambda_environment(
            self.cache_endpoints,
            self.dynamodb.endpoint_url,
            options.tables.games,
            options.tables.stats,
        )
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
        if path == "/local/metrics":
            page = render_page(self.alarm_views(), self.metrics.by_service())
            return "text/html; charset=utf-8", page.encode()
        if path == "/local/metrics.json":
            body = {
                "alarms": [
                    dataclasses.asdict(view) | {"state": view.state} for view in self.alarm_views()
                ],
                "functions": self.metrics.by_service(),
            }
            return "application/json", json.dumps(body).encode()
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

    def pids(self) -> list[tuple[str, int]]:
        return [
            ("runner", os.getpid()),
            *(("memcached", server.process.pid) for server in self.memcached),
            ("dynamodb-local", self.dynamodb.process.pid),
        ]


# The command line ----------------------------------------------------------------------------

# What each process in the PID file runs, checked before signalling it: a PID may be reused.
PROGRAMS = {
    "runner": "tatourney_local.runner",
    "memcached": "memcached",
    "dynamodb-local": "DynamoDBLocal.jar",
}


def write_pid_file(path: Path, pids: list[tuple[str, int]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{name} {pid}\n" for name, pid in pids))


def read_pid_file(path: Path) -> list[tuple[str, int]]:
    pids = []
    for line in path.read_text().splitlines():
        name, _, pid = line.partition(" ")
        if name in PROGRAMS and pid.isdigit():
            pids.append((name, int(pid)))
    return pids


def running(pid: int, program: str) -> bool:
    """Whether `pid` is alive (not a zombie) and still runs `program`."""
    proc = Path("/proc") / str(pid)
    try:
        cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z" and program in cmdline


def stop_pid(pid: int, program: str, grace: float) -> None:
    """TERM, then KILL after `grace` seconds; nothing if the PID no longer runs `program`."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not running(pid, program):
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and running(pid, program):
            time.sleep(0.1)


def down(state_dir: Path) -> int:
    pid_file = state_dir / PID_FILE_NAME
    if not pid_file.exists():
        print(f"tatourney is not running (no {pid_file})")
        return 0
    pids = read_pid_file(pid_file)
    # The runner stops its own servers; its children are signalled only if it could not.
    for name, pid in sorted(pids, key=lambda entry: entry[0] != "runner"):
        stop_pid(pid, PROGRAMS[name], grace=30 if name == "runner" else 10)
    left = [f"{name} {pid}" for name, pid in pids if running(pid, PROGRAMS[name])]
    if left:
        print(f"still running: {', '.join(left)}", file=sys.stderr)
        return 1
    pid_file.unlink(missing_ok=True)
    print("tatourney stopped")
    return 0


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def _pid_file(path: Path) -> Iterator[None]:
    write_pid_file(path, [("runner", os.getpid())])
    try:
        yield
    finally:
        if path.exists() and ("runner", os.getpid()) in read_pid_file(path):
            path.unlink()


def up(options: Options) -> int:
    # Ctrl-C stops everything, even if this process was started with SIGINT ignored (as a
    # background job is); `make down` sends SIGTERM, which stops it the same way.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    pid_file = options.state_dir / PID_FILE_NAME
    if pid_file.exists() and any(
        running(pid, PROGRAMS[name]) for name, pid in read_pid_file(pid_file)
    ):
        print("tatourney is already running: `make down` first", file=sys.stderr)
        return 1
    stack = Stack(options)
    with _pid_file(pid_file):
        try:
            print("starting memcached, DynamoDB Local, the functions and the seed games...")
            stack.start()
            write_pid_file(pid_file, stack.pids())
            print(stack.describe())
            print(f"ready: {stack.url}", flush=True)
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopping...")
        except (OSError, ServiceError) as error:
            print(f"could not start: {error} (ports are options: see --help)", file=sys.stderr)
            return 1
        finally:
            stack.stop()
    print("stopped")
    return 0


def parse_options(argv: list[str] | None) -> tuple[str, Options]:
    parser = argparse.ArgumentParser(
        prog="python -m tatourney_local.runner", description=__doc__.split("\n\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("up", help="run everything until Ctrl-C or `down`")
    start.add_argument("--host", default=Options.host, help="address to serve on (%(default)s)")
    start.add_argument("--port", type=int, default=Options.port, help="site and API port")
    start.add_argument("--memcached-port", type=int, help="the first node's; default: a free port")
    start.add_argument(
        "--memcached-nodes",
        type=int,
        default=Options.memcached_nodes,
        choices=range(1, 10),
        metavar="N",
        help="memcached nodes, 1-9 (%(default)s), as an ElastiCache cluster of N nodes",
    )
    start.add_argument("--dynamodb-port", type=int, help="default: a free port")
    start.add_argument(
        "--games-per-minute",
        type=float,
        default=Options.games_per_minute,
        help="simulated games a minute, 0 for none (%(default)s)",
    )
    start.add_argument(
        "--seed-rounds",
        type=int,
        default=Options.seed_rounds,
        help="rounds of games played before the site opens, everyone plays in each",
    )
    start.add_argument(
        "--function-log-level",
        default=Options.function_log_level,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="POWERTOOLS_LOG_LEVEL of the functions (INFO shows every invocation)",
    )
    start.add_argument(
        "--replica-lag-ms",
        type=int,
        default=Options.replica_lag_ms,
        help="answer eventually consistent reads of stats rows written within this many "
        "milliseconds with their previous version, as a DynamoDB replica behind would (0: off)",
    )
    stop = commands.add_parser("down", help="stop a running `up`")
    for command in (start, stop):
        command.add_argument(
            "--state-dir",
            type=Path,
            default=Options.state_dir,
            help="where the PID file and the failure log live (%(default)s)",
        )
    args = parser.parse_args(argv)
    if args.command == "down":
        return "down", Options(state_dir=args.state_dir)
    return "up", Options(
        state_dir=args.state_dir,
        host=args.host,
        port=args.port,
        memcached_port=args.memcached_port,
        memcached_nodes=args.memcached_nodes,
        dynamodb_port=args.dynamodb_port,
        games_per_minute=args.games_per_minute,
        seed_rounds=max(args.seed_rounds, 1),
        function_log_level=args.function_log_level,
        replica_lag_ms=max(args.replica_lag_ms, 0),
    )


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("botocore").setLevel(logging.WARNING)
    command, options = parse_options(argv)
    if command == "down":
        return down(options.state_dir)
    return up(options)


if __name__ == "__main__":
    sys.exit(main())
