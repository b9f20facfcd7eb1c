"""One benchmark run: every mode measured side by side at each table size, as a results dict."""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from bench import replica_lag
from bench.capacity import BURST_SECONDS, TableMeter
from bench.checker import checker_under_lag
from bench.measure import (
    PROVISIONED_READ_UNITS,
    RAW_SMALL_GET,
    RAW_SMALL_VALUE_BYTES,
    ColdStart,
    FreshnessTrial,
    HerdRun,
    LoadRun,
    SteadyRun,
    catch_up,
    cold_start,
    container_memory,
    freshness,
    herd,
    herd_after_change,
    hit_variants,
    offered_load,
    poll_bytes,
    raw_gets,
    stale_race,
    steady_state,
)
from bench.modes import CacheAdmin, Container, Mode
from bench.stack import RECORDS_PER_GAME, Changes, Stack, bench_stack, item_bytes, player_item
from bench.viewers import model as viewer_model

MODES = (Mode.UNCACHED, Mode.SEED_CACHE, Mode.TATOURNEY)
CACHED_MODES = (Mode.SEED_CACHE, Mode.TATOURNEY)


@dataclass(frozen=True)
class Plan:
    """How much to measure: counts and time bounds for every loop."""

    name: str
    players: tuple[int, ...]
    item_size_bytes: int  # memcached's -I (and CACHE_ITEM_LIMIT_BYTES)
    requests: int  # per mode and size, sequential
    seconds_per_mode: float  # ... or until this much time has passed
    change_every: int  # a change (a game, its stream batch, the invalidation) every this many
    hit_requests: int  # per variant of the site's request (gzip, identity, 304)
    raw_gets: int
    herd_readers: tuple[int, ...]
    # A baseline herd of N readers scans up to N times: run it only if N scans read at most
    # this many read units in all (a budget in time that does not vary with the machine).
    herd_budget_read_units: float
    freshness_trials: int
    catch_up_games: int  # games after which the rebuild and another container's hit are timed
    race_followups: int
    load_rps: float
    load_seconds: float
    load_change_every_seconds: float
    load_containers: int
    # A baseline's offered load runs only if its requests would read at most this many read
    # units in all (at its latency loop's read units per request): past it, its answers can only
    # be 5xx, and its threads would hold the machine for minutes.
    load_budget_read_units: float
    checker_games: int  # per replica lag and mechanism setting (bench/checker.py)
    replica_lag_players: int  # the board bench/replica_lag.py follows changes on
    replica_lag_changes: int  # changes per case (normal, worst)


FULL = Plan(
    name="full",
    players=(10, 1_000, 10_000),
    item_size_bytes=1 << 20,
    requests=2_000,
    seconds_per_mode=8.0,
    change_every=100,
    hit_requests=1_000,
    raw_gets=2_000,
    herd_readers=(1, 10, 50, 200),
    herd_budget_read_units=10_000,
    freshness_trials=5,
    catch_up_games=9,
    race_followups=20,
    load_rps=20.0,
    load_seconds=10.0,
    load_change_every_seconds=2.0,
    load_containers=64,
    load_budget_read_units=100_000,
    checker_games=10,
    replica_lag_players=1_000,
    replica_lag_changes=50,
)
QUICK = dataclasses.replace(
    FULL,
    name="quick",
    players=(10, 1_000),
    requests=300,
    seconds_per_mode=1.5,
    hit_requests=200,
    raw_gets=300,
    herd_readers=(1, 10, 50),
    herd_budget_read_units=2_500,
    freshness_trials=2,
    catch_up_games=5,
    race_followups=5,
    load_seconds=2.0,
    load_change_every_seconds=0.7,
    load_containers=48,
    checker_games=3,
    replica_lag_players=replica_lag.QUICK_PLAYERS,
    replica_lag_changes=replica_lag.QUICK_CHANGES,
)


def percentiles(values: list[float]) -> dict[str, float | int | None]:
    """p50/p95/p99 (linear interpolation), mean, max, count; None where there is no sample."""
    if not values:
        return {"count": 0, "p50": None, "p95": None, "p99": None, "mean": None, "max": None}
    ordered = sorted(values)

    def at(share: float) -> float:
        position = share * (len(ordered) - 1)
        low = int(position)
        high = min(low + 1, len(ordered) - 1)
        return ordered[low] + (ordered[high] - ordered[low]) * (position - low)

    return {
        "count": len(ordered),
        "p50": round(at(0.50), 4),
        "p95": round(at(0.95), 4),
        "p99": round(at(0.99), 4),
        "mean": round(statistics.fmean(ordered), 4),
        "max": round(ordered[-1], 4),
    }


