"""The bench's viewer model (bench/viewers.py): its inputs are the deployed defaults, its formula
and its simulation agree, and the edge cache bounds the API's load whatever the viewers."""

from __future__ import annotations

import pytest

from bench.viewers import (
    Inputs,
    deployed_inputs,
    origin_requests_per_second,
    served_viewers,
    simulate,
)

TODAY = Inputs(poll_seconds=5, rate_per_second=50, burst=100, edge_ttl_seconds=2)


def test_the_inputs_are_the_sites_poll_and_the_root_modules_defaults() -> None:
    assert deployed_inputs() == TODAY


def test_without_the_edge_the_throttle_serves_rate_times_poll_viewers() -> None:
    # The figure: ~250 tabs polling every 5 s fill a 50 req/s stage.
    assert served_viewers(TODAY, ttl=0, pages=1, edges=1) == 250
    assert simulate(TODAY, 250, ttl=0, pages=1, edges=1).refused == 0
    crowded = simulate(TODAY, 500, ttl=0, pages=1, edges=1)
    assert crowded.refused_share == pytest.approx(0.5, abs=0.05)


@pytest.mark.parametrize(("pages", "edges"), [(1, 10), (10, 10)])
def test_with_the_edge_the_api_sees_at_most_edges_times_pages_over_ttl(
    pages: int, edges: int
) -> None:
    ceiling = pages * edges / TODAY.edge_ttl_seconds
    assert origin_requests_per_second(10**9, 5, 2, pages, edges) == pytest.approx(ceiling)
    run = simulate(TODAY, 10_000, ttl=2, pages=pages, edges=edges)
    assert run.refused == 0, "the edge keeps the API within its throttle"
    # Each page and edge fetches at most once per TTL (plus the first fetch of each).
    assert run.origin_requests <= ceiling * run.seconds + pages * edges
    assert served_viewers(TODAY, ttl=2, pages=pages, edges=edges) is None


def test_formula_and_simulation_agree_on_the_apis_load() -> None:
    for viewers in (100, 1_000):
        run = simulate(TODAY, viewers, ttl=2, pages=10, edges=10)
        expected = origin_requests_per_second(viewers, 5, 2, 10, 10)
        assert run.origin_per_second == pytest.approx(expected, rel=0.15), viewers
