"""The local tests exercise the same pymemcache and sortedcontainers that the zips vendor."""

from __future__ import annotations

import re
from importlib import metadata

from tests.packaging.building import ROOT

PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", re.MULTILINE)


def pins(requirements: str) -> dict[str, str]:
    return {name.lower().replace("_", "-"): version for name, version in PIN.findall(requirements)}


def test_dev_environment_pins_every_vendored_dependency_at_the_same_version() -> None:
    vendored = pins((ROOT / "requirements" / "lambda.txt").read_text())
    development = pins((ROOT / "requirements" / "dev.txt").read_text())

    assert vendored == {"pymemcache": "4.0.0", "sortedcontainers": "2.4.0"}
    for name, version in vendored.items():
        assert development.get(name) == version, name
        assert metadata.version(name) == version, name