def _meter_figures(meter: TableMeter) -> dict[str, Any]:
    return {**asdict(meter), "read_units": round(meter.read_units, 2)}


def _steady_figures(run: SteadyRun) -> dict[str, Any]:
    per_request = run.meter.read_units / run.requests
    per_change = run.meter.read_units / run.changes if run.changes else None
    return {
        "latency_ms": percentiles(run.latencies_ms),
        "hit_latency_ms": percentiles(run.hit_latencies_ms),
        "requests_per_second": round(1000 * run.requests / sum(run.latencies_ms), 1),
        "requests": run.requests,
        "changes": run.changes,
        "outcomes": run.outcomes,
        "table": _meter_figures(run.meter),
        "scans_per_1000_requests": round(1000 * run.meter.scans / run.requests, 2),
        "read_units_per_1000_requests": round(1000 * per_request, 2),
        # Every read of the table in the run, over the changes in it: for uncached, the scans
        # of the requests between two changes (it reads on every request, not on a change).
        "read_units_per_change": None if per_change is None else round(per_change, 3),
        "read_units_per_changed_player": (
            None if per_change is None else round(per_change / RECORDS_PER_GAME, 3)
        ),
        # The model: the provisioned read units per second over the read units a request costs.
        "sustained_rps_at_1_rcu": (
            round(PROVISIONED_READ_UNITS / per_request, 4) if per_request else None
        ),
        "wire_bytes": run.wire_bytes,
    }


def _freshness_figures(trials: list[FreshnessTrial]) -> dict[str, Any]:
    def median(values: list[float | None]) -> float | None:
        present = [v for v in values if v is not None]
        return round(statistics.median(present), 2) if present else None

    return {
        "trials": [asdict(t) for t in trials],
        "median_stream_ms": median([t.stream_ms for t in trials]),
        "median_invalidated_ms": median([t.invalidated_ms for t in trials]),
        "median_fresh_ms": median([t.fresh_ms for t in trials]),
        "never_fresh": sum(t.fresh_ms is None for t in trials),
    }


def _load_figures(run: LoadRun) -> dict[str, Any]:
    errors = sum(n for outcome, n in run.outcomes.items() if outcome[0] == "5")
    stale = run.outcomes.get("200 STALE", 0)
    fresh = run.requests - errors - stale
    return {
        "offered_rps": run.offered_rps,
        "seconds": run.seconds,
        "elapsed_seconds": round(run.elapsed_seconds, 2),
        "requests": run.requests,
        "changes": run.changes,
        "outcomes": run.outcomes,
        "error_share": round(errors / run.requests, 4),
        "stale_share": round(stale / run.requests, 4),
        "served_fresh_rps": round(fresh / run.elapsed_seconds, 2),
        "latency_ms": percentiles(run.latencies_ms),
        "table": _meter_figures(run.meter),
    }


def _herd_figures(run: HerdRun) -> dict[str, Any]:
    by_outcome: dict[str, list[float]] = {}
    for answer, latency in run.answers:
        by_outcome.setdefault(answer, []).append(latency)
    return {
        "scans": run.meter.scans,
        "batch_gets": run.meter.batch_gets,
        "sweep_pages": run.meter.sweep_pages,
        "table": _meter_figures(run.meter),
        "outcomes": {answer: percentiles(values) for answer, values in by_outcome.items()},
        "seconds": round(run.seconds, 3),
    }


@dataclass
class Session:
    """The stack and the warm containers a run measures with, and where raw latencies go."""

    plan: Plan
    stack: Stack
    containers: list[Container]
    admin: CacheAdmin
    changes: Changes
    progress: Callable[[str], None]
    latencies: dict[str, dict[str, list[float]]]  # players -> series -> latencies (ms)


def measure_size(session: Session, players: int) -> dict[str, Any]:
    session.progress(f"{players} players: loading")
    session.stack.grow_to(players)
    session.changes.follow_from_now()
    modes: dict[str, dict[str, Any]] = {mode.value: {} for mode in MODES}
    raw = _latency_and_cost(session, players, modes)
    session.progress(f"{players} players: bytes per poll, memory of a warm container")
    polls = poll_bytes(session.containers[0], session.changes, session.admin)
    caught_up = catch_up(
        session.containers, session.changes, session.admin, session.plan.catch_up_games
    )
    memory = container_memory(session.admin)
    _freshness_and_race(session, players, modes)
    _offered_load(session, players, modes)  # before the herds, which leave DynamoDB Local busy
    session.progress(f"{players} players: tatourney cold start")
    session.stack.settle()
    cold = cold_start(session.containers[0], session.stack, session.admin)
    _herds(session, players, modes)
    steady = modes[Mode.UNCACHED.value]["steady"]
    return {
        "players": players,
        "load_seconds": round(session.stack.load_seconds[players], 2),
        "item_bytes": item_bytes(player_item(1)),
        "scan_read_units": round(steady["read_units_per_1000_requests"] / 1000, 2),
        "raw_get_ms": raw,
        "hit_vs_raw_small_get": _hit_ratio(modes, raw),
        "poll_bytes": asdict(polls),
        "container_memory_bytes": asdict(memory),
        "after_a_game_ms": {
            "rebuild": percentiles(caught_up.rebuild_ms),
            "other_container_first_hit": percentiles(caught_up.other_container_first_hit_ms),
        },
        "cold_start": _cold_start(cold),
        "modes": modes,
    }


