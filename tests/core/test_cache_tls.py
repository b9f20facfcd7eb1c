"""CACHE_TLS: the functions talk TLS to a memcached that serves only TLS, as ElastiCache does with
in-transit encryption; a client that cannot complete the handshake is a cache outage, not an error.
Real memcached with -Z and a certificate made for this test by the openssl CLI."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tatourney.config import LeaderboardConfig
from tatourney.leaderboard import Source
from tatourney_local.services import Memcached
from tatourney_local.tables import TableNames
from tests.conftest import Reader
from tests.core.boards import TEN_PLAYERS, players
from tests.support import LocalAws


def make_certificate(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    openssl = shutil.which("openssl")
    assert openssl, "openssl (Debian package openssl) is needed to make the test certificate"
    certificate, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(certificate), "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    return certificate, key


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    return make_certificate(tmp_path, "memcached")


@pytest.fixture
def tls_memcached(certificate: tuple[Path, Path]) -> Iterator[Memcached]:
    server = Memcached.start(tls=certificate)
    yield server
    server.stop()


def tls_reader(
    make_reader: Callable[..., Reader], lambda_env: dict[str, str], server: Memcached, tls: bool
) -> Reader:
    cache = LeaderboardConfig.from_env({**lambda_env, "CACHE_ENDPOINTS": server.endpoint}).cache
    return make_reader(cache=dataclasses.replace(cache, tls=tls))


def test_tls_client_caches_through_a_tls_only_node(
    make_reader: Callable[..., Reader],
    lambda_env: dict[str, str],
    aws: LocalAws,
    tables: TableNames,
    tls_memcached: Memcached,
    certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # trust the test's own CA
    aws.put_stats(tables.stats, TEN_PLAYERS)
    reader = tls_reader(make_reader, lambda_env, tls_memcached, tls=True)
    sources = [reader.leaderboard.read().source for _ in range(2)]  # type: ignore[union-attr]
    assert sources == [Source.MISS, Source.HIT]
    assert len(players(reader.leaderboard.read())) == 10
    assert len(reader.scans) == 1


def test_plain_client_against_a_tls_node_is_a_cache_outage_answered_from_the_table(
    make_reader: Callable[..., Reader],
    lambda_env: dict[str, str],
    aws: LocalAws,
    tables: TableNames,
    tls_memcached: Memcached,
) -> None:
    aws.put_stats(tables.stats, TEN_PLAYERS)
    reader = tls_reader(make_reader, lambda_env, tls_memcached, tls=False)
    reader.reads_from_the_table(3)
    assert len(reader.scans) == 3


def test_tls_client_refuses_a_certificate_it_does_not_trust(
    make_reader: Callable[..., Reader],
    lambda_env: dict[str, str],
    aws: LocalAws,
    tables: TableNames,
    tls_memcached: Memcached,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    other_ca, _ = make_certificate(tmp_path, "other")
    monkeypatch.setenv("SSL_CERT_FILE", str(other_ca))
    aws.put_stats(tables.stats, TEN_PLAYERS)
    reader = tls_reader(make_reader, lambda_env, tls_memcached, tls=True)
    reader.reads_from_the_table(3)
    assert len(reader.scans) == 3, "nothing was cached on a node whose certificate failed"
