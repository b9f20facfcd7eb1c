"""Terraform for real: find Terraform and an AWS provider this repository supports, copy the
Terraform sources to a folder of their own (so `.terraform/`, `.terraform.lock.hcl`, plans and
state never land in the checkout), and run `init` + `validate` there.

`python tools/terraform/workspace.py DIR...` validates those root modules (`make validate`). Where
Terraform or a provider is missing it says which, and what it looked for, and exits 0 with the
checks reported as not run; TF_REQUIRE_PROVIDER=1 makes that an error.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PROVIDER = Path("registry.terraform.io", "hashicorp", "aws")
# The versions the modules' required_providers allow (versions.tf): 5.100 up to, not including, 7.
SUPPORTED_MAJOR_MINOR = ((5, 100), (7, 0))
# Plugin directories (unpacked filesystem mirror layout: registry.terraform.io/hashicorp/aws/
# VERSION/OS_ARCH/) searched after TF_PLUGIN_DIR: the mirror these machines ship, then the
# implied local mirror directories Terraform itself searches on Linux, then a plugin cache.
KNOWN_PLUGIN_DIRS = (
    "/opt/tf-plugins",
    "~/.terraform.d/plugins",
    "~/.local/share/terraform/plugins",
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
)
# Terraform's names for the machine types os.uname() reports.
ARCHITECTURES = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
# What the copy of the sources needs: every module's Terraform, the site and the packaged zips.
SOURCE_GLOBS = ("*.tf", "modules/*/*.tf", "examples/*/*.tf")
LINKED = ("site", "dist")


class TerraformUnavailable(Exception):
    """No Terraform binary, or no AWS provider in the supported range: the message says which."""


def supported(version: str) -> bool:
    try:
        major_minor = tuple(int(part) for part in version.split(".")[:2])
    except ValueError:
        return False
    low, high = SUPPORTED_MAJOR_MINOR
    return low <= major_minor < high


def provider_versions(plugin_dir: Path) -> list[str]:
    """The supported AWS provider versions in `plugin_dir` for this platform, newest first."""
    platform = f"{sys.platform}_{ARCHITECTURES.get(os.uname().machine, os.uname().machine)}"
    versions = [
        version.name
        for version in (plugin_dir / PROVIDER).glob("*")
        if supported(version.name) and (version / platform).is_dir()
    ]
    return sorted(versions, key=lambda v: tuple(int(p) for p in v.split(".") if p.isdigit()))[::-1]


@dataclass(frozen=True)
class Terraform:
    """The terraform binary and where `init` installs the AWS provider from."""

    binary: str
    plugin_dir: Path | None  # None: the registry (or the CLI configuration's own installation)
    provider_version: str | None

    @classmethod
    def find(cls, environ: Mapping[str, str] = os.environ) -> Terraform:
        """TF_PLUGIN_DIR if set (it must hold a supported provider), else the first known plugin
        directory that does, else the registry if `init` can install the provider from it."""
        binary = shutil.which("terraform", path=environ.get("PATH"))
        if binary is None:
            raise TerraformUnavailable("no terraform on PATH")
        if override := environ.get("TF_PLUGIN_DIR"):
            plugin_dir = Path(override).expanduser()
            versions = provider_versions(plugin_dir)
            if not versions:
                raise TerraformUnavailable(
                    f"TF_PLUGIN_DIR={override} holds no hashicorp/aws provider 5.100-6.x "
                    f"for this platform (expected {plugin_dir / PROVIDER}/VERSION/OS_ARCH/)"
                )
            return cls(binary, plugin_dir, versions[0])
        searched = [*KNOWN_PLUGIN_DIRS, *filter(None, [environ.get("TF_PLUGIN_CACHE_DIR")])]
        for candidate in searched:
            plugin_dir = Path(candidate).expanduser()
            if versions := provider_versions(plugin_dir):
                return cls(binary, plugin_dir, versions[0])
        registry = cls(binary, None, None)
        with tempfile.TemporaryDirectory(prefix="tatourney-provider-probe-") as probe:
            shutil.copy(REPO_ROOT / "versions.tf", probe)
            init = registry.run(
                ["init", "-backend=false", "-input=false"], Path(probe), Path(probe)
            )
        if init.returncode == 0:
            return registry
        # terraform's message names the provider, then why ("could not connect to registry...").
        why = [line.strip() for line in init.stderr.splitlines() if "could not" in line.lower()]
        raise TerraformUnavailable(
            f"no hashicorp/aws provider 5.100-6.x in TF_PLUGIN_DIR (unset), {', '.join(searched)},"
            f" and the registry failed ({' '.join(why[:1]) or init.stderr.strip()[-200:]});"
            " set TF_PLUGIN_DIR to a filesystem mirror (registry.terraform.io/hashicorp/aws/...)"
        )

    def describe(self) -> str:
        if self.plugin_dir is None:
            return f"{self.binary} with the AWS provider from the registry"
        return f"{self.binary} with hashicorp/aws {self.provider_version} from {self.plugin_dir}"

    def environment(
        self, data_dir: Path, variables: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """The variables every command runs with: non-interactive, `.terraform/` in `data_dir`,
        `init` installing from the plugin directory (no network), and the input `variables`."""
        environment = {
            **os.environ,
            **{f"TF_VAR_{name}": value for name, value in (variables or {}).items()},
            "TF_IN_AUTOMATION": "1",
            "TF_DATA_DIR": str(data_dir),
        }
        if self.plugin_dir is not None:
            environment["TF_CLI_ARGS_init"] = f"-plugin-dir={self.plugin_dir}"
        return environment

    def run(
        self,
        arguments: Sequence[str],
        module_dir: Path,
        data_dir: Path,
        variables: Mapping[str, str] | None = None,
        timeout: float = 900,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.binary, *arguments, "-no-color"],
            cwd=module_dir,
            env=self.environment(data_dir, variables),
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )


def copy_sources(destination: Path, dist_dir: Path = REPO_ROOT / "dist") -> Path:
    """The repository's Terraform under `destination`, laid out as in the checkout (examples use
    `../../`), with site/ and dist/ linked in; returns `destination`."""
    for pattern in SOURCE_GLOBS:
        for source in REPO_ROOT.glob(pattern):
            target = destination / source.relative_to(REPO_ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    for name, target in (("site", REPO_ROOT / "site"), ("dist", dist_dir)):
        (destination / name).symlink_to(target.resolve(), target_is_directory=True)
    return destination


def validate(terraform: Terraform, module_dirs: Sequence[str]) -> list[str]:
    """`init` + `validate` of each root module on a copy of the sources: the failures."""
    failures = []
    with tempfile.TemporaryDirectory(prefix="tatourney-validate-") as scratch:
        sources = copy_sources(Path(scratch) / "sources")
        for module_dir in module_dirs:
            data_dir = Path(scratch) / "data" / module_dir.replace("/", "_")
            for command in (["init", "-backend=false", "-input=false"], ["validate"]):
                done = terraform.run(command, sources / module_dir, data_dir)
                if done.returncode != 0:
                    failures.append(
                        f"{module_dir}: terraform {command[0]}\n{done.stdout}{done.stderr}"
                    )
                    break
            else:
                print(f"{module_dir}: valid")
    return failures


def main(module_dirs: Sequence[str]) -> int:
    try:
        terraform = Terraform.find()
    except TerraformUnavailable as unavailable:
        print(f"terraform init/validate NOT RUN: {unavailable}")
        return 1 if os.environ.get("TF_REQUIRE_PROVIDER") == "1" else 0
    print(f"terraform init + validate with {terraform.describe()}")
    failures = validate(terraform, module_dirs)
    for failure in failures:
        print(failure, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
