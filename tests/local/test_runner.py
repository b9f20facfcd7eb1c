"""The local runner over HTTP: the site, `GET /stats` through the leaderboard function, a game
reaching the page through both streams, and `up`/`down` leaving no process or port behind."""

from __future__ import annotations

import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from email.message import Message
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from tatourney.board import Board, RenderedBoard
from tatourney.config import CacheConfig
from tatourney.leaderboard import Served, Source
from tatourney.responses import Page, leaderboard_response
from tatourney.table import StatsRow
from tatourney_local.http_api import (
    CONTENT_SECURITY_POLICY,
    http_api_event,
    site_and_api_handler,
)
from tatourney_local.runner import PROGRAMS, read_pid_file, running
from tatourney_local.simulator import PLAYERS, record_game
from tatourney_local.stack import Stack
from tests.local.conftest import WAIT_SECONDS, wait_until
from tests.local.processes import get, run, started_until_ready
from tests.support import EVENTS


def stats(stack: Stack, query: str = "") -> tuple[int, Message, Any]:
    status, headers, body = get(f"{stack.url}stats{query}")
    return status, headers, json.loads(body)


def test_stats_returns_the_leaderboard_handlers_answer_unchanged(stack: Stack) -> None:
    status, headers, first = stats(stack)
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert headers["Cache-Control"] == "public, max-age=0, s-maxage=5"
    assert headers["X-Cache"] in ("HIT", "MISS")
    assert sorted(p["player"] for p in first["players"]) == sorted(PLAYERS)
    assert [p["rank"] for p in first["players"]] == list(range(1, 11))

    status, headers, second = stats(stack)
    assert headers["X-Cache"] == "HIT"
    assert second == first


def test_a_304_passes_through_as_http(stack: Stack) -> None:
    status, headers, _ = get(f"{stack.url}stats")
    status, unchanged_headers, body = get(f"{stack.url}stats", **{"If-None-Match": headers["ETag"]})
    assert status == 304
    assert body == b""
    assert unchanged_headers["ETag"] == headers["ETag"]
    assert "Content-Length" not in unchanged_headers


@pytest.fixture
def server_of(request: pytest.FixtureRequest) -> Iterator[Callable[..., str]]:
    """Serve the site and an API answering with what a function returned: its base URL."""
    servers: list[ThreadingHTTPServer] = []

    def serve(api: Callable[[dict[str, Any]], Any]) -> str:
        server = ThreadingHTTPServer(("127.0.0.1", 0), site_and_api_handler(api, {}))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_gzipped_answer_passes_through_as_http(server_of: Callable[..., str]) -> None:
    rows = [StatsRow(f"player-{n:04}", 10, n % 10, 5000) for n in range(300)]
    board = RenderedBoard(1, 1.0, Board.of(rows))
    answer = Served(board, Source.HIT)
    url = server_of(
        lambda event: leaderboard_response(
            answer, Page(0, 100), None, event["headers"].get("accept-encoding")
        )
    )

    _, _, plain = get(f"{url}stats")
    status, headers, zipped = get(f"{url}stats", **{"Accept-Encoding": "gzip"})

    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert int(headers["Content-Length"]) == len(zipped) < len(plain)
    assert gzip.decompress(zipped) == plain
    assert len(json.loads(plain)["players"]) == 100


def test_query_parameters_reach_the_handler(stack: Stack) -> None:
    status, _, top = stats(stack, "?limit=3")
    assert status == 200
    assert [p["rank"] for p in top["players"]] == [1, 2, 3]
    status, _, error = stats(stack, "?limit=abc")
    assert status == 400
    assert "limit" in error["error"]


def test_the_site_and_its_config_are_served(stack: Stack) -> None:
    status, headers, page = get(stack.url)
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert b'src="app.js"' in page
    status, headers, script = get(f"{stack.url}app.js")
    assert status == 200
    assert "javascript" in headers["Content-Type"]
    assert b"textContent" in script
    status, _, config = get(f"{stack.url}config.json")
    assert json.loads(config) == {"api_base_url": ""}
    status, _, _ = get(f"{stack.url}..%2Fpyproject.toml")
    assert status == 404


