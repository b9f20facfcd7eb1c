"""The protocol tests' tournament: this test's tables, memcached keys and readers together."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tatourney_local.services import Memcached
from tatourney_local.tables import TableNames
from tests.conftest import Reader
from tests.core.boards import Tournament
from tests.support import LocalAws


@pytest.fixture
def tournament(
    aws: LocalAws,
    tables: TableNames,
    memcached: Memcached,
    key_prefix: str,
    make_reader: Callable[..., Reader],
) -> Tournament:
    return Tournament(aws, tables, memcached, key_prefix, make_reader)
