"""Terraform itself, offline, on the parts of a module that need no provider.

No provider can be downloaded here, so no module of this project can be planned whole. But a
variables.tf, or a file of locals that reads only variables, is plain Terraform: copied into a
scratch folder with no provider in it, `terraform plan` runs its validation rules and
`terraform apply` evaluates its outputs, exactly as they run in a real plan. Tests that use this
are skipped where no terraform binary is installed (they say so).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

TERRAFORM = shutil.which("terraform")

needs_terraform = pytest.mark.skipif(
    TERRAFORM is None, reason="needs a terraform binary (evaluates validation rules offline)"
)


@dataclass(frozen=True)
class Result:
    ok: bool
    stdout: str
    output: str  # stdout and stderr


def _environment(workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "CHECKPOINT_DISABLE": "1",  # no version check over the network
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "TF_CLI_CONFIG_FILE": os.devnull,
        "TF_DATA_DIR": str(workdir / ".terraform"),
        "NO_COLOR": "1",
    }


def _run(workdir: Path, *args: str) -> Result:
    assert TERRAFORM is not None
    completed = subprocess.run(
        [TERRAFORM, *args, "-no-color"],
        cwd=workdir,
        env=_environment(workdir),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Result(completed.returncode == 0, completed.stdout, completed.stdout + completed.stderr)


def scratch_module(workdir: Path, files: list[Path], extra: str, variables: dict[str, Any]) -> Path:
    """A folder holding copies of `files`, `extra` as extra.tf and the variables' values."""
    workdir.mkdir(parents=True, exist_ok=True)
    for file in files:
        shutil.copy(file, workdir / file.name)
    (workdir / "extra.tf").write_text(extra)
    (workdir / "terraform.tfvars.json").write_text(json.dumps(variables))
    initialised = _run(workdir, "init", "-input=false")
    assert initialised.ok, initialised.output
    return workdir


def plan(workdir: Path, files: list[Path], variables: dict[str, Any]) -> Result:
    """`terraform plan` of `files` (validation rules run) with these variable values."""
    module = scratch_module(workdir, files, "", variables)
    return _run(module, "plan", "-input=false", "-lock=false")


def evaluate(workdir: Path, files: list[Path], extra: str, variables: dict[str, Any]) -> Any:
    """The outputs `extra` declares, evaluated by `terraform apply` over `files`."""
    module = scratch_module(workdir, files, extra, variables)
    applied = _run(module, "apply", "-auto-approve", "-input=false", "-lock=false")
    assert applied.ok, applied.output
    shown = _run(module, "output", "-json")
    assert shown.ok, shown.output
    return {name: value["value"] for name, value in json.loads(shown.stdout).items()}