def request(url: str, method: str, body: bytes | None = None) -> tuple[int, Message, bytes]:
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, data=body, method=method), timeout=30
        ) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"])
def test_every_other_method_reaches_the_functions_405_json(stack: Stack, method: str) -> None:
    status, headers, body = request(
        f"{stack.url}stats", method, b"{}" if method == "POST" else None
    )
    assert status == 405
    assert headers["Allow"] == "GET"
    assert headers["Content-Type"] == "application/json"
    assert "GET" in json.loads(body)["error"]
    assert headers["apigw-requestid"]
    assert "Server" not in headers


def test_head_answers_the_functions_headers_without_a_body(stack: Stack) -> None:
    _, get_headers, get_body = request(f"{stack.url}stats", "GET")
    status, headers, body = request(f"{stack.url}stats", "HEAD")
    # The function sees HEAD, as API Gateway's ANY route passes it on, and answers 405; the
    # answer keeps its headers and loses its body, as HTTP has it for HEAD.
    assert status == 405
    assert headers["Allow"] == "GET"
    assert int(headers["Content-Length"]) > 0
    assert body == b""
    assert len(get_body) == int(get_headers["Content-Length"]) > 0
    # On the wire: nothing after the headers (a client does not read a HEAD answer's body, so
    # only the raw bytes show one sent by mistake).
    port = int(stack.url.rsplit(":", 1)[1].strip("/"))
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(b"HEAD /stats HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, after = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 405")
    assert after == b""


def test_the_site_is_served_with_its_content_security_policy_and_the_api_without(
    stack: Stack,
) -> None:
    for path in ("", "app.js", "style.css", "config.json", "local/metrics"):
        status, headers, _ = get(f"{stack.url}{path}")
        assert status == 200, path
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, path
        assert headers["Cache-Control"] == "no-store", path
    _, headers, _ = get(f"{stack.url}stats")
    assert "Content-Security-Policy" not in headers
    status, headers, _ = request(stack.url, "POST", b"x")
    assert status == 405
    assert headers["Allow"] == "GET, HEAD"


