"""How `make validate` and the Terraform-driven tests find Terraform and an AWS provider, and
that they run Terraform on a copy of the sources (tools/terraform/workspace.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tools.terraform.workspace import (
    ARCHITECTURES,
    PROVIDER,
    REPO_ROOT,
    Terraform,
    TerraformUnavailable,
    copy_sources,
)

PLATFORM = f"linux_{ARCHITECTURES[os.uname().machine]}"


def plugin_dir(root: Path, *versions: str) -> Path:
    for version in versions:
        (root / PROVIDER / version / PLATFORM).mkdir(parents=True)
    return root


@pytest.fixture
def path_with_terraform(tmp_path: Path) -> str:
    """A PATH with a stand-in `terraform`: find() only looks for it when a plugin directory
    holds the provider (nothing is run)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    terraform = bin_dir / "terraform"
    terraform.write_text("#!/bin/sh\nexit 1\n")
    terraform.chmod(0o755)
    return str(bin_dir)


def test_tf_plugin_dir_comes_first_and_the_newest_supported_provider_in_it(
    tmp_path: Path, path_with_terraform: str
) -> None:
    mirror = plugin_dir(tmp_path / "mirror", "5.99.0", "5.100.0", "6.2.0", "7.0.0")
    found = Terraform.find({"PATH": path_with_terraform, "TF_PLUGIN_DIR": str(mirror)})
    assert (found.plugin_dir, found.provider_version) == (mirror, "6.2.0")
    environment = found.environment(tmp_path / "data", {"name": "demo"})
    assert environment["TF_CLI_ARGS_init"] == f"-plugin-dir={mirror}"
    assert environment["TF_VAR_name"] == "demo"
    assert environment["TF_DATA_DIR"] == str(tmp_path / "data")


@pytest.mark.parametrize("versions", [(), ("5.99.0",), ("7.0.0",)], ids=["empty", "old", "7.x"])
def test_a_tf_plugin_dir_without_a_supported_provider_is_named(
    tmp_path: Path, path_with_terraform: str, versions: tuple[str, ...]
) -> None:
    mirror = plugin_dir(tmp_path / "mirror", *versions)
    with pytest.raises(TerraformUnavailable, match=f"TF_PLUGIN_DIR={mirror} holds no"):
        Terraform.find({"PATH": path_with_terraform, "TF_PLUGIN_DIR": str(mirror)})


def test_a_plugin_cache_is_searched_too(
    tmp_path: Path, path_with_terraform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tools.terraform.workspace.KNOWN_PLUGIN_DIRS", ())
    cache = plugin_dir(tmp_path / "cache", "5.100.0")
    found = Terraform.find({"PATH": path_with_terraform, "TF_PLUGIN_CACHE_DIR": str(cache)})
    assert found.plugin_dir == cache


def test_without_terraform_it_says_so() -> None:
    with pytest.raises(TerraformUnavailable, match="no terraform on PATH"):
        Terraform.find({"PATH": "/nonexistent"})


def test_the_sources_are_copied_with_their_layout_and_the_checkout_is_left_alone(
    tmp_path: Path,
) -> None:
    copy = copy_sources(tmp_path / "sources", tmp_path / "dist")
    for name in ("main.tf", "modules/functions/main.tf", "examples/localstack/provider.tf"):
        assert (copy / name).read_text() == (REPO_ROOT / name).read_text()
    assert (copy / "site").resolve() == (REPO_ROOT / "site").resolve()
    assert (copy / "dist").resolve() == (tmp_path / "dist").resolve()
