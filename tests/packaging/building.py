"""Running build.py the way `make package` does: as a program, in its own process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FUNCTION_NAMES = ("leaderboard", "aggregate", "invalidate", "checker")
BUILD_TIMEOUT_SECONDS = 120


def run_build(
    *arguments: str | Path, script: Path = ROOT / "build.py", umask: int = -1
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script), *map(str, arguments)],
        capture_output=True,
        text=True,
        check=False,
        timeout=BUILD_TIMEOUT_SECONDS,
        umask=umask,
    )


def build_into(out: Path, pip_cache: Path, *arguments: str) -> Path:
    result = run_build("--out", out, "--pip-cache", pip_cache, *arguments)
    assert result.returncode == 0, result.stderr
    return out


def output_files(out: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(out.iterdir())}