def listening_addresses(port: int) -> set[str]:
    """The addresses sockets listen on at `port`, from the kernel's tables (as `ss -ltn`)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


# 127.0.0.1 as /proc/net/tcp writes it, and as tcp6 writes its IPv4-mapped form (::ffff:127.0.0.1).
LOOPBACK_LISTENERS = {"0100007F", "0000000000000000FFFF00000100007F"}


def test_every_server_of_the_stack_listens_on_loopback_only(stack: Stack) -> None:
    ports = {
        "DynamoDB Local": stack.dynamodb.port,
        "site and API": int(stack.url.rsplit(":", 1)[1].strip("/")),
        **{f"memcached {server.endpoint}": server.port for server in stack.memcached},
    }
    for name, port in ports.items():
        addresses = listening_addresses(port)
        assert addresses, f"{name} is not listening on {port}"
        assert addresses <= LOOPBACK_LISTENERS, f"{name} listens on {addresses}"


def test_a_game_written_to_games_changes_stats_once_the_cache_is_invalidated(
    stack: Stack,
) -> None:
    stats(stack)
    _, headers, before = stats(stack)
    assert headers["X-Cache"] == "HIT"
    row = {p["player"]: p for p in before["players"]}
    winner, loser = before["players"][-1]["player"], before["players"][0]["player"]

    games_table = stack.options.tables.games
    record_game(stack.dynamodb.client(), games_table, 90_001, {winner: 700, loser: 300})

    answers: list[tuple[str, dict[str, Any]]] = []

    def has_played(answer: tuple[str, dict[str, Any]], player: str) -> bool:
        return bool(answer[1][player]["games"] == row[player]["games"] + 1)

    # Each player's row is its own change, invalidated in its own time: wait for both.
    def changed() -> bool:
        _, headers, body = stats(stack)
        answers.append((headers["X-Cache"], {p["player"]: p for p in body["players"]}))
        return has_played(answers[-1], winner) and has_played(answers[-1], loser)

    wait_until(changed)
    # The first answer with each new row is a rebuild: the stats stream invalidated the cache
    # (its TTL is minutes, so expiry cannot be what made it change).
    for player in (winner, loser):
        source, _ = next(answer for answer in answers if has_played(answer, player))
        assert source == "MISS", f"the first answer with {player}'s game is a rebuild"
    after = answers[-1][1]
    assert after[winner]["wins"] == row[winner]["wins"] + 1
    assert after[loser]["games"] == row[loser]["games"] + 1
    assert after[loser]["wins"] == row[loser]["wins"]
    assert stack.failure_log.entries() == []


def test_the_checker_checks_a_game_from_the_stats_stream_and_finds_it_consistent(
    stack: Stack,
) -> None:
    _, _, before = stats(stack)
    first, second = before["players"][0]["player"], before["players"][1]["player"]
    record_game(
        stack.dynamodb.client(), stack.options.tables.games, 90_002, {first: 600, second: 400}
    )

    def checker_figures() -> dict[str, Any]:
        stats(stack)  # a reader rebuilds the board, as players' browsers do
        figures: dict[str, Any] = json.loads(get(f"{stack.url}local/metrics.json")[2])
        return figures

    def checked() -> bool:
        checker = checker_figures()["functions"].get("tatourney-checker", {})
        counted: float = sum(
            checker.get(name, {"sum": 0})["sum"] for name in ("Consistent", "NotYetRebuilt")
        )
        return counted >= 2

    # The checker's mapping gathers records for 30 s (its batching window) before invoking it.
    wait_until(checked)
    figures = checker_figures()
    assert figures["functions"]["tatourney-checker"].get("Inconsistent", {"sum": 0})["sum"] == 0
    [alarm] = [a for a in figures["alarms"] if a["alarm"] == "inconsistent-answers"]
    assert (alarm["figure"], alarm["state"]) == (0, "OK")


def test_the_event_has_the_shape_api_gateway_sends(stack: Stack) -> None:
    headers = Message()
    headers["Host"] = "127.0.0.1:8080"
    headers["User-Agent"] = "curl/8"
    headers["Accept"] = "application/json"
    event = http_api_event("GET", "/stats?limit=2&limit=3", headers, "127.0.0.1", "GET /stats")

    recorded = json.loads((EVENTS / "http_api_get_stats.json").read_text())
    assert set(event) >= set(recorded)
    assert set(event["requestContext"]) == set(recorded["requestContext"])
    assert set(event["requestContext"]["http"]) == set(recorded["requestContext"]["http"])
    parsed = APIGatewayProxyEventV2(event)
    assert parsed.request_context.http.method == "GET"
    assert parsed.raw_path == "/stats"
    assert parsed.query_string_parameters == {"limit": "2,3"}  # HTTP APIs join repeated values
    assert parsed.headers["user-agent"] == "curl/8"


# `up` and `down` as a user runs them ------------------------------------------------------------


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def runner(command: str, *options: str, state_dir: Path) -> list[str]:
    """The command line `make up` / `make down` run, with a state folder of the test's own."""
    module = ["-m", "tatourney_local.runner"]
    return [sys.executable, *module, command, *options, "--state-dir", str(state_dir)]


Pids = list[tuple[str, int]]


@pytest.fixture
def runner_up(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[subprocess.Popen[str], str, Pids]]:
    """Start `runner up` on free ports with the memcached nodes the test asks for (indirect
    parameter, default 1); yields the process, its URL and its PID file's entries."""
    nodes = str(getattr(request, "param", 1))
    options = ["--port", "0", "--games-per-minute", "120", "--seed-rounds", "1"]
    options += ["--memcached-nodes", nodes]
    with started_until_ready(runner("up", *options, state_dir=tmp_path), tmp_path) as (
        process,
        url,
    ):
        yield process, url, read_pid_file(tmp_path / "up.pid")


