"""The consistency checker's figures for a row of the fault matrix: the run's changes checked from
memcached alone once the scenario is over, as the deployed checker checks them after its batching
window (src/tatourney/consistency_check.py)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tatourney.cache import Cache, LeaderboardKeys
from tatourney.config import CacheConfig
from tatourney.consistency_check import Change, ConsistencyChecker, Verdict

# Long enough for an invalidation still being retried when the scenario ends to go through.
RECHECK_SECONDS = 10


def checker_figures(
    config: CacheConfig, changes: Iterable[Change], clock_ahead_seconds: float
) -> dict[str, Any]:
    """Changes checked, how many were inconsistent, and the worst time from a change to the
    board that shows it (whose build time is on a clock `clock_ahead_seconds` ahead)."""
    checker = ConsistencyChecker(
        Cache.connect(config), LeaderboardKeys.for_prefix(config.key_prefix), RECHECK_SECONDS
    )
    checks = checker.check(list(changes))
    seconds = [
        max(c.seconds_to_consistent - clock_ahead_seconds, 0.0)
        for c in checks
        if c.seconds_to_consistent is not None
    ]
    return {
        "checker checks": len(checks),
        "checker inconsistent": sum(c.verdict is Verdict.INCONSISTENT for c in checks),
        "checker worst to consistent s": round(max(seconds), 2) if seconds else "-",
    }
