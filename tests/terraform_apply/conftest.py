"""The test that destroys the session's Terraform stack runs after every test that uses it,
whatever order the others run in (`make flake-hunt` shuffles them)."""

from __future__ import annotations

import pytest

DESTROYS = "destroys_terraform_stack"


@pytest.hookimpl(trylast=True)  # after pytest-random-order's shuffle
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    last = [item for item in items if item.get_closest_marker(DESTROYS)]
    items[:] = [item for item in items if item not in last] + last