def ports_of(pids: Pids) -> list[int]:
    """The TCP ports the processes listen on, from /proc (what `ss -ltnp` shows)."""
    inodes: set[str] = set()
    for _, pid in pids:
        for fd in (Path("/proc") / str(pid) / "fd").iterdir():
            try:
                target = os.readlink(fd)
            except FileNotFoundError:  # closed since listed: the running games open and close
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    ports = []
    for line in (
        Path("/proc/net/tcp").read_text().splitlines()[1:]
        + Path("/proc/net/tcp6").read_text().splitlines()[1:]
    ):
        fields = line.split()
        if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
            ports.append(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


@pytest.mark.parametrize(
    ("runner_up", "stop_with"),
    [(3, "down"), (1, "ctrl-c")],
    ids=["3-memcached-nodes-down", "1-memcached-node-ctrl-c"],
    indirect=["runner_up"],
)
def test_up_serves_ten_players_and_stopping_leaves_no_process_or_port(
    runner_up: tuple[subprocess.Popen[str], str, Pids], tmp_path: Path, stop_with: str
) -> None:
    process, url, pids = runner_up
    nodes = 3 if stop_with == "down" else 1
    assert sorted(name for name, _ in pids) == sorted(
        ["runner", "dynamodb-local", *["memcached"] * nodes]
    )
    assert ("runner", process.pid) in pids
    ports = ports_of(pids)
    assert len(ports) >= 2 + nodes  # site, DynamoDB Local, each memcached node
    status, _, body = get(f"{url}stats")
    assert status == 200
    assert sorted(p["player"] for p in json.loads(body)["players"]) == sorted(PLAYERS)

    if stop_with == "down":
        done = run(runner("down", state_dir=tmp_path))
        assert done.returncode == 0, done.stdout + done.stderr
    else:
        process.send_signal(signal.SIGINT)
    assert process.wait(timeout=WAIT_SECONDS) == 0

    assert not [name for name, pid in pids if running(pid, PROGRAMS[name])]
    assert not [port for port in ports if listening(port)]
    assert not (tmp_path / "up.pid").exists()


def test_the_local_metrics_page_shows_what_the_alarms_would_see(stack: Stack) -> None:
    for _ in range(3):
        stats(stack)
    status, headers, body = get(f"{stack.url}local/metrics.json")
    assert status == 200
    figures = json.loads(body)
    leaderboard = figures["functions"]["tatourney-leaderboard"]
    assert leaderboard["Hits"]["sum"] >= 2
    assert leaderboard["Latency"]["samples"] >= 3
    assert figures["units"]["tatourney-leaderboard"]["Latency"] == "Milliseconds"
    # The page's chart: the leaderboard's answers in bars, the newest last.
    chart = figures["history"]["series"]
    assert sum(chart["Hits"]) >= 2
    assert chart["Hits"][-1] >= 1
    alarms = {alarm["alarm"]: alarm for alarm in figures["alarms"]}
    # Other tests may have made 503s in the last minute: the page's figure is what it saw.
    answers = sum(
        leaderboard.get(name, {"sum": 0})["sum"]
        for name in ("Hits", "Misses", "StaleAnswers", "NotModified", "BusyAnswers", "BadRequests")
    )
    busy = alarms["busy-answers"]
    expected = 100 * leaderboard.get("BusyAnswers", {"sum": 0})["sum"] / answers
    assert busy["figure"] == round(expected, 1)
    assert busy["threshold"] == 5
    assert busy["state"] == ("WOULD ALARM" if busy["figure"] > 5 else "OK")
    assert alarms["invalidate-iterator-age"]["figure"] >= 0
    assert alarms["stats-read-throttles"]["state"] == "not measured locally"
    nodes = [name for name in alarms if name.startswith("cache ")]
    assert len(nodes) == 3 * len(stack.memcached)
    assert all(alarms[name]["figure"] is not None for name in nodes), "memcached answered stats"

    status, headers, page = get(f"{stack.url}local/metrics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert b"What the alarms would see" in page
    assert b'src="/local/metrics.js"' in page  # which renders metrics.json (the browser tests)


def test_the_functions_cache_keys_carry_the_stats_tables_stream_as_terraform_sets_them(
    stack: Stack,
) -> None:
    stats_table = stack.dynamodb.client().describe_table(TableName=stack.options.tables.stats)
    environment = {
        "CACHE_KEY_PREFIX": "",
        "STATS_STREAM_ARN": stats_table["Table"]["LatestStreamArn"],
    }
    expected = CacheConfig.from_env({**environment, "CACHE_ENDPOINTS": "127.0.0.1:1"}).key_prefix
    assert expected != "tatourney"
    for name in ("leaderboard", "invalidate"):
        assert stack.functions[name].module.config.cache.key_prefix == expected, name
