"""The results as a table on stdout, latest.json, a Markdown summary for the README, and a plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.machine import describe_machine
from bench.plot import plot_latencies

__all__ = ["describe_machine", "print_table", "summary_markdown", "write_outputs"]

MODES = ("uncached", "seed-cache", "tatourney")
MODEL_NOTE = (
    "Throttling is a MODEL: DynamoDB Local never throttles, so a token bucket (1 RCU per second, "
    "up to 300 s of unused capacity, empty at the start) is charged with the ConsumedCapacity "
    "DynamoDB Local reports and answers ProvisionedThroughputExceededException through botocore, "
    "whose own retries then run (bench/capacity.py)."
)


def _number(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100 or digits == 0:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def _share(value: float) -> str:
    return f"{100 * value:.0f}%"


def _machine_line(results: dict[str, Any]) -> str:
    machine = results["machine"]
    return (
        f"{machine['cpus']} x {machine['cpu']}, {machine['memory_gib']} GiB, "
        f"Python {machine['python']}, {machine['memcached']}, {machine['dynamodb_local']}"
    )


def _cost_table(results: dict[str, Any]) -> list[list[str]]:
    """Latency and what each request costs the table; the raw memcached get as the floor."""
    rows = [
        [
            "players",
            "mode",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "hit p50 ms",
            "req/s, 1 container",
            "scans / 1k req",
            "RCU / 1k req",
            "req/s at 1 RCU (model)",
        ]
    ]
    for size in results["sizes"]:
        players = f"{size['players']:,}"
        for mode in MODES:
            steady = size["modes"][mode]["steady"]
            latency = steady["latency_ms"]
            rows.append(
                [
                    players,
                    mode,
                    _number(latency["p50"], 2),
                    _number(latency["p95"], 2),
                    _number(latency["p99"], 2),
                    _number(steady["hit_latency_ms"]["p50"], 2),
                    _number(steady["requests_per_second"], 0),
                    _number(steady["scans_per_1000_requests"]),
                    _number(steady["read_units_per_1000_requests"]),
                    _number(steady["sustained_rps_at_1_rcu"], 3),
                ]
            )
        raw = size["raw_get_ms"]
        body = size["modes"]["tatourney"]["steady"]["body_bytes"]
        rows.append(
            [
                players,
                f"raw memcached get, {body:,} B",
                _number(raw["p50"], 3),
                _number(raw["p95"], 3),
                _number(raw["p99"], 3),
                *["-"] * 5,
            ]
        )
    return rows


def _behaviour_table(results: dict[str, Any]) -> list[list[str]]:
    """Freshness, the stale-set race, cold readers, and the 1-RCU table under load."""
    plan = results["plan"]
    load = f"{plan['load_rps']:.0f} req/s, a change every {plan['load_change_every_seconds']:g} s"
    rows = [
        [
            "players",
            "mode",
            "write -> fresh read, ms",
            "stale reads after the race",
            "scans by " + " / ".join(str(n) for n in plan["herd_readers"]) + " cold readers",
            f"{load}: 5xx (model)",
            "STALE",
            "fresh answers/s",
        ]
    ]
    for size in results["sizes"]:
        for mode in MODES:
            figures = size["modes"][mode]
            race = figures.get("race")
            rows.append(
                [
                    f"{size['players']:,}",
                    mode,
                    _number(figures["freshness"]["median_fresh_ms"]),
                    f"{race['stale_reads']} of {race['followups']}" if race else "n/a",
                    " / ".join(str(h.get("scans", "-")) for h in figures["herd"].values()),
                    _share(figures["load"]["error_share"]),
                    _share(figures["load"]["stale_share"]),
                    _number(figures["load"]["served_fresh_rps"]),
                ]
            )
    return rows


def _aligned(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    )


def _markdown(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(lines)


def _sizes_line(results: dict[str, Any]) -> str:
    return "; ".join(
        f"{size['players']:,} players: a full scan reads {size['scan_read_units']} RCU "
        f"(items of {size['item_bytes']} B)"
        for size in results["sizes"]
    )


def print_table(results: dict[str, Any]) -> None:
    plan = results["plan"]
    print(f"\ntatourney benchmark ({plan['name']}), {results['date']}: {_machine_line(results)}")
    print(f"{_sizes_line(results)}.\n")
    print(_aligned(_cost_table(results)))
    print()
    print(_aligned(_behaviour_table(results)))
    for line in ["", *_herd_notes(results)]:
        print(line)
    print(f"\n{MODEL_NOTE}")


def _ratio(numerator: float | None, denominator: float | None) -> str:
    if not numerator or not denominator:
        return "-"
    ratio = numerator / denominator
    return f"{ratio:,.0f}x" if ratio >= 10 else f"{ratio:.1f}x"


def _ratios(size: dict[str, Any]) -> str:
    steady = {mode: size["modes"][mode]["steady"] for mode in MODES}
    p50 = {mode: steady[mode]["latency_ms"]["p50"] for mode in MODES}
    rcu = {mode: steady[mode]["read_units_per_1000_requests"] for mode in MODES}
    hit = steady["tatourney"]["hit_latency_ms"]["p50"]
    raw = size["raw_get_ms"]["p50"]
    return (
        f"- **{size['players']:,} players**: median request uncached / tatourney = "
        f"{_ratio(p50['uncached'], p50['tatourney'])}, seed-cache / tatourney = "
        f"{_ratio(p50['seed-cache'], p50['tatourney'])}; read units uncached / tatourney = "
        f"{_ratio(rcu['uncached'], rcu['tatourney'])} ({_number(rcu['uncached'])} vs "
        f"{_number(rcu['tatourney'])} RCU per 1,000 requests; seed-cache "
        f"{_number(rcu['seed-cache'])}); tatourney hit / raw memcached get of the same "
        f"{steady['tatourney']['body_bytes']:,}-byte body = {_ratio(hit, raw)} "
        f"({_number(hit, 3)} vs {_number(raw, 3)} ms)."
    )


def _herd_notes(results: dict[str, Any]) -> list[str]:
    """Where tatourney's cold readers did not all get the one board: what they answered, when."""
    notes = []
    for size in results["sizes"]:
        for readers, herd in size["modes"]["tatourney"]["herd"].items():
            outcomes = herd.get("outcomes", {})
            if herd.get("scans", 1) <= 1 and set(outcomes) <= {"200 HIT", "200 MISS"}:
                continue
            answered = ", ".join(
                f"{figures['count']} answered {name}" for name, figures in outcomes.items()
            )
            slowest = max(figures["max"] for figures in outcomes.values())
            notes.append(
                f"- {size['players']:,} players, {readers} cold readers: tatourney made "
                f"{herd['scans']} scan{'s' if herd['scans'] != 1 else ''} ({answered}; "
                f"slowest answer {_number(slowest)} ms)."
            )
    if not notes:
        return []
    return [
        "Where tatourney's cold readers did not all get the one board: only the lease holder "
        "scans; a reader that waited LEASE_WAIT_MS (1.5 s) without seeing its board answers "
        "503 with Retry-After rather than scan beside it (on a 1-RCU table that scan would "
        "only be throttled), and a second scan happens only if a holder's lease "
        "(LEASE_TTL_SECONDS, 5 s) expires before it stores. Here the readers are threads of one "
        "process on this machine's cores, so many of them slow the holder's rebuild far more "
        "than as many Lambda containers would.",
        "",
        *notes,
    ]


