"""The same sources give the same bytes: across builds, pip cache states, umasks, mtimes and
fresh checkouts."""

from __future__ import annotations

import compileall
import json
import os
import subprocess
from pathlib import Path

from tests.packaging.building import ROOT, build_into, output_files, run_build

EXPECTED_OUTPUTS = [
    "aggregate.zip",
    "checker.zip",
    "invalidate.zip",
    "leaderboard.zip",
    "manifest.json",
]
RESTRICTIVE_UMASK = 0o077
OLD_MTIME = 1_000_000_000  # 2001: far from the checkout's own mtimes


def test_two_builds_give_identical_zips_and_manifest(built: Path, tmp_path: Path) -> None:
    # The second build starts from an empty pip cache, so it downloads what the first reused.
    again = build_into(tmp_path / "dist", tmp_path / "empty-pip-cache")

    assert sorted(output_files(again)) == EXPECTED_OUTPUTS
    assert output_files(again) == output_files(built)


def clone_head(destination: Path, umask: int = -1) -> Path:
    subprocess.run(
        ["git", "clone", "--quiet", str(ROOT), str(destination)], check=True, umask=umask
    )
    return destination


def test_two_fresh_clones_build_identical_zips(tmp_path: Path, pip_cache: Path) -> None:
    first = clone_head(tmp_path / "first")
    # The second checkout differs in everything a careless zip would record: permissions
    # (umask 077 gives 0600 files), mtimes, and bytecode left next to the sources.
    second = clone_head(tmp_path / "second", umask=RESTRICTIVE_UMASK)
    for folder, directories, names in os.walk(second):
        directories[:] = [name for name in directories if name != ".git"]
        for name in names:
            os.utime(Path(folder) / name, (OLD_MTIME, OLD_MTIME))
    assert compileall.compile_dir(second / "src", quiet=1)
    assert (second / "src" / "tatourney" / "__init__.py").stat().st_mode & 0o077 == 0

    for clone, umask in ((first, -1), (second, RESTRICTIVE_UMASK)):
        result = run_build("--pip-cache", pip_cache, script=clone / "build.py", umask=umask)
        assert result.returncode == 0, result.stderr

    assert sorted(output_files(first / "dist")) == EXPECTED_OUTPUTS
    assert output_files(first / "dist") == output_files(second / "dist")


def test_x86_64_build_has_the_same_zips_because_every_dependency_is_pure_python(
    built: Path, tmp_path: Path, pip_cache: Path
) -> None:
    x86_64 = build_into(tmp_path / "dist", pip_cache, "--arch", "x86_64")

    zips = [name for name in EXPECTED_OUTPUTS if name.endswith(".zip")]
    assert {name: output_files(x86_64)[name] for name in zips} == {
        name: output_files(built)[name] for name in zips
    }
    assert json.loads((x86_64 / "manifest.json").read_text())["architecture"] == "x86_64"
