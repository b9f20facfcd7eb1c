"""`make up` and `make down`: the command line of the local stack and its PID file.

`up` starts the whole tournament on one machine (stack.py: memcached, DynamoDB Local, the
functions as lambdas.py emulates them, the stream pollers, the game simulator and the HTTP API of
http_api.py), writes the PIDs it runs and waits for Ctrl-C or `down`; `down` stops those PIDs.

    python -m tatourney_local.runner up [--port 8080] [--games-per-minute 6] ...
    python -m tatourney_local.runner down
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from tatourney_local.services import ServiceError, dynamodb_client
from tatourney_local.simulator import MAX_SCORE, PLAYERS, record_game
from tatourney_local.stack import Options, Stack

PID_FILE_NAME = "up.pid"
# Where a running `up` says how to reach it, for `play` (and anyone else): no port to type.
ENDPOINTS_FILE_NAME = "endpoints.json"

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
    (state_dir / ENDPOINTS_FILE_NAME).unlink(missing_ok=True)
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
            (path.parent / ENDPOINTS_FILE_NAME).unlink(missing_ok=True)


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
            (options.state_dir / ENDPOINTS_FILE_NAME).write_text(json.dumps(stack.endpoints()))
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


def play(state_dir: Path) -> int:
    """One game between two random players, written into the running stack's games table."""
    endpoints_file = state_dir / ENDPOINTS_FILE_NAME
    pid_file = state_dir / PID_FILE_NAME
    if not endpoints_file.exists() or not any(
        running(pid, PROGRAMS[name]) for name, pid in read_pid_file(pid_file)
    ):
        print("tatourney is not running: `make up` first", file=sys.stderr)
        return 1
    endpoints = json.loads(endpoints_file.read_text())
    rng = random.Random()  # noqa: S311 - game scores, not secrets
    first, second = rng.sample(PLAYERS, 2)
    scores = dict(zip((first, second), rng.sample(range(MAX_SCORE + 1), 2), strict=True))
    # A number no simulated game takes (those count from 1), nor an earlier `play`.
    game = int(time.time())
    client = dynamodb_client(endpoints["dynamodb"])
    try:
        print(record_game(client, endpoints["games_table"], game, scores))
    except client.exceptions.TransactionCanceledException:
        print(f"one of them already played game {game}: try again in a second", file=sys.stderr)
        return 1
    print(f"the leaderboard at {endpoints['site']} shows it within a few seconds")
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
    stop = commands.add_parser("down", help="stop a running `up`")
    game = commands.add_parser("play", help="play one random game in a running `up`")
    for command in (start, stop, game):
        command.add_argument(
            "--state-dir",
            type=Path,
            default=Options.state_dir,
            help="where the PID file and the failure log live (%(default)s)",
        )
    args = parser.parse_args(argv)
    if args.command in ("down", "play"):
        return args.command, Options(state_dir=args.state_dir)
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
    )


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("botocore").setLevel(logging.WARNING)
    command, options = parse_options(argv)
    if command == "down":
        return down(options.state_dir)
    if command == "play":
        return play(options.state_dir)
    return up(options)


if __name__ == "__main__":
    sys.exit(main())
