"""What the figures were measured on: hardware, runtimes, the services' versions, the commit."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from tatourney_local.services import dynamodb_local_dir

REPO = Path(__file__).resolve().parents[1]


def _first_line(command: list[str]) -> str | None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return None
    lines = (done.stdout + done.stderr).strip().splitlines()
    return lines[0] if lines else None


def _proc_field(path: str, field: str) -> str | None:
    try:
        text = Path(path).read_text()
    except OSError:
        return None
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip() == field:
            return value.strip()
    return None


def describe_machine() -> dict[str, object]:
    memory_kib = _proc_field("/proc/meminfo", "MemTotal")
    return {
        "cpu": _proc_field("/proc/cpuinfo", "model name") or platform.processor(),
        "cpus": os.cpu_count(),
        "memory_gib": round(int(memory_kib.split()[0]) / 2**20, 1) if memory_kib else None,
        "os": platform.platform(),
        "python": platform.python_version(),
        "memcached": _first_line(["memcached", "-V"]),
        "java": _first_line(["java", "-version"]),
        "dynamodb_local": dynamodb_local_dir().name,
        "packages": {name: metadata.version(name) for name in ("boto3", "botocore", "pymemcache")},
        "commit": _first_line(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]),
    }
