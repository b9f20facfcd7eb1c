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
    if isinstance(value, str):
        return value
    if abs(value) >= 100 or digits == 0:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def _share(value: float) -> str:
    return f"{100 * value:.0f}%"


def _herd_scans(herds: dict[str, Any]) -> str:
    return " / ".join(str(h.get("scans", "-")) for h in herds.values())


def _machine_line(results: dict[str, Any]) -> str:
    machine = results["machine"]
    return (
        f"{machine['cpus']} x {machine['cpu']}, {machine['memory_gib']} GiB, "
        f"Python {machine['python']}, {machine['memcached']}, {machine['dynamodb_local']}"
    )


def _rows(size: dict[str, Any]) -> list[list[str]]:
    rows = []
    for mode in MODES:
        figures = size["modes"][mode]
        steady, load = figures["steady"], figures["load"]
        rows.append(
            [
                mode,
                _number(steady["latency_ms"]["p50"], 2),
                _number(steady["latency_ms"]["p95"], 2),
                _number(steady["latency_ms"]["p99"], 2),
                _number(steady["requests_per_second"], 0),
                _number(steady["scans_per_1000_requests"]),
                _number(steady["read_units_per_1000_requests"]),
                _number(steady["sustained_rps_at_1_rcu"], 3),
                _number(figures["freshness"]["median_fresh_ms"]),
                (
                    f"{figures['race']['stale_reads']}/{figures['race']['followups']}"
                    if "race" in figures
                    else "n/a"
                ),
                _herd_scans(figures["herd"]),
                _share(load["error_share"]),
                _share(load["stale_share"]),
            ]
        )
    return rows


def _header(size: dict[str, Any], plan: dict[str, Any]) -> list[str]:
    readers = "/".join(str(n) for n in plan["herd_readers"])
    return [
        "mode",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "req/s",
        "scans/1k req",
        "RCU/1k req",
        "req/s at 1 RCU (model)",
        "write→fresh ms",
        "stale after race",
        f"scans, {readers} cold readers",
        f"5xx at {plan['load_rps']:.0f} req/s (model)",
        "STALE at same",
    ]


def print_table(results: dict[str, Any]) -> None:
    plan = results["plan"]
    print(f"\ntatourney benchmark ({plan['name']}), {results['date']}: {_machine_line(results)}")
    print(
        "Each request: the leaderboard handler in-process in a warm container; "
        f"a change (write, stream, invalidation) every {plan['change_every']} requests."
    )
    for size in results["sizes"]:
        print(
            f"\n{size['players']:,} players: items of {size['item_bytes']} B, a full scan reads "
            f"{size['scan_read_units']} RCU; raw memcached get of "
            f"{size['modes']['tatourney']['steady']['body_bytes']:,} B: "
            f"p50 {_number(size['raw_get_ms']['p50'], 3)} ms"
        )
        table = [_header(size, plan), *_rows(size)]
        widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
        for row in table:
            print("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))
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
        f"- **{size['players']:,} players**: tatourney's median request is "
        f"{_ratio(p50['uncached'], p50['tatourney'])} faster than uncached and "
        f"{_ratio(p50['seed-cache'], p50['tatourney'])} the seed-cache's median; it reads "
        f"{_ratio(rcu['uncached'], rcu['tatourney'])} fewer read units than uncached "
        f"({rcu['tatourney']:,} vs {rcu['uncached']:,} RCU per 1,000 requests). "
        f"A tatourney hit ({_number(hit, 3)} ms) takes {_ratio(hit, raw)} a raw memcached get "
        f"of the same {steady['tatourney']['body_bytes']:,}-byte body ({_number(raw, 3)} ms)."
    )


def summary_markdown(results: dict[str, Any]) -> str:
    plan = results["plan"]
    lines = [
        f"Measured by `{results['command']}` on {results['date'][:10]} "
        f"({_machine_line(results)}; commit {results['machine']['commit']}). "
        f"Every figure is in `bench/results/latest.json`; the plot is `bench/results/latency.png`.",
        "",
        "Each request is the `leaderboard` handler called in-process in a warm container; "
        f"a change (write, its stream record, the mode's invalidation) every "
        f"{plan['change_every']} requests. *uncached* scans on every request (the site before "
        "caching); *seed-cache* is the original fix (get; on a miss scan and set with no TTL; "
        "delete on a stream event); *tatourney* is the real handler and cache protocol.",
        "",
    ]
    header = _header(results["sizes"][0], plan)
    lines += [
        "| players | " + " | ".join(header) + " |",
        "|" + "---|" * (len(header) + 1),
    ]
    for size in results["sizes"]:
        for row in _rows(size):
            lines.append(f"| {size['players']:,} | " + " | ".join(row) + " |")
    lines += ["", *(_ratios(size) for size in results["sizes"]), "", MODEL_NOTE]
    lines += [
        "",
        "Columns: *write→fresh* is the median time from a write to the first read showing it "
        "(through the stream record and the invalidation); *stale after race* counts the reads "
        "that still served the old board after a reader scanned before a write and stored after "
        "its invalidation (seed-cache: until the key's TTL, which it has none of); *scans, N "
        "cold readers* is the number of table scans N concurrent readers made on an empty cache "
        "(`-`: skipped, over the time budget); *req/s at 1 RCU* is 1 RCU ÷ the read units a "
        "request cost in this workload.",
    ]
    return "\n".join(lines) + "\n"


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
