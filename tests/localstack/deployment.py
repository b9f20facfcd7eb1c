"""What the LocalStack tests know of a deployed stack, and the one piece of it Terraform is not
given: the Powertools layer, which LocalStack's community edition does not serve (AWS's public
layers are a paid feature), built here and published before `terraform apply` (tests/localstack/
stack.py)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from build import RUNTIME_PYTHON_VERSION, WHEEL_PLATFORMS, zip_bytes
from tatourney_local.services import REPO_ROOT
from tatourney_local.tables import TableNames

WAIT_SECONDS = 60.0
# The site reads these from the API's answers (site/app.js); a browser sees only exposed headers
# (modules/functions `local.cors`).
EXPOSED_HEADERS = ["X-Cache", "ETag", "Retry-After"]


@dataclass(frozen=True)
class Deployment:
    """examples/localstack's outputs."""

    name: str  # the prefix of every name in the stack
    tables: TableNames
    functions: dict[str, str]  # role -> function name
    layer_arn: str
    failure_queue_url: str
    stats_url: str
    site_url: str


def powertools_layer(architecture: str) -> bytes:
    """The Powertools layer zip: requirements/powertools-layer.txt installed under python/ for
    the functions' platform, as AWS's public layer lays it out (Lambda puts /opt/python on the
    path), the way a layer is built: pip install --target."""
    requirements = REPO_ROOT / "requirements" / "powertools-layer.txt"
    with tempfile.TemporaryDirectory(prefix="powertools-layer-") as layer:
        target = Path(layer) / "python"
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"),
                *("--only-binary=:all:", "--platform", WHEEL_PLATFORMS[architecture]),
                *("--python-version", RUNTIME_PYTHON_VERSION, "--implementation", "cp"),
                *("--no-deps", "--require-hashes", "--requirement", str(requirements)),
                *("--target", str(target), "--no-compile"),
            ],
            check=True,
            capture_output=True,
        )
        files = {
            path.relative_to(layer).as_posix(): path.read_bytes()
            for path in target.rglob("*")
            if path.is_file()
        }
    return zip_bytes(files)


def wait_for(what: str, check: Any, timeout: float = WAIT_SECONDS) -> Any:
    """Poll `check()` until it returns something truthy; fail naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {timeout:.0f}s")
        time.sleep(0.2)
    return result
