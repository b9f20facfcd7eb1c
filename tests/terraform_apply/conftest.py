"""Where `terraform init` can install the AWS provider, apply examples/localstack through
pytest-terraform's fixtures; elsewhere (this project's machines: no registry) skip, saying why."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tatourney_local.services import REPO_ROOT


@pytest.fixture(scope="session")
def aws_provider_installable(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Skip unless `terraform init` installs the AWS provider the root module requires."""
    terraform = shutil.which("terraform") or shutil.which("tofu")
    if terraform is None:
        pytest.skip("no terraform (or tofu) binary on PATH")
    probe: Path = tmp_path_factory.mktemp("provider-probe")
    shutil.copy(REPO_ROOT / "versions.tf", probe / "versions.tf")
    init = subprocess.run(
        [terraform, "init", "-backend=false", "-input=false", "-no-color"],
        cwd=probe,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if init.returncode != 0:
        lines = [line.strip() for line in (init.stdout + init.stderr).splitlines() if line.strip()]
        # terraform's message names the provider, then why ("could not connect to registry...").
        reason = " ".join(
            next(
                (lines[i : i + 3] for i, line in enumerate(lines) if "could not" in line.lower()),
                lines[-1:],
            )
        )
        pytest.skip(f"terraform init cannot install the AWS provider here: {reason}")
