"""How many viewers the site serves before the API's stage throttle answers 429, without and with
CloudFront's shared cache in front of GET /stats. A MODEL, not a measurement: nothing here talks
to CloudFront or API Gateway.

Its inputs are the deployed defaults, read from where they are set: the site's poll interval
(`REFRESH_SECONDS` in site/app.js), the stage throttle (`api_throttling_rate_limit` and
`api_throttling_burst_limit`) and the edge TTL (`stats_edge_ttl_seconds`) from the root module's
variables. What is modelled:

- each viewer polls its page every REFRESH_SECONDS, at a random phase, through one edge location;
- the stage throttle is a token bucket (rate, burst) shared by every caller; a request that finds
  it empty is answered 429;
- an edge location keeps each page TTL seconds from the answer it fetched; a request for a page it
  holds is answered at the edge (a 200, or a 304 for the viewer's If-None-Match), one for a page
  it does not hold goes to the API. A page asked for at rate lam at one edge location then costs
  the API 1 / (TTL + 1 / lam) requests per second (each fetch opens a TTL-long window), at most
  1 / TTL.

So the API sees at most edges x pages / TTL requests per second, however many viewers there are;
`served_viewers` solves for the viewers whose requests stay within the throttle's rate, and
`simulate` plays the polls through the token bucket to count 429s (deterministic: seeded).
"""

from __future__ import annotations

import heapq
import random
import re
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

ROOT = Path(__file__).resolve().parents[1]
VIEWERS = (100, 250, 500, 1_000, 10_000, 100_000)
TTLS = (0, 1, 2, 5)
PAGES = (1, 10)
EDGES = (1, 10, 50)
SIMULATED_SECONDS = 60.0
MAX_SIMULATED_POLLS = 400_000  # bounds the simulation's work: viewers x polls per viewer


@dataclass(frozen=True)
class Inputs:
    poll_seconds: float
    rate_per_second: float
    burst: float
    edge_ttl_seconds: float


@cache
def deployed_inputs() -> Inputs:
    """The site's poll interval and the root module's defaults."""
    script = (ROOT / "site" / "app.js").read_text()
    poll = re.search(r"const REFRESH_SECONDS = (\d+);", script)
    if poll is None:
        raise ValueError("site/app.js has no REFRESH_SECONDS")
    with (ROOT / "variables.tf").open() as file:
        options = SerializationOptions(strip_string_quotes=True, explicit_blocks=False)
        blocks = hcl2.load(file, serialization_options=options)["variable"]
    defaults = {name: body.get("default") for block in blocks for name, body in block.items()}
    return Inputs(
        poll_seconds=float(poll.group(1)),
        rate_per_second=float(defaults["api_throttling_rate_limit"]),
        burst=float(defaults["api_throttling_burst_limit"]),
        edge_ttl_seconds=float(defaults["stats_edge_ttl_seconds"]),
    )


def origin_requests_per_second(
    viewers: float, poll_seconds: float, ttl: float, pages: int, edges: int
) -> float:
    """Requests per second reaching the API: viewers spread evenly over pages and edges."""
    offered = viewers / poll_seconds
    if ttl <= 0:
        return offered
    per_page_and_edge = offered / (pages * edges)
    return pages * edges / (ttl + 1 / per_page_and_edge)


def served_viewers(inputs: Inputs, ttl: float, pages: int, edges: int) -> float | None:
    """The most viewers whose requests stay within the throttle's rate (None: any number)."""
    windows = pages * edges
    if windows / inputs.rate_per_second <= ttl:
        return None
    return round(inputs.poll_seconds * windows / (windows / inputs.rate_per_second - ttl))


@dataclass(frozen=True)
class Simulation:
    viewers: int
    ttl: float
    pages: int
    edges: int
    seconds: float
    polls: int
    origin_requests: int
    refused: int  # 429s

    @property
    def origin_per_second(self) -> float:
        return self.origin_requests / self.seconds

    @property
    def refused_share(self) -> float:
        return self.refused / self.polls if self.polls else 0.0


def simulate(
    inputs: Inputs, viewers: int, ttl: float, pages: int, edges: int, *, seed: int = 23
) -> Simulation:
    """Every poll of `viewers` over SIMULATED_SECONDS (fewer if that would exceed
    MAX_SIMULATED_POLLS), through the edge caches and the token bucket."""
    rng = random.Random(seed)
    seconds = min(SIMULATED_SECONDS, MAX_SIMULATED_POLLS * inputs.poll_seconds / viewers)
    polls = [
        (rng.uniform(0, inputs.poll_seconds), rng.randrange(pages), rng.randrange(edges))
        for _ in range(viewers)
    ]
    heapq.heapify(polls)
    held_until: dict[tuple[int, int], float] = {}
    tokens, refilled_at = inputs.burst, 0.0
    count = origin = refused = 0
    while polls and polls[0][0] < seconds:
        at, page, edge = heapq.heappop(polls)
        count += 1
        heapq.heappush(polls, (at + inputs.poll_seconds, page, edge))
        if held_until.get((page, edge), -1.0) > at:
            continue  # answered at the edge
        origin += 1
        tokens = min(inputs.burst, tokens + (at - refilled_at) * inputs.rate_per_second)
        refilled_at = at
        if tokens < 1:
            refused += 1  # a 429 is not cached: the next viewer's request goes to the API again
            continue
        tokens -= 1
        if ttl > 0:
            held_until[(page, edge)] = at + ttl
    return Simulation(viewers, ttl, pages, edges, seconds, count, origin, refused)


def _simulated(inputs: Inputs, viewers: int, ttl: float, pages: int, edges: int) -> dict[str, Any]:
    run = simulate(inputs, viewers, ttl, pages, edges)
    return {
        **asdict(run),
        "origin_per_second": round(run.origin_per_second, 2),
        "refused_share": round(run.refused_share, 4),
    }


def model(inputs: Inputs | None = None) -> dict[str, Any]:
    """The viewer model's figures: served viewers and origin load by TTL, pages and edges; and
    the simulated 429 share today (no edge cache) and with the default edge TTL."""
    inputs = inputs or deployed_inputs()
    ttl = inputs.edge_ttl_seconds
    return {
        "inputs": asdict(inputs),
        "served_viewers": [
            {"ttl": t, "pages": p, "edges": e, "viewers": served_viewers(inputs, t, p, e)}
            for t in TTLS
            for p in PAGES
            for e in EDGES
        ],
        "origin_per_second": [
            {
                "ttl": t,
                "pages": p,
                "edges": e,
                "viewers": v,
                "requests_per_second": round(
                    origin_requests_per_second(v, inputs.poll_seconds, t, p, e), 2
                ),
            }
            for t in TTLS
            for p in PAGES
            for e in EDGES
            for v in (1_000, 100_000)
        ],
        "simulated": [
            {"today": _simulated(inputs, v, 0, 1, 10), "edge": _simulated(inputs, v, ttl, 10, 10)}
            for v in VIEWERS
        ],
    }