def _hit_ratio(modes: dict[str, dict[str, Any]], raw: dict[str, Any]) -> dict[str, Any]:
    """The target's figure: tatourney's hit p50 (the site's request, gzip) over the raw get's,
    both from the interleaved loop; and the same from the latency loop and the raw get loop."""
    hits = modes[Mode.TATOURNEY.value]["hits"]
    hit, small = hits["gzip"]["p50"], hits[RAW_SMALL_GET]["p50"]
    steady_hit = modes[Mode.TATOURNEY.value]["steady"]["hit_latency_ms"]["p50"]
    separate = raw["small"]["p50"]

    def ratio(numerator: float | None, denominator: float | None) -> float | None:
        return round(numerator / denominator, 2) if numerator and denominator else None

    return {
        "value_bytes": RAW_SMALL_VALUE_BYTES,
        "hit_p50_ms": hit,
        "raw_get_p50_ms": small,
        "ratio": ratio(hit, small),
        "latency_loop_hit_p50_ms": steady_hit,
        "raw_get_loop_p50_ms": separate,
        "separate_loops_ratio": round(steady_hit / separate, 2)
        if steady_hit and separate
        else None,
    }


def _cold_start(run: ColdStart) -> dict[str, Any]:
    """What the first board costs a 1-RCU table: the read units of tatourney's full Scan as
    measured (one reader on an empty cache, over as many requests as it took), and the time
    COMPUTED from them: DynamoDB supplies PROVISIONED_READ_UNITS a second, plus what the table
    has banked (at most BURST_SECONDS)."""
    read_units = run.meter.read_units
    banked = PROVISIONED_READ_UNITS * BURST_SECONDS
    return {
        "full_scan_read_units": read_units,
        "full_scan_pages": run.meter.scan_pages,
        "requests": run.requests,
        "seconds_to_first_board_no_burst": round(read_units / PROVISIONED_READ_UNITS, 1),
        "seconds_to_first_board_full_burst": round(
            max(0.0, read_units - banked) / PROVISIONED_READ_UNITS, 1
        ),
        "how": "read units measured; seconds computed (read units / provisioned RCU)",
    }