def summary_markdown(results: dict[str, Any]) -> str:
    plan = results["plan"]
    lines = [
        f"Measured by `{results['command']}` on {results['date'][:10]} "
        f"({_machine_line(results)}; commit {results['machine']['commit']}). "
        "Every figure is in `latest.json` beside this summary; the latency distributions are "
        "plotted in `latency.png`.",
        "",
        "Each request is the `leaderboard` handler called in-process in a warm container, "
        f"with a change (a write, its stream record, the mode's invalidation) every "
        f"{plan['change_every']} requests. *uncached* scans on every request (the site before "
        "caching); *seed-cache* is the original fix (get; on a miss scan and set with no TTL; "
        "delete on a stream event); *tatourney* is the real handler and cache protocol. "
        f"{_sizes_line(results)}.",
        "",
        _markdown(_cost_table(results)),
        "",
        *(_ratios(size) for size in results["sizes"]),
        "",
        _markdown(_behaviour_table(results)),
        "",
        *_herd_notes(results),
        "",
        "*write -> fresh read*: median time from a write to the first read that shows it, "
        "through its stream record and the invalidation. *stale reads after the race*: a reader "
        "scans, a write and its invalidation happen, the reader stores what it read; then how "
        "many of the following reads still served the old board (seed-cache: until the key's "
        "TTL, and it has none). *cold readers*: concurrent readers on an empty cache and the "
        "table scans they made (`-`: skipped: N scans would read more than the run's budget of "
        "read units, to bound its time). *req/s at 1 RCU*: "
        "1 RCU divided by the read units a request cost in this workload (a cached mode pays one "
        "scan per change). *5xx / STALE / fresh answers/s*: under the fixed offered load "
        "against the capacity model.",
        "",
        MODEL_NOTE,
    ]
    return "\n".join(lines) + "\n"


SUMMARY_START = "<!-- bench-summary:start -->"
SUMMARY_END = "<!-- bench-summary:end -->"


def readme_with_summary(readme: str, summary: str) -> str:
    """The README with `summary` between its bench-summary markers (ValueError if it has none)."""
    start, end = readme.find(SUMMARY_START), readme.find(SUMMARY_END)
    if start < 0 or end < start:
        raise ValueError(f"the README has no {SUMMARY_START} ... {SUMMARY_END} section")
    return readme[: start + len(SUMMARY_START)] + "\n" + summary + readme[end:]


def write_outputs(
    results: dict[str, Any], latencies: dict[str, dict[str, list[float]]], directory: Path
) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / "latest.json", directory / "summary.md", directory / "latency.png"]
    paths[0].write_text(json.dumps(results, indent=2) + "\n")
    paths[1].write_text(summary_markdown(results))
    plot_latencies(
        latencies,
        paths[2],
        f"GET /stats latency by mode — {results['command']}, {results['date'][:10]}",
    )
    return paths
