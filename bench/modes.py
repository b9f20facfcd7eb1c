"""The three modes behind one handler: warm Lambda containers running the real leaderboard handler.

A container imports `functions/leaderboard/leaderboard_handler.py` afresh (the local runner's
`cold_start`), as a Lambda cold start does: its own configuration and clients. The handler reads
the module global `leaderboard` on every request, so a mode is chosen by pointing that one name at
a reader: a `Leaderboard` built as the handler builds its own for tatourney, or a baseline built
from the same configuration, cache and table. Event parsing, paging, ETag, gzip, logging and
metrics are the handler's own code in every mode; only the caching differs.

Every mode answers the same request, GET /stats as the site sends it (site/app.js): the default
page (`limit=100&offset=0`), `Accept: application/json`, the browser's `Accept-Encoding` (gzip
among others), and `If-None-Match` only when the caller gives the ETag it holds.
"""

from __future__ import annotations

import base64
import enum
import gzip
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from types import ModuleType
from typing import Any, Protocol

from bench.seed_cache import SeedCacheInvalidator, SeedCacheLeaderboard, scan_board
from tatourney.board import RenderedBoard
from tatourney.cache import Cache, LeaderboardKeys
from tatourney.config import LeaderboardConfig
from tatourney.leaderboard import Answer, Leaderboard, Served, Source
from tatourney.table import StatsTable, dynamodb_client
from tatourney_local.http_api import http_api_event
from tatourney_local.lambdas import LocalContext, cold_start

SITE_QUERY = "limit=100&offset=0"  # the site's first page (PAGE_SIZE in site/app.js)
BROWSER_ACCEPT_ENCODING = "gzip, deflate, br, zstd"  # what Chromium sends


class Mode(enum.StrEnum):
    UNCACHED = "uncached"  # the site before caching
    SEED_CACHE = "seed-cache"  # the original fix
    TATOURNEY = "tatourney"


class Reader(Protocol):
    def read(self) -> Answer: ...


class UncachedLeaderboard:
    """The site before caching: every request scans the whole table."""

    def __init__(self, table: StatsTable) -> None:
        self._table = table

    def read(self) -> Answer:
        board, trace = scan_board(self._table)
        return Served(RenderedBoard(0, time.time(), board), Source.MISS, trace)


class StoreAfter(Cache):
    """A cache whose first store of `key` runs `meanwhile` before it stores: the slow reader of
    the stale-set race, made deterministic (it has read the table; a change and its invalidation
    happen; then it stores what it read)."""

    def __init__(self, client: Any, endpoint: tuple[str, int], set_aside_seconds: float) -> None:
        super().__init__(client, endpoint, set_aside_seconds)
        self.key = ""
        self.meanwhile: Callable[[], None] | None = None

    def set(self, key: str, value: bytes, expire: int) -> None:
        if key == self.key and self.meanwhile is not None:
            meanwhile, self.meanwhile = self.meanwhile, None
            meanwhile()
        super().set(key, value, expire)


def site_request(*, accept_gzip: bool = True, if_none_match: str | None = None) -> dict[str, Any]:
    """The HTTP API event of the site's GET /stats (see the module docstring)."""
    headers = Message()
    headers["Host"] = "127.0.0.1"
    headers["Accept"] = "application/json"
    if accept_gzip:
        headers["Accept-Encoding"] = BROWSER_ACCEPT_ENCODING
    if if_none_match is not None:
        headers["If-None-Match"] = if_none_match
    return http_api_event("GET", f"/stats?{SITE_QUERY}", headers, "127.0.0.1", "GET /stats")


SITE_REQUEST = site_request()
_discarded_logs = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process


def new_container(function: str) -> ModuleType:
    """A function's handler module imported afresh, with the process's environment."""
    module = cold_start(function, {})
    # One JSON line per request is still formatted, as in Lambda, but not printed here.
    module.logger.registered_handler.setStream(_discarded_logs)
    # Powertools keeps metrics in class attributes, one set per process: a Lambda container is
    # a process, so each container here gets sets of its own (else concurrent requests in this
    # one process would flush each other's). The EMF line is still serialised and printed.
    provider = module.metrics.provider
    provider.metric_set, provider.dimension_set, provider.metadata_set = {}, {}, {}
    return module