def _latency_and_cost(
    session: Session, players: int, modes: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """Each mode's steady state and hits, then the raw memcached gets (returned): of a 100-byte
    value, and of the board's value as cached (what a seed-cache hit gets)."""
    plan, lead = session.plan, session.containers[0]
    series = session.latencies.setdefault(str(players), {})
    for mode in MODES:
        session.progress(f"{players} players: {mode} latency and cost")
        run = steady_state(
            lead,
            mode,
            session.stack,
            session.changes,
            session.admin,
            max_requests=plan.requests,
            max_seconds=plan.seconds_per_mode,
            change_every=plan.change_every,
        )
        series[mode.value] = run.latencies_ms
        modes[mode.value]["steady"] = _steady_figures(run)
        if mode in CACHED_MODES:
            variants = hit_variants(lead, session.stack, plan.hit_requests, plan.seconds_per_mode)
            modes[mode.value]["hits"] = {name: percentiles(ms) for name, ms in variants.items()}
    board = session.admin.cache.get(session.admin.keys.board) or b""
    session.progress(f"{players} players: raw memcached gets")
    small = raw_gets(session.stack, RAW_SMALL_VALUE_BYTES, plan.raw_gets, plan.seconds_per_mode / 4)
    whole = raw_gets(session.stack, len(board), plan.raw_gets, plan.seconds_per_mode / 4)
    series[f"raw memcached get, {RAW_SMALL_VALUE_BYTES} B"] = small
    return {
        "small": {"value_bytes": RAW_SMALL_VALUE_BYTES, **percentiles(small)},
        "board": {"value_bytes": len(board), **percentiles(whole)},
    }


def _freshness_and_race(session: Session, players: int, modes: dict[str, dict[str, Any]]) -> None:
    lead, changes, admin = session.containers[0], session.changes, session.admin
    for mode in MODES:
        session.progress(f"{players} players: {mode} freshness")
        modes[mode.value]["freshness"] = _freshness_figures(
            freshness(lead, mode, changes, admin, session.plan.freshness_trials)
        )
    for mode in CACHED_MODES:
        session.progress(f"{players} players: {mode} stale-set race")
        modes[mode.value]["race"] = asdict(
            stale_race(lead, mode, changes, admin, session.plan.race_followups)
        )


def _offered_load(session: Session, players: int, modes: dict[str, dict[str, Any]]) -> None:
    plan = session.plan
    for mode in MODES:
        per_request = modes[mode.value]["steady"]["read_units_per_1000_requests"] / 1000
        read_units = plan.load_rps * plan.load_seconds * per_request
        if mode is not Mode.TATOURNEY and read_units > plan.load_budget_read_units:
            modes[mode.value]["load"] = {
                "skipped": f"{read_units:,.0f} read units exceed the run's budget"
            }
            continue
        session.progress(f"{players} players: {mode} offered load at 1 RCU (model)")
        session.stack.settle()
        modes[mode.value]["load"] = _load_figures(
            offered_load(
                session.containers[: plan.load_containers],
                mode,
                session.stack,
                session.changes,
                session.admin,
                rate=plan.load_rps,
                seconds=plan.load_seconds,
                change_every_seconds=plan.load_change_every_seconds,
            )
        )


def _herds(session: Session, players: int, modes: dict[str, dict[str, Any]]) -> None:
    """Cold readers in every mode; readers after one change in the cached modes (uncached has
    nothing to change: its readers after a change are its cold readers)."""
    plan = session.plan
    scan_read_units = modes[Mode.UNCACHED.value]["steady"]["read_units_per_1000_requests"] / 1000
    for mode in MODES:
        for after_change in (False, True) if mode in CACHED_MODES else (False,):
            herds: dict[str, Any] = {}
            for readers in plan.herd_readers:
                over_budget = readers * scan_read_units > plan.herd_budget_read_units
                if mode is not Mode.TATOURNEY and over_budget:
                    herds[str(readers)] = {"skipped": f"{readers} scans exceed the run's budget"}
                    continue
                what = "after a change" if after_change else "cold"
                session.progress(f"{players} players: {mode} herd of {readers}, {what}")
                session.stack.settle()
                containers = session.containers[:readers]
                run = (
                    herd_after_change(
                        containers, mode, session.stack, session.changes, session.admin
                    )
                    if after_change
                    else herd(containers, mode, session.stack, session.admin)
                )
                herds[str(readers)] = _herd_figures(run)
            modes[mode.value]["herd_after_change" if after_change else "herd"] = herds


def run(plan: Plan, progress: Callable[[str], None]) -> tuple[dict[str, Any], Session]:
    started = time.monotonic()
    with bench_stack(plan.item_size_bytes) as stack:
        count = max((*plan.herd_readers, plan.load_containers))
        progress(f"starting {count} warm containers")
        containers = [Container() for _ in range(count)]
        session = Session(
            plan=plan,
            stack=stack,
            containers=containers,
            admin=CacheAdmin(containers[0].config),
            changes=Changes(stack),
            progress=progress,
            latencies={},
        )
        sizes = [measure_size(session, players) for players in plan.players]
        checker = checker_under_lag(
            stack, session.changes, session.admin, plan.checker_games, progress
        )
        progress("read units per change under the replica-lag fault")
        lagged = replica_lag.measure(stack, plan.replica_lag_players, plan.replica_lag_changes)
    return {
        "plan": asdict(plan),
        "request": {
            "path": "/stats?limit=100&offset=0",
            "headers": "Accept: application/json; Accept-Encoding: gzip, deflate, br, zstd",
            "note": "the site's request (site/app.js) on a first visit or a changed board; "
            "the latency loop sends no If-None-Match, so every answer carries the page "
            "(gzipped); hits are also timed without gzip and as 304 revalidations",
        },
        "model": {
            "note": "DynamoDB Local never throttles: the throttling here is a MODEL "
            "(bench/capacity.py)",
            "provisioned_read_units": PROVISIONED_READ_UNITS,
            "burst_seconds": BURST_SECONDS,
            "bucket_at_start": "empty (as after a busy period)",
        },
        "sizes": sizes,
        "checker": checker,
        "replica_lag": lagged,
        "viewers": viewer_model(),
        "seconds": round(time.monotonic() - started, 1),
    }, session
