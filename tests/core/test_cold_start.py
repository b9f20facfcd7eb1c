"""A cold start does not pay for boto3 where it is not needed: the leaderboard function imports it
on its first read of the table (a hit never reads it), the invalidate function never.

Each check runs in a fresh interpreter, the handler imported as Lambda imports it."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tatourney_local.tables import TableNames
from tests.core.boards import TEN_PLAYERS
from tests.support import FakeLambdaContext, LocalAws

ROOT = Path(__file__).resolve().parents[2]
PATH = ["src", "functions/leaderboard", "functions/invalidate", "."]


def run_in_new_interpreter(script: str, env: dict[str, str]) -> dict[str, Any]:
    """What `script` printed last (one JSON line), run by a new Python with the functions' path."""
    pythonpath = ":".join(str(ROOT / part) for part in PATH)
    finished = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        env={**env, "PYTHONPATH": pythonpath},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    result: dict[str, Any] = json.loads(finished.stdout.splitlines()[-1])
    return result


@pytest.mark.parametrize("function", ["leaderboard", "invalidate"])
def test_importing_a_handler_imports_no_boto3(function: str, lambda_env: dict[str, str]) -> None:
    imported = run_in_new_interpreter(
        f"""
        import json, sys
        import {function}_handler
        print(json.dumps({{"boto3": "boto3" in sys.modules}}))
        """,
        lambda_env,
    )
    assert imported == {"boto3": False}


def test_a_hit_imports_no_boto3_and_a_miss_does(
    lambda_env: dict[str, str], aws: LocalAws, tables: TableNames
) -> None:
    aws.put_stats(tables.stats, TEN_PLAYERS)
    context = dataclasses.asdict(FakeLambdaContext())
    script = f"""
        import json, sys, types
        import leaderboard_handler
        CONTEXT = types.SimpleNamespace(**{context!r})
        from pathlib import Path
        event = json.loads(Path("tests/events/http_api_get_stats.json").read_text())
        response = leaderboard_handler.handler(event, CONTEXT)
        print(json.dumps({{"status": response["statusCode"], "boto3": "boto3" in sys.modules}}))
        """
    # The first container finds nothing cached: it reads the table (with boto3) and caches the
    # board. The second, another cold start, is served the cached board without boto3.
    assert run_in_new_interpreter(script, lambda_env) == {"status": 200, "boto3": True}
    assert run_in_new_interpreter(script, lambda_env) == {"status": 200, "boto3": False}
