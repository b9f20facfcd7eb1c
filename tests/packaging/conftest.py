"""One build of the real tree per session, and one pip cache so later builds skip the download."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.packaging.building import build_into


@pytest.fixture(scope="session")
def pip_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pip-cache")


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory, pip_cache: Path) -> Path:
    """dist/ as `make package` writes it (arm64), built from the working tree."""
    return build_into(tmp_path_factory.mktemp("dist"), pip_cache)