@dataclass(frozen=True)
class Response:
    status: int
    cache: str  # X-Cache, or "" for an error
    etag: str | None
    wire: bytes  # the body as sent: gzip when Content-Encoding says so
    gzipped: bool

    @property
    def body(self) -> str:
        """The body as the client reads it (decompressed)."""
        return (gzip.decompress(self.wire) if self.gzipped else self.wire).decode()


def response_of(answer: dict[str, Any]) -> Response:
    headers = answer["headers"]
    body = answer["body"]
    wire = base64.b64decode(body) if answer.get("isBase64Encoded") else body.encode()
    return Response(
        int(answer["statusCode"]),
        headers.get("X-Cache", ""),
        headers.get("ETag"),
        wire,
        headers.get("Content-Encoding") == "gzip",
    )


def seed_key(config: LeaderboardConfig) -> str:
    return f"{config.cache.key_prefix}:seed:leaderboard"


class Container:
    """One warm leaderboard container (see the module docstring)."""

    def __init__(self) -> None:
        self._module = new_container("leaderboard")
        self._context = LocalContext("tatourney-leaderboard")
        self.config: LeaderboardConfig = self._module.config
        self._table_client = dynamodb_client(self.config.table_max_attempts, os.environ)
        self._table = StatsTable(lambda: self._table_client, self.config.stats_table)
        self._cache = Cache.connect(self.config.cache)

    def start(self, mode: Mode) -> None:
        """Serve `mode` from now on, as a container that has served nothing yet (no board in
        memory), on this container's warm connections."""
        reader: Reader
        if mode is Mode.TATOURNEY:
            reader = Leaderboard(self._cache, self._table, self.config)  # as the handler does
        elif mode is Mode.SEED_CACHE:
            reader = SeedCacheLeaderboard(self._cache, self._table, seed_key(self.config))
        else:
            reader = UncachedLeaderboard(self._table)
        vars(self._module)["leaderboard"] = reader  # the handler's global

    def get_stats(self, event: dict[str, Any] = SITE_REQUEST) -> Response:
        """One GET /stats through the handler (the handler answers every event itself)."""
        return response_of(self._module.handler(event, self._context))

    def respond(self, event: dict[str, Any]) -> str:
        """The handler's `respond` alone, without its decorators, log line and metrics: the
        X-Cache of its answer."""
        response, _ = self._module.respond(event)
        return str(response["headers"].get("X-Cache", ""))

    def racing_reader(self, mode: Mode, meanwhile: Callable[[], None]) -> Reader:
        """A reader of `mode` built like this container's, whose store of the board runs
        `meanwhile` first: it stores what it read before whatever `meanwhile` did."""
        cache = StoreAfter.connect(self.config.cache)
        assert isinstance(cache, StoreAfter)  # connect builds its own class
        cache.meanwhile = meanwhile
        if mode is Mode.TATOURNEY:
            cache.key = LeaderboardKeys.for_prefix(self.config.cache.key_prefix).board
            return Leaderboard(cache, self._table, self.config)
        cache.key = seed_key(self.config)
        return SeedCacheLeaderboard(cache, self._table, cache.key)


class CacheAdmin:
    """Each mode's invalidation, and emptying its keys for a cold start."""

    def __init__(self, config: LeaderboardConfig) -> None:
        self.cache = Cache.connect(config.cache)
        self.keys = LeaderboardKeys.for_prefix(config.cache.key_prefix)
        self._seed_key = seed_key(config)
        self._invalidate = new_container("invalidate")
        self._seed_invalidator = SeedCacheInvalidator(self.cache, self._seed_key)

    def invalidate(self, mode: Mode, event: dict[str, Any]) -> None:
        """What the mode's stream function does with a batch of the stats stream: tatourney's is
        the real invalidate handler, which takes the changed players from the records."""
        if mode is Mode.TATOURNEY:
            answer = self._invalidate.handler(event, LocalContext("tatourney-invalidate"))
            if answer["batchItemFailures"]:
                raise RuntimeError(f"invalidate failed: {answer}")
        elif mode is Mode.SEED_CACHE:
            self._seed_invalidator.handler(event)

    def empty(self, mode: Mode) -> None:
        """Nothing cached for `mode`: a cold cache."""
        if mode is Mode.TATOURNEY:
            keys = self.keys
            for key in (keys.board, keys.generation, keys.lease, keys.log, keys.scan):
                self.cache.delete(key)
        elif mode is Mode.SEED_CACHE:
            self.cache.delete(self._seed_key)
