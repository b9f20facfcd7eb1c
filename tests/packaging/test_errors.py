"""Failures stop the build with one line naming what is missing, and leave no output behind."""

from __future__ import annotations

from pathlib import Path

import pytest

import build
from tests.packaging.building import run_build

PYMEMCACHE_WHEEL_SHA256 = "f507bc20e0dc8d562f8df9d872107a278df049fa496805c1431b926f3ddd0eab"


def single_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("build.py: error: "), stderr
    return lines[0]


def test_missing_function_folder_is_a_clear_error(tmp_path: Path) -> None:
    out = tmp_path / "dist"

    result = run_build("--functions", "leaderboard", "scoreboard", "--out", out)

    assert result.returncode == 1
    assert "function folder functions/scoreboard/ not found" in single_error_line(result.stderr)
    assert not out.exists()


def test_function_folder_without_its_handler_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "functions" / "scoreboard").mkdir(parents=True)
    (tmp_path / "functions" / "scoreboard" / "scoreboard.py").write_text("handler = None\n")
    monkeypatch.setattr(build, "ROOT", tmp_path)

    exit_code = build.main(["--functions", "scoreboard", "--out", str(tmp_path / "dist")])

    assert exit_code == 1
    message = single_error_line(capsys.readouterr().err)
    assert "functions/scoreboard/ has no scoreboard_handler.py" in message
    assert not (tmp_path / "dist").exists()


def test_a_python_that_is_not_3_12_is_a_clear_error(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    python = tmp_path / "python3.11"  # answers as a 3.11 would
    python.write_text("#!/bin/sh\necho 3.11\n")
    python.chmod(0o755)

    result = run_build("--python", python, "--out", out)

    assert result.returncode == 1
    message = single_error_line(result.stderr)
    assert f"{python} is not Python 3.12" in message
    assert "pass --python PATH, set LAMBDA_PYTHON" in message
    assert not out.exists()


NOWHERE_HASH = "0" * 64
UNFETCHABLE_REQUIREMENTS = {
    # No such version exists, online or offline: the failure does not depend on the network.
    "version-that-does-not-exist": (
        f"pymemcache==0.0.0 --hash=sha256:{NOWHERE_HASH}",
        "pymemcache==0.0.0",
    ),
    "wheel-not-matching-its-pinned-hash": (
        f"pymemcache==4.0.0 --hash=sha256:{NOWHERE_HASH}",
        "DO NOT MATCH THE HASHES",
    ),
    "requirement-without-a-hash": ("pymemcache==4.0.0", "Hashes are required"),
}


@pytest.mark.parametrize(
    ("requirement", "expected_in_message"),
    list(UNFETCHABLE_REQUIREMENTS.values()),
    ids=list(UNFETCHABLE_REQUIREMENTS),
)
def test_dependency_that_cannot_be_fetched_is_a_clear_error(
    tmp_path: Path, pip_cache: Path, requirement: str, expected_in_message: str
) -> None:
    requirements = tmp_path / "lambda.txt"
    requirements.write_text(requirement + "\n")
    out = tmp_path / "dist"

    result = run_build("--requirements", requirements, "--out", out, "--pip-cache", pip_cache)

    assert result.returncode == 1
    message = single_error_line(result.stderr)
    assert f"cannot fetch the dependencies in {requirements} for manylinux2014_aarch64" in message
    assert expected_in_message in message
    assert not out.exists()


def test_vendored_wheel_is_pinned_by_hash_in_lambda_requirements() -> None:
    requirements = (build.ROOT / "requirements" / "lambda.txt").read_text()

    assert f"--hash=sha256:{PYMEMCACHE_WHEEL_SHA256}" in requirements
