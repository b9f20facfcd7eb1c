"""What CI runs and what Terraform installs is pinned: actions by commit SHA, the tools they install
by version, and the examples' providers by a committed dependency lock file."""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
# The provider mirror these machines ship (docs/deploy.md): where the lock's hash can be checked.
PROVIDER_MIRROR = Path("/opt/tf-plugins/registry.terraform.io/hashicorp/aws")


def _uses() -> list[str]:
    return [
        line.split("uses:", 1)[1].strip()
        for workflow in WORKFLOWS
        for line in workflow.read_text().splitlines()
        if line.strip().startswith(("uses:", "- uses:"))
    ]


def test_every_action_is_pinned_by_commit_sha_with_its_release_named() -> None:
    uses = _uses()
    assert len(uses) >= 5
    for use in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+", use), use


def test_the_tools_the_actions_install_are_pinned_and_tflint_downloads_nothing() -> None:
    text = "\n".join(workflow.read_text() for workflow in WORKFLOWS)
    setups = text.count("hashicorp/setup-terraform@")
    assert setups >= 1
    assert len(re.findall(r"terraform_version: \d+\.\d+\.\d+", text)) == setups
    assert len(re.findall(r"tflint_version: v\d+\.\d+\.\d+", text)) == text.count(
        "terraform-linters/setup-tflint@"
    )
    runs = re.findall(r"run: (.*\btflint .*)", text)
    assert runs
    for run in runs:
        for command in run.split("&&"):
            assert '--config "$GITHUB_WORKSPACE/.tflint.hcl"' in command, command
    # Only the ruleset bundled with the pinned tflint: a plugin with a source is a download.
    config = (ROOT / ".tflint.hcl").read_text()
    assert re.findall(r'plugin "(\w+)"', config) == ["terraform"]
    assert "source" not in config


def _committed(pattern: str) -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", pattern], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return listed.stdout.split()


def _locked(example: Path) -> tuple[str, list[str]]:
    lock = (example / ".terraform.lock.hcl").read_text()
    block = lock[lock.index('provider "registry.terraform.io/hashicorp/aws"') :]
    version = re.search(r'version\s+= "([^"]+)"', block)
    assert version is not None
    return version.group(1), re.findall(r'"(h1:[^"]+|zh:[^"]+)"', block)


def test_each_example_commits_its_lock_file_and_no_reusable_module_does() -> None:
    committed = set(_committed("*.terraform.lock.hcl"))
    examples = {f"examples/{path.name}/.terraform.lock.hcl" for path in ROOT.glob("examples/*")}
    # A module used by others takes its users' lock; a root configuration commits its own.
    assert committed == examples
    for example in ROOT.glob("examples/*"):
        version, hashes = _locked(example)
        major, minor, _ = map(int, version.split("."))
        assert (5, 100) <= (major, minor) < (7, 0), example
        assert any(h.startswith("h1:") for h in hashes), example


def _dirhash(directory: Path) -> str:
    """Terraform's h1: hash of an unpacked provider (Go's dirhash.Hash1)."""
    summary = "".join(
        f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.relative_to(directory)}\n"
        for path in sorted(p for p in directory.rglob("*") if p.is_file())
    )
    return "h1:" + base64.b64encode(hashlib.sha256(summary.encode()).digest()).decode()


@pytest.mark.skipif(not PROVIDER_MIRROR.is_dir(), reason="needs the machine's provider mirror")
def test_the_locked_hash_is_the_linux_amd64_provider_in_the_mirror() -> None:
    for example in ROOT.glob("examples/*"):
        version, hashes = _locked(example)
        assert _dirhash(PROVIDER_MIRROR / version / "linux_amd64") in hashes, example
