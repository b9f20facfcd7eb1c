"""Cold start of the packaged functions, side by side with `import boto3` alone, in the same run.

Each function's zip (build.py) is unpacked into a temporary folder and imported by a bare Python
3.12 (`-S`: no site-packages) whose path holds, as Lambda's does, the zip, AWS's Powertools layer
(requirements/powertools-layer.txt) and the runtime's boto3 (requirements/lambda-runtime.txt).
What is timed, inside that interpreter, is the handler module's import and initialisation (its
module-level code: configuration, clients, logger, metrics), or `import boto3` alone; the
interpreter's own start is left out of both. The runtime and the layer are byte-compiled once (as
Lambda's are); the function's zip is unpacked afresh before every run and nothing is written
beside it (PYTHONDONTWRITEBYTECODE), as in Lambda's read-only /var/task: what the zip carries,
bytecode included, is all a cold start has. The runs alternate, several repetitions each, and the
medians are reported. Nothing is sent anywhere: the
handlers' configuration names a memcached on loopback that is never asked (clients connect on
first use).

    PYTHONPATH=src python -m bench.cold_start --python python3.12 --output bench/results
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.machine import describe_machine

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ("leaderboard", "invalidate")
REPETITIONS = 15
# What each timed interpreter runs: the statement between two clock readings, then the time.
TIMED = (
    "import time\nstarted = time.perf_counter()\n{statement}\nprint(time.perf_counter() - started)"
)
ENVIRONMENT = {
    "GAMES_TABLE": "games",
    "STATS_TABLE": "stats",
    "CACHE_ENDPOINTS": "127.0.0.1:11211",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "cold-start-bench",
    "AWS_SECRET_ACCESS_KEY": "cold-start-bench",
    "POWERTOOLS_SERVICE_NAME": "cold-start-bench",
    "PYTHONDONTWRITEBYTECODE": "1",
}


def install(python: str, requirements: Path, target: Path) -> None:
    subprocess.run(
        [
            *(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"),
            *("--no-deps", "--target", str(target), "-r", str(requirements)),
        ],
        check=True,
    )


def timed_seconds(python: str, path: list[Path], statement: str, package: Path | None) -> float:
    """`statement`'s seconds in a bare `python` on `path`; `package` (a zip) unpacked afresh into
    path[0] first."""
    if package is not None:
        shutil.rmtree(path[0], ignore_errors=True)
        with zipfile.ZipFile(package) as archive:
            archive.extractall(path[0])
    finished = subprocess.run(
        [python, "-S", "-c", TIMED.format(statement=statement)],
        env={**ENVIRONMENT, "PYTHONPATH": ":".join(str(part) for part in path)},
        capture_output=True,
        text=True,
        check=True,
    )
    return float(finished.stdout.splitlines()[-1])


def measure(python: str, work: Path, repetitions: int) -> list[Case]:
    runtime, layer, dist = work / "runtime", work / "layer", work / "dist"
    install(python, ROOT / "requirements" / "lambda-runtime.txt", runtime)
    install(python, ROOT / "requirements" / "powertools-layer.txt", layer)
    for folder in (runtime, layer):
        subprocess.run([python, "-m", "compileall", "-q", str(folder)], check=True)
    build = [sys.executable, str(ROOT / "build.py"), "--arch", "x86_64", "--out", str(dist)]
    subprocess.run(
        [*build, "--python", python],
        check=True,
        capture_output=True,
    )
    cases: dict[str, tuple[list[Path], str, Path | None]] = {
        "import boto3": ([runtime], "import boto3", None)
    }
    for name in FUNCTIONS:
        path = [work / name, layer, runtime]
        cases[f"{name} handler"] = (path, f"import {name}_handler", dist / f"{name}.zip")
    seconds: dict[str, list[float]] = {case: [] for case in cases}
    for _ in range(repetitions):
        for case, (path, statement, package) in cases.items():
            seconds[case].append(timed_seconds(python, path, statement, package))
    return [Case(name, values) for name, values in seconds.items()]


@dataclass(frozen=True)
class Case:
    """One timed statement's runs."""

    name: str
    seconds: list[float]

    @property
    def median_ms(self) -> float:
        return round(1000 * statistics.median(self.seconds), 1)


def summary(cases: list[Case], python: str, command: str) -> dict[str, Any]:
    boto3 = cases[0]  # `import boto3` alone
    return {
        "command": command,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": describe_machine()["commit"],
        "python": python,
        "repetitions": len(boto3.seconds),
        "median_ms": {case.name: case.median_ms for case in cases},
        "range_ms": {
            case.name: [round(1000 * min(case.seconds), 1), round(1000 * max(case.seconds), 1)]
            for case in cases
        },
        "relative_to_import_boto3": {
            case.name: round(case.median_ms / boto3.median_ms, 2) for case in cases
        },
    }


def markdown(result: dict[str, Any], command: str) -> str:
    lines = [
        f"Cold start (import and initialisation, median of {result['repetitions']} runs each, "
        f"alternating; `{command}`):",
        "",
        "| what | median ms | range ms | x `import boto3` |",
        "|---|---|---|---|",
    ]
    for name, median in result["median_ms"].items():
        low, high = result["range_ms"][name]
        relative = result["relative_to_import_boto3"][name]
        lines.append(f"| {name} | {median} | {low} to {high} | {relative} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", required=True, help="the Python 3.12 Lambda runs")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--repetitions", type=int, default=REPETITIONS)
    parser.add_argument("--command", default="make bench-cold-start")
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cold-start-") as work:
        seconds = measure(arguments.python, Path(work), arguments.repetitions)
    result = summary(seconds, arguments.python, arguments.command)
    arguments.output.mkdir(parents=True, exist_ok=True)
    (arguments.output / "cold-start.json").write_text(json.dumps(result, indent=2) + "\n")
    table = markdown(result, arguments.command)
    (arguments.output / "cold-start.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
