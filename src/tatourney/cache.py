"""A thin memcached adapter: every call bounded by a short timeout, every failure one exception.

pymemcache's HashClient spreads keys over the nodes. With `retry_attempts=0` a node that fails
once is set aside for DEAD_NODE_SECONDS (a circuit breaker): while the cache is down, requests
pay no connect timeout at all and go straight to the table.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

from pymemcache.client.hash import HashClient
from pymemcache.exceptions import MemcacheError

from tatourney.config import CacheConfig

DEAD_NODE_SECONDS = 5
SCHEMA_VERSION = "v1"


class CacheUnavailable(Exception):
    """memcached did not answer (down, timed out, refused the value)."""


@dataclass(frozen=True)
class LeaderboardKeys:
    """The protocol's keys; the schema version means a new value format never reads old values."""

    board: str
    generation: str
    lease: str
    stale: str

    @classmethod
    def for_prefix(cls, prefix: str) -> LeaderboardKeys:
        base = f"{prefix}:{SCHEMA_VERSION}:lb"
        return cls(
            board=base, generation=f"{base}:gen", lease=f"{base}:lease", stale=f"{base}:stale"
        )


class Cache:
    """memcached operations that either succeed or raise CacheUnavailable."""

    def __init__(self, client: Any) -> None:
        self._client = client

    @classmethod
    def connect(cls, config: CacheConfig) -> Cache:
        """A client for the configured nodes; connections open lazily and are reused while warm.

        With TLS (ElastiCache in-transit encryption) each node's certificate is verified against
        the system's trust store and the node's host name; SSL_CERT_FILE points elsewhere.
        """
        tls_context = ssl.create_default_context() if config.tls else None
        return cls(
            HashClient(
                list(config.endpoints),
                connect_timeout=config.timeout_seconds,
                timeout=config.timeout_seconds,
                retry_attempts=0,
                dead_timeout=DEAD_NODE_SECONDS,
                use_pooling=True,  # thread safe: the local runner serves requests on threads
                default_noreply=False,  # `add` must say whether it won
                no_delay=True,
                tls_context=tls_context,
            )
        )

    def get_many(self, keys: list[str]) -> dict[str, bytes]:
        try:
            found: dict[str, bytes] = self._client.get_many(keys)
        except (MemcacheError, OSError) as error:
            raise CacheUnavailable(f"get_many: {error!r}") from error
        return found

    def add(self, key: str, value: bytes, expire: int) -> bool:
        """Store only if absent; True when this call stored it."""
        try:
            return bool(self._client.add(key, value, expire=expire, noreply=False))
        except (MemcacheError, OSError) as error:
            raise CacheUnavailable(f"add: {error!r}") from error

    def set(self, key: str, value: bytes, expire: int) -> None:
        try:
            stored = self._client.set(key, value, expire=expire, noreply=False)
        except (MemcacheError, OSError) as error:
            raise CacheUnavailable(f"set: {error!r}") from error
        if not stored:
            raise CacheUnavailable(f"set: {key} not stored")

    def delete(self, key: str) -> None:
        try:
            self._client.delete(key, noreply=False)
        except (MemcacheError, OSError) as error:
            raise CacheUnavailable(f"delete: {error!r}") from error

    def incr(self, key: str) -> int | None:
        """Add one to a counter; None when the counter does not exist (never set, or evicted)."""
        try:
            value = self._client.incr(key, 1, noreply=False)
        except (MemcacheError, OSError) as error:
            raise CacheUnavailable(f"incr: {error!r}") from error
        return None if value is None else int(value)
