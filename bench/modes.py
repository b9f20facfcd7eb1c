"""The three modes behind one handler: warm Lambda containers running the real leaderboard handler.

A container imports `functions/leaderboard/leaderboard_handler.py` afresh (the local runner's
`cold_start`), as a Lambda cold start does: its own configuration, memcached client and DynamoDB
client. The handler reads the module
global `leaderboard` on every request, so a mode is chosen by pointing that one name at a reader:
the handler's own `Leaderboard` for tatourney, or a baseline built from the same configuration.
Event parsing, logging and the response are the handler's own code in every mode; only the
caching differs.
"""

from __future__ import annotations

import enum
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from types import ModuleType
from typing import Any, Protocol

from bench.seed_cache import SeedCacheInvalidator, SeedCacheLeaderboard
from tatourney.board import render
from tatourney.cache import Cache, LeaderboardKeys
from tatourney.config import LeaderboardConfig
from tatourney.leaderboard import Answer, Leaderboard, Served, Source
from tatourney.table import ScanResult, StatsTable, dynamodb_client
from tatourney_local.runner import LocalContext, cold_start, http_api_event


class Mode(enum.StrEnum):
    UNCACHED = "uncached"  # the site before caching
    SEED_CACHE = "seed-cache"  # the original fix
    TATOURNEY = "tatourney"


class Reader(Protocol):
    def read(self) -> Answer: ...


class UncachedLeaderboard:
    """The site before caching: every request scans the table (a failure escapes: a 500)."""

    def __init__(self, table: StatsTable) -> None:
        self._table = table

    def read(self) -> Answer:
        return Served(render(self._table.scan().rows, time.time()), Source.MISS)


class ScanThenWait(StatsTable):
    """A stats table whose scan, once it has read, runs `meanwhile` before returning: the slow
    reader of the stale-set race, made deterministic."""

    def __init__(self, client: Any, table_name: str, meanwhile: Callable[[], None]) -> None:
        super().__init__(client, table_name)
        self._meanwhile = meanwhile

    def scan(self) -> ScanResult:
        result = super().scan()
        self._meanwhile()
        return result


def _get_stats_event() -> dict[str, Any]:
    headers = Message()
    headers["Host"] = "127.0.0.1"
    headers["Accept"] = "application/json"
    return http_api_event("GET", "/stats", headers, "127.0.0.1", "GET /stats")


GET_STATS = _get_stats_event()
_discarded_logs = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process


def new_container(function: str) -> ModuleType:
    """A function's handler module imported afresh, with the process's environment."""
    module = cold_start(function, {})
    # One JSON line per request is still formatted, as in Lambda, but not printed here.
    module.logger.registered_handler.setStream(_discarded_logs)
    return module


@dataclass(frozen=True)
class Response:
    status: int
    cache: str  # X-Cache, or "" for an error
    body: str


def seed_key(config: LeaderboardConfig) -> str:
    return f"{config.cache.key_prefix}:seed:leaderboard"


class Container:
    """One warm leaderboard container (see the module docstring)."""

    def __init__(self) -> None:
        self._module = new_container("leaderboard")
        self._context = LocalContext("tatourney-leaderboard")
        self.config: LeaderboardConfig = self._module.config
        self._table_client = dynamodb_client(self.config.table_max_attempts)
        table = StatsTable(self._table_client, self.config.stats_table)
        self._readers: dict[Mode, Reader] = {
            Mode.TATOURNEY: self._module.leaderboard,
            Mode.UNCACHED: UncachedLeaderboard(table),
            Mode.SEED_CACHE: SeedCacheLeaderboard(
                Cache.connect(self.config.cache), table, seed_key(self.config)
            ),
        }

    def use(self, mode: Mode) -> None:
        vars(self._module)["leaderboard"] = self._readers[mode]  # the handler's global

    def get_stats(self) -> Response:
        """One GET /stats through the handler; an exception is what API Gateway turns into 500."""
        try:
            answer = self._module.handler(GET_STATS, self._context)
        except Exception as error:  # any escape is a 500, counted as such
            return Response(500, "", repr(error))
        return Response(
            int(answer["statusCode"]), answer["headers"].get("X-Cache", ""), answer["body"]
        )

    def racing_reader(self, mode: Mode, meanwhile: Callable[[], None]) -> Reader:
        """A reader of `mode` built like this container's, whose scan runs `meanwhile` before it
        returns: it stores what it read before whatever `meanwhile` did."""
        table = ScanThenWait(self._table_client, self.config.stats_table, meanwhile)
        cache = Cache.connect(self.config.cache)
        if mode is Mode.TATOURNEY:
            return Leaderboard(cache, table, self.config)
        if mode is Mode.SEED_CACHE:
            return SeedCacheLeaderboard(cache, table, seed_key(self.config))
        return UncachedLeaderboard(table)


class CacheAdmin:
    """Each mode's invalidation, and emptying its keys for a cold start."""

    def __init__(self, config: LeaderboardConfig) -> None:
        self._cache = Cache.connect(config.cache)
        self._keys = LeaderboardKeys.for_prefix(config.cache.key_prefix)
        self._seed_key = seed_key(config)
        self._invalidate = new_container("invalidate")
        self._seed_invalidator = SeedCacheInvalidator(self._cache, self._seed_key)

    def invalidate(self, mode: Mode, event: dict[str, Any]) -> None:
        """What the mode's stream function does with a batch of the stats stream."""
        if mode is Mode.TATOURNEY:
            answer = self._invalidate.handler(event, LocalContext("tatourney-invalidate"))
            if answer["batchItemFailures"]:
                raise RuntimeError(f"invalidate failed: {answer}")
        elif mode is Mode.SEED_CACHE:
            self._seed_invalidator.handler(event)

    def empty(self, mode: Mode) -> None:
        """Nothing cached for `mode`: a cold cache."""
        if mode is Mode.TATOURNEY:
            for key in (
                self._keys.board,
                self._keys.lease,
                self._keys.stale,
                self._keys.generation,
            ):
                self._cache.delete(key)
        elif mode is Mode.SEED_CACHE:
            self._cache.delete(self._seed_key)
