"""A thin memcached adapter: one home node per leaderboard, every call bounded by a short timeout,
every failure one exception.

A leaderboard's board, lease and scan progress live on one node, its *home*, chosen by rendezvous
hashing of the key prefix over the configured nodes; its generation counter and change log are on
the home and, kept by the invalidate function, on every other node of the list (invalidation.py),
so whichever node a changed list makes the home has followed every change. The home depends on
the node list only, never on which nodes answer: a client that remapped the keys of a node it
thinks dead would send the invalidation to another node, and the node would come back with the
old board still current (the remap problem of Facebook's "Scaling Memcache"). When the home node
fails, the cache is unavailable for this leaderboard and the reader goes to the table; after a
failure the node is set aside for DEAD_NODE_SECONDS (a circuit breaker), so an outage costs a
reader one timeout, not one per request. The invalidate function sets nothing aside: its retries
must reach the node as soon as it answers again.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pymemcache.client.base import PooledClient
from pymemcache.client.rendezvous import RendezvousHash
from pymemcache.exceptions import MemcacheError, MemcacheUnexpectedCloseError

from tatourney.config import CacheConfig

DEAD_NODE_SECONDS = 5
# v2: boards carry their rows and change-log position (v1 carried a rendered body);
# v3: the change log holds each changed player's version;
# v4: a board is a head, chunks of rows and deltas (board.py).
SCHEMA_VERSION = "v4"

Result = TypeVar("Result")


class CacheUnavailable(Exception):
    """memcached did not answer (down, timed out, set aside) or refused the call."""


@dataclass(frozen=True)
class LeaderboardKeys:
    """The protocol's keys; the schema version means a new value format never reads old values."""

    board: str
    generation: str
    lease: str
    log: str
    scan: str

    @classmethod
    def for_prefix(cls, prefix: str) -> LeaderboardKeys:
        base = f"{prefix}:{SCHEMA_VERSION}:lb"
        return cls(
            board=base,
            generation=f"{base}:gen",
            lease=f"{base}:lease",
            log=f"{base}:log",
            scan=f"{base}:scan",
        )

    def chunk(self, index: int, version: int) -> str:
        """Chunk `index` of the board as version `version` wrote it (board.py)."""
        return f"{self.board}:chunk:{index}:{version:x}"

    def delta(self, version: int) -> str:
        """The rows version `version` changed (board.py)."""
        return f"{self.board}:delta:{version:x}"


def home_node(endpoints: tuple[tuple[str, int], ...], key_prefix: str) -> tuple[str, int]:
    """The node that holds every key of the leaderboard with `key_prefix`.

    Rendezvous hashing: the same answer in every process for the same set of nodes, whatever
    their order; adding or removing a node moves only the prefixes whose home it was or becomes.
    """
    names = {f"{host}:{port}": (host, port) for host, port in endpoints}
    return names[RendezvousHash(sorted(names)).get_node(key_prefix)]


class Cache:
    """memcached operations on the home node that either succeed or raise CacheUnavailable."""

    def __init__(
        self, client: Any, endpoint: tuple[str, int], set_aside_seconds: float = DEAD_NODE_SECONDS
    ) -> None:
        self._client = client
        self.endpoint = endpoint
        self._set_aside_seconds = set_aside_seconds
        self._set_aside_until = 0.0
        self._lock = threading.Lock()

    @classmethod
    def connect(
        cls,
        config: CacheConfig,
        set_aside_seconds: float = DEAD_NODE_SECONDS,
        endpoint: tuple[str, int] | None = None,
    ) -> Cache:
        """A client for `endpoint`, by default the home node; connections open lazily and are
        reused while warm.

        With TLS (ElastiCache in-transit encryption) the node's certificate is verified against
        the system's trust store and the node's host name; SSL_CERT_FILE points elsewhere.
        """
        endpoint = endpoint or home_node(config.endpoints, config.key_prefix)
        tls_context = ssl.create_default_context() if config.tls else None
        client = PooledClient(
            endpoint,
            connect_timeout=config.timeout_seconds,
            timeout=config.timeout_seconds,
            no_delay=True,
            default_noreply=False,  # `add` and `cas` must say whether they stored
            tls_context=tls_context,
            max_pool_size=16,  # thread safe: the local runner serves requests on threads
        )
        return cls(client, endpoint, set_aside_seconds)

    @classmethod
    def connect_all(cls, config: CacheConfig, set_aside_seconds: float) -> list[Cache]:
        """A client for every node of the list, the home first."""
        home = home_node(config.endpoints, config.key_prefix)
        others = sorted(set(config.endpoints) - {home})
        return [cls.connect(config, set_aside_seconds, node) for node in (home, *others)]

    def _call(self, name: str, operation: Callable[[], Result]) -> Result:
        if time.monotonic() < self._set_aside_until:
            raise CacheUnavailable(f"{name}: node {self._where} set aside after a failure")
        try:
            return operation()
        except (OSError, MemcacheUnexpectedCloseError) as error:
            # The node did not answer: set it aside rather than pay a timeout per call.
            with self._lock:
                self._set_aside_until = time.monotonic() + self._set_aside_seconds
            raise CacheUnavailable(f"{name} on {self._where}: {error!r}") from error
        except MemcacheError as error:  # it answered, with an error (e.g. a value too large)
            raise CacheUnavailable(f"{name} on {self._where}: {error!r}") from error

    @property
    def _where(self) -> str:
        host, port = self.endpoint
        return f"{host}:{port}"

    def get(self, key: str) -> bytes | None:
        found: bytes | None = self._call("get", lambda: self._client.get(key))
        return found

    def get_many(self, keys: list[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = self._call("get_many", lambda: self._client.get_many(keys))
        return found

    def gets(self, key: str) -> tuple[bytes | None, bytes | None]:
        """The value and its CAS token (None, None when absent)."""
        value, token = self._call("gets", lambda: self._client.gets(key))
        return value, token

    def add(self, key: str, value: bytes, expire: int) -> bool:
        """Store only if absent; True when this call stored it."""
        return bool(self._call("add", lambda: self._client.add(key, value, expire, noreply=False)))

    def cas(self, key: str, value: bytes, token: bytes, expire: int) -> bool:
        """Store only if unchanged since `gets` gave `token`; True when this call stored it."""
        stored = self._call("cas", lambda: self._client.cas(key, value, token, expire, False))
        return bool(stored)

    def set(self, key: str, value: bytes, expire: int) -> None:
        stored = self._call("set", lambda: self._client.set(key, value, expire, noreply=False))
        if not stored:
            raise CacheUnavailable(f"set: {key} not stored")

    def set_many(self, values: dict[str, bytes], expire: int) -> None:
        """Store every value (one round trip); CacheUnavailable unless all were stored."""
        failed = self._call(
            "set_many", lambda: self._client.set_many(values, expire, noreply=False)
        )
        if failed:
            raise CacheUnavailable(f"set_many: {len(failed)} of {len(values)} values not stored")

    def delete(self, key: str) -> None:
        self._call("delete", lambda: self._client.delete(key, noreply=False))

    def incr(self, key: str) -> int | None:
        """Add one to a counter; None when the counter does not exist (never set, or evicted)."""
        value = self._call("incr", lambda: self._client.incr(key, 1, noreply=False))
        return None if value is None else int(value)
