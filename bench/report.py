"""The results as tables on stdout, latest.json, a Markdown summary for the README, and a plot."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.machine import describe_machine
from bench.plot import plot_latencies
from tatourney.board import MEMORY_PAGES
from tatourney.responses import MAX_LIMIT
from tools.readme_section import with_section

__all__ = ["describe_machine", "print_table", "summary_markdown", "write_outputs"]

MODES = ("uncached", "seed-cache", "tatourney")
CACHED_MODES = ("seed-cache", "tatourney")
# The targets stated from these sizes up: the 1-RCU load, and the per-change work of the delta path.
LOAD_TARGET_PLAYERS = 10_000
DELTA_TARGET_PLAYERS = 100_000
MAX_STALE_SHARE = 0.01
MAX_REBUILD_MS = 50.0
MAX_FIRST_HIT_MS = 5.0
MAX_BOARD_MIB = 32.0
MAX_HIT_RATIO = 3.0
MAX_READ_UNITS_PER_CHANGED_PLAYER = 1.0
MODEL_NOTE = (
    "Throttling is a MODEL: DynamoDB Local never throttles, so a token bucket (1 RCU per second, "
    "up to 300 s of unused capacity, empty at the start) is charged with the ConsumedCapacity "
    "DynamoDB Local reports for each Scan page and BatchGetItem, and answers "
    "ProvisionedThroughputExceededException through botocore, whose own retries then run "
    "(bench/capacity.py)."
)


def _number(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100 or digits == 0:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def _share(value: float) -> str:
    return f"{100 * value:.1f}%" if 0 < value < 0.1 else f"{100 * value:.0f}%"


def _ratio(numerator: float | None, denominator: float | None) -> str:
    if not numerator or not denominator:
        return "-"
    ratio = numerator / denominator
    return f"{ratio:,.0f}x" if ratio >= 10 else f"{ratio:.1f}x"


def _met(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _machine_line(results: dict[str, Any]) -> str:
    machine = results["machine"]
    return (
        f"{machine['cpus']} x {machine['cpu']}, {machine['memory_gib']} GiB, "
        f"Python {machine['python']}, {machine['memcached']}, {machine['dynamodb_local']}"
    )


def _size(results: dict[str, Any], players: int) -> dict[str, Any] | None:
    return next((size for size in results["sizes"] if size["players"] == players), None)


def _targets_table(results: dict[str, Any]) -> list[list[str]]:
    """Each target of the issue with its measured figure, and whether it is met."""
    plan = results["plan"]
    rows = [["target", "players", "measured", "met"]]
    for size in results["sizes"]:
        steady = size["modes"]["tatourney"]["steady"]
        per_player = steady["read_units_per_changed_player"]
        rows.append(
            [
                "read units per change <= 1 per changed player",
                f"{size['players']:,}",
                f"{_number(steady['read_units_per_change'], 2)} RCU per game of 2 players = "
                f"{_number(per_player, 2)} per player",
                _met(per_player is not None and per_player <= MAX_READ_UNITS_PER_CHANGED_PLAYER),
            ]
        )
    for size in results["sizes"]:
        hit = size["hit_vs_raw_small_get"]
        rows.append(
            [
                f"handler HIT p50 <= {MAX_HIT_RATIO:g}x a raw get of a 100-byte value",
                f"{size['players']:,}",
                f"{_number(hit['hit_p50_ms'], 3)} vs {_number(hit['raw_get_p50_ms'], 3)} ms "
                f"= {hit['ratio']}x",
                _met(hit["ratio"] is not None and hit["ratio"] <= MAX_HIT_RATIO),
            ]
        )
    for size in results["sizes"]:
        if size["players"] >= LOAD_TARGET_PLAYERS:
            rows += _load_targets(size, plan)
        if size["players"] >= DELTA_TARGET_PLAYERS:
            rows += _delta_targets(size)
    return rows


def _load_targets(size: dict[str, Any], plan: dict[str, Any]) -> list[list[str]]:
    players = f"{size['players']:,}"
    load = size["modes"]["tatourney"]["load"]
    condition = (
        f"{plan['load_rps']:g} req/s, a game every {plan['load_change_every_seconds']:g} s, "
        "1 RCU (model)"
    )
    errors = round(load["error_share"] * load["requests"])
    stale = load["outcomes"].get("200 STALE", 0)
    polls = size["poll_bytes"]
    return [
        [
            f"{condition}: <= 1% STALE",
            players,
            f"{_share(load['stale_share'])} ({stale} of {load['requests']})",
            _met(load["stale_share"] <= MAX_STALE_SHARE),
        ],
        [f"{condition}: 0 5xx", players, f"{errors} of {load['requests']}", _met(errors == 0)],
        [
            "an unchanged poll is a 304 with an empty body",
            players,
            f"{polls['unchanged_status']}, {polls['unchanged_body_bytes']} bytes",
            _met(polls["unchanged_status"] == 304 and polls["unchanged_body_bytes"] == 0),
        ],
    ]


def _delta_targets(size: dict[str, Any]) -> list[list[str]]:
    players = f"{size['players']:,}"
    after = size["after_a_game_ms"]
    rebuild, first_hit = after["rebuild"]["p50"], after["other_container_first_hit"]["p50"]
    board_mib = size["container_memory_bytes"]["board"] / 2**20
    return [
        [
            f"the lease holder's rebuild after a game: p50 <= {MAX_REBUILD_MS:g} ms",
            players,
            f"{_number(rebuild, 1)} ms",
            _met(rebuild <= MAX_REBUILD_MS),
        ],
        [
            f"another warm container's first hit after a game: p50 <= {MAX_FIRST_HIT_MS:g} ms",
            players,
            f"{_number(first_hit, 1)} ms",
            _met(first_hit <= MAX_FIRST_HIT_MS),
        ],
        [
            f"a container's board in memory <= {MAX_BOARD_MIB:g} MiB",
            players,
            f"{board_mib:.1f} MiB",
            _met(board_mib <= MAX_BOARD_MIB),
        ],
    ]


def _reads_per_change(steady: dict[str, Any]) -> str:
    """The table reads of the latency loop, per change: full-Scan pages, players read by
    BatchGetItem, sweep pages."""
    table, changes = steady["table"], steady["changes"]
    if not changes:
        return "-"
    parts = []
    if table["scan_pages"]:
        parts.append(f"{_number(table['scan_pages'] / changes)} scan pages")
    if table["players_read"]:
        parts.append(f"{_number(table['players_read'] / changes)} players")
    if table["sweep_pages"]:
        parts.append(f"{_number(table['sweep_pages'] / changes)} sweep pages")
    return " + ".join(parts) or "none"


def _cost_table(results: dict[str, Any]) -> list[list[str]]:
    """Latency and what each change costs the table."""
    rows = [
        [
            "players",
            "mode",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "hit p50 ms",
            "req/s, 1 container",
            "table reads per change",
            "RCU per change",
            "RCU per changed player",
            "RCU / 1k req",
            "req/s at 1 RCU (model)",
        ]
    ]
    for size in results["sizes"]:
        for mode in MODES:
            steady = size["modes"][mode]["steady"]
            latency = steady["latency_ms"]
            rows.append(
                [
                    f"{size['players']:,}",
                    mode,
                    _number(latency["p50"], 2),
                    _number(latency["p95"], 2),
                    _number(latency["p99"], 2),
                    _number(steady["hit_latency_ms"]["p50"], 2),
                    _number(steady["requests_per_second"], 0),
                    _reads_per_change(steady),
                    _number(steady["read_units_per_change"], 2),
                    _number(steady["read_units_per_changed_player"], 2),
                    _number(steady["read_units_per_1000_requests"]),
                    _number(steady["sustained_rps_at_1_rcu"], 3),
                ]
            )
    return rows


def _hits_table(results: dict[str, Any]) -> list[list[str]]:
    """Hits of the site's request three ways, against the raw gets."""
    rows = [
        [
            "players",
            "mode",
            "hit p50 ms: gzip",
            "identity",
            "304 (If-None-Match)",
            "respond only (gzip)",
            "raw get of 100 B, interleaved",
            "hit / raw get",
            "raw get of the cached board",
        ]
    ]
    for size in results["sizes"]:
        board = size["raw_get_ms"]["board"]
        for mode in CACHED_MODES:
            hits = size["modes"][mode]["hits"]
            rows.append(
                [
                    f"{size['players']:,}",
                    mode,
                    _number(hits["gzip"]["p50"], 3),
                    _number(hits["identity"]["p50"], 3),
                    _number(hits["304"]["p50"], 3),
                    _number(hits["respond only"]["p50"], 3),
                    _number(hits["raw get"]["p50"], 3),
                    _ratio(hits["gzip"]["p50"], hits["raw get"]["p50"]),
                    f"{_number(board['p50'], 3)} ms ({board['value_bytes']:,} B)",
                ]
            )
    return rows


def _kib(value: float | None) -> str:
    return "-" if value is None else f"{value / 1024:,.1f} KiB"


def _bytes_table(results: dict[str, Any]) -> list[list[str]]:
    """What a poll carries, and what a warm container keeps for its board."""
    rows = [
        [
            "players",
            "unchanged poll",
            "changed poll: gzip",
            "identity",
            "board in memcached",
            "container: board",
            "+ the site's page",
            f"bound: + {MEMORY_PAGES} pages of {MAX_LIMIT:,}",
            "after a game: rebuild, ms",
            "another container's first hit, ms",
        ]
    ]
    for size in results["sizes"]:
        polls, memory = size["poll_bytes"], size["container_memory_bytes"]
        gzipped = polls["changed_gzip_bytes"]
        rows.append(
            [
                f"{size['players']:,}",
                f"{polls['unchanged_status']}, {polls['unchanged_body_bytes']} B",
                "not compressed (< 1 KB)" if gzipped is None else f"{gzipped:,} B",
                f"{polls['changed_identity_bytes']:,} B",
                _kib(memory["cached_value_bytes"]),
                _kib(memory["board"]),
                _kib(memory["default_page"]),
                _kib(memory["pages_bound"]),
                _number(size["after_a_game_ms"]["rebuild"]["p50"], 2),
                _number(size["after_a_game_ms"]["other_container_first_hit"]["p50"], 2),
            ]
        )
    return rows


def _herd_cells(herds: dict[str, Any], cell: Callable[[dict[str, Any]], str]) -> str:
    return " / ".join("-" if "skipped" in herd else cell(herd) for herd in herds.values())


def _behaviour_table(results: dict[str, Any]) -> list[list[str]]:
    """Freshness, the stale-set race, herds, and the 1-RCU table under load."""
    plan = results["plan"]
    load = f"{plan['load_rps']:g} req/s, a game every {plan['load_change_every_seconds']:g} s"
    readers = " / ".join(str(n) for n in plan["herd_readers"])
    rows = [
        [
            "players",
            "mode",
            "write -> fresh read, ms",
            "stale reads after the race",
            f"full scans by {readers} cold readers",
            f"scans + BatchGetItems by {readers} readers after a game",
            f"{load}: 5xx (model)",
            "STALE",
            "fresh answers/s",
        ]
    ]
    for size in results["sizes"]:
        for mode in MODES:
            figures = size["modes"][mode]
            race = figures.get("race")
            after = figures.get("herd_after_change")
            rows.append(
                [
                    f"{size['players']:,}",
                    mode,
                    _number(figures["freshness"]["median_fresh_ms"]),
                    f"{race['stale_reads']} of {race['followups']}" if race else "n/a",
                    _herd_cells(figures["herd"], lambda h: str(h["scans"])),
                    _herd_cells(after, lambda h: f"{h['scans']}+{h['batch_gets']}")
                    if after
                    else "as cold",
                    *_load_cells(figures["load"]),
                ]
            )
    return rows


def _load_cells(load: dict[str, Any]) -> list[str]:
    if "skipped" in load:
        return ["-", "-", "-"]
    return [
        _share(load["error_share"]),
        _share(load["stale_share"]),
        _number(load["served_fresh_rps"]),
    ]


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
        f"{size['players']:,} players: a full Scan reads {size['scan_read_units']} RCU "
        f"(items of {size['item_bytes']} B)"
        for size in results["sizes"]
    )


def _hit_lines(results: dict[str, Any]) -> list[str]:
    """Where a hit's time goes: the handler's `respond` (the protocol and the HTTP answer)
    against the raw get, and the rest (Powertools: decorators, the log line, the EMF line)."""
    lines = []
    for size in results["sizes"]:
        hits = size["modes"]["tatourney"]["hits"]
        hit, respond, raw = (hits[name]["p50"] for name in ("gzip", "respond only", "raw get"))
        if not (hit and respond and raw):
            continue
        lines.append(
            f"- **{size['players']:,} players**: a hit takes {_number(hit, 3)} ms; the handler's "
            f"`respond` alone (the cache protocol and the HTTP answer) {_number(respond, 3)} ms "
            f"= {_ratio(respond, raw)} the raw get ({_number(raw, 3)} ms); the other "
            f"{_number(hit - respond, 3)} ms are the Powertools decorators, the log line and the "
            "EMF metrics line around it."
        )
    return lines


def _cold_start_lines(results: dict[str, Any]) -> list[str]:
    lines = []
    for size in results["sizes"]:
        cold = size["cold_start"]
        if not cold:
            continue
        lines.append(
            f"- **{size['players']:,} players**: tatourney's full Scan read "
            f"{_number(cold['full_scan_read_units'])} RCU in {cold['full_scan_pages']} page"
            f"{'s' if cold['full_scan_pages'] != 1 else ''} over {cold['requests']} request"
            f"{'s' if cold['requests'] != 1 else ''} "
            f"(measured); at 1 RCU that is about {_number(cold['seconds_to_first_board_no_burst'])}"
            f" s to the first board with nothing banked, "
            f"{_number(cold['seconds_to_first_board_full_burst'])} s with 300 s of burst banked "
            "(computed)."
        )
    return lines


def _checker_table(results: dict[str, Any]) -> list[list[str]]:
    """The consistency checker's classes per injected replica lag, mechanism on and off."""
    rows = [
        [
            "replica lag",
            "consistency mechanism",
            "checks",
            "consistent",
            "not yet rebuilt",
            "not yet invalidated",
            "inconsistent",
            "reads behind",
            "worst to consistent s",
        ]
    ]
    for row in results.get("checker", []):
        rows.append(
            [
                f"{row['lag_ms']} ms",
                "on" if row["mechanism"] else "off (test switch)",
                str(row["checks"]),
                str(row["Consistent"]),
                str(row["NotYetRebuilt"]),
                str(row["NotYetInvalidated"]),
                str(row["Inconsistent"]),
                str(row["reads_behind"]),
                _number(row["worst_seconds_to_consistent"], 3),
            ]
        )
    return rows


VIEWERS_NOTE = (
    "Viewers and the stage throttle is a MODEL (bench/viewers.py), not a measurement: each "
    "viewer polls its page every {poll_seconds:g} s (site/app.js) through one edge location; the "
    "API's stage throttle is a token bucket of {rate_per_second:g} req/s, burst {burst:g} "
    "(variables.tf); an edge location keeps each page the edge TTL and answers it, and "
    "If-None-Match, itself. *today*: no edge cache, one page; *edge*: the default TTL "
    "({edge_ttl_seconds:g} s), 10 pages over 10 edge locations. 429s: simulated polls refused "
    "over up to 60 s (seeded). *origin req/s at 100,000 viewers*: requests reaching the API, "
    "edges x pages / TTL at most, whatever the number of viewers; *viewers served*: the most "
    "whose requests stay within the throttle's rate with viewers spread evenly over pages and "
    "edges (any: the edge caps the API's load below the rate)."
)


def _viewers_table(results: dict[str, Any]) -> list[list[str]]:
    rows = [["viewers", "today: 429s", "today: API req/s", "edge: 429s", "edge: API req/s"]]
    for run in results["viewers"]["simulated"]:
        today, edge = run["today"], run["edge"]
        rows.append(
            [
                f"{today['viewers']:,}",
                _share(today["refused_share"]),
                _number(today["origin_per_second"]),
                _share(edge["refused_share"]),
                _number(edge["origin_per_second"]),
            ]
        )
    return rows


def _edge_table(results: dict[str, Any]) -> list[list[str]]:
    """Origin requests per second at 100,000 viewers, and viewers served, by TTL/pages/edges."""
    figures = results["viewers"]
    load = {
        (row["ttl"], row["pages"], row["edges"]): row["requests_per_second"]
        for row in figures["origin_per_second"]
        if row["viewers"] == 100_000
    }
    rows = [["edge TTL s", "pages", "edges", "origin req/s at 100,000 viewers", "viewers served"]]
    for row in figures["served_viewers"]:
        served = "any" if row["viewers"] is None else f"{row['viewers']:,}"
        key = (row["ttl"], row["pages"], row["edges"])
        rows.append(
            [str(row["ttl"]), str(row["pages"]), str(row["edges"]), _number(load[key]), served]
        )
    return rows


def _tables(results: dict[str, Any]) -> list[tuple[str, list[list[str]]]]:
    tables = [
        ("Targets", _targets_table(results)),
        ("Latency and what a change costs the table", _cost_table(results)),
        ("Hits: the site's request three ways, against memcached itself", _hits_table(results)),
        (
            "Bytes per poll; a warm container's memory and its work after a game",
            _bytes_table(results),
        ),
        ("Freshness, races, herds, and the 1-RCU table under load", _behaviour_table(results)),
        (
            "The consistency checker under injected replica lag (largest board)",
            _checker_table(results),
        ),
    ]
    if "viewers" in results:  # runs before the edge cache have no viewer model
        tables += [
            ("Viewers before the stage throttle answers 429 (model)", _viewers_table(results)),
            ("The edge cache: API load and viewers served (model)", _edge_table(results)),
        ]
    return tables


def _replica_lag_lines(results: dict[str, Any]) -> list[str]:
    """Read units per change with the replica-lag fault: the normal and the worst case."""
    lagged = results.get("replica_lag")
    if not lagged:
        return ["not measured"]
    what = {
        "normal": "no read behind",
        "worst": "every eventually consistent read of a changed row behind",
    }
    lines = []
    for case, meaning in what.items():
        figures = lagged[case]
        lines.append(
            f"- {case} ({meaning}): {figures['read_units_per_change']} read units per change, "
            f"{figures['consistent_rereads_per_change']} consistent re-reads per change, "
            f"{figures['old_rows_served']} old rows served ({figures['changes']} changes, "
            f"{lagged['players']:,} players)"
        )
    return lines


def print_table(results: dict[str, Any]) -> None:
    plan = results["plan"]
    print(f"\ntatourney benchmark ({plan['name']}), {results['date']}: {_machine_line(results)}")
    print(f"{_sizes_line(results)}.")
    for title, rows in _tables(results):
        print(f"\n{title}\n{_aligned(rows)}")
    print("\nWhere a hit's time goes")
    for line in _hit_lines(results):
        print(line)
    print("\nCold start at 1 RCU")
    for line in [*_cold_start_lines(results), "", *_herd_notes(results)]:
        print(line)
    print("\nRead units per change under the replica-lag fault")
    for line in _replica_lag_lines(results):
        print(line)
    print(f"\n{MODEL_NOTE}")
    if "viewers" in results:
        print(f"\n{VIEWERS_NOTE.format(**results['viewers']['inputs'])}")


def _herd_notes(results: dict[str, Any]) -> list[str]:
    """Where tatourney's readers did not all get the one board: what they answered, when."""
    notes = []
    for size in results["sizes"]:
        figures = size["modes"]["tatourney"]
        for what, herds in (
            ("cold", figures["herd"]),
            ("after a game", figures["herd_after_change"]),
        ):
            for readers, herd in herds.items():
                outcomes = herd.get("outcomes", {})
                reads = herd.get("scans", 0) + herd.get("batch_gets", 0)
                if reads <= 1 and set(outcomes) <= {"200 HIT", "200 MISS"}:
                    continue
                answered = ", ".join(
                    f"{figures['count']} answered {name}" for name, figures in outcomes.items()
                )
                slowest = max(figures["max"] for figures in outcomes.values())
                notes.append(
                    f"- {size['players']:,} players, {readers} readers {what}: "
                    f"{herd['scans']} full scans and {herd['batch_gets']} BatchGetItems "
                    f"({answered}; slowest answer {_number(slowest)} ms)."
                )
    if not notes:
        return []
    return [
        "Where tatourney's readers did not all get the one board: only the lease holder reads "
        "the table; a reader that waited FRESH_WAIT (0.25 s) serves the last board it can find "
        "as STALE, and one that finds none by LEASE_WAIT_MS (1.5 s) answers 503 with "
        "Retry-After rather than read beside the holder. Here the readers are threads of one "
        "process on this machine's two cores, so many of them slow the holder's rebuild far "
        "more than as many Lambda containers would.",
        "",
        *notes,
    ]


def summary_markdown(results: dict[str, Any]) -> str:
    plan = results["plan"]
    item_mib = plan["item_size_bytes"] / 2**20
    lines = [
        f"Measured by `{results['command']}` on {results['date'][:10]} "
        f"({_machine_line(results)}; commit {results['machine']['commit']}; "
        f"{results['seconds']:,.0f} s). Every figure is in `latest.json` beside this summary; "
        "the latency distributions are plotted in `latency.png`.",
        "",
        "Each request is the `leaderboard` handler called in-process in a warm container, "
        "answering the site's request: `GET /stats?limit=100&offset=0` with `Accept: "
        "application/json` and a browser's `Accept-Encoding` (gzip). The latency loop sends no "
        "`If-None-Match`, so every answer carries the page (the cost of a first visit or a "
        "changed board); hits are also timed without gzip and as the 304 an unchanged poll gets. "
        f"A change is a game every {plan['change_every']} requests: two stats rows updated by "
        "the aggregate function's own code, their two stream records delivered as one batch to "
        "the mode's invalidation (tatourney: the real invalidate handler). *uncached* scans on "
        "every request (the site before caching); *seed-cache* is the original fix (get the "
        "board; on a miss scan and set with no TTL; delete on a stream event); *tatourney* is "
        "the real handler and cache protocol. "
        f"{_sizes_line(results)}. memcached runs with `-I {item_mib:g}m`"
        + (" (its default)." if item_mib == 1 else " (its default is 1m)."),
    ]
    for title, rows in _tables(results):
        lines += ["", f"**{title}**", "", _markdown(rows)]
    lines += [
        "",
        "**Where a hit's time goes** (the interleaved loop's medians):",
        "",
        *_hit_lines(results),
        "",
        "**Cold start at 1 RCU** (nothing cached: a new deploy, a new cache node). Until the "
        "first board is built the site answers 503 with Retry-After; the full Scan is read a "
        "page at a time across requests, its progress kept in the cache.",
        "",
        *_cold_start_lines(results),
        "",
        *_herd_notes(results),
        "",
        "**Read units per change under the replica-lag fault** (one warm container follows "
        "one changed player a change, patch path: the changed player, a sweep page, and a "
        "consistent re-read of every changed player found behind the change log; "
        "`bench/replica_lag.py`):",
        "",
        *_replica_lag_lines(results),
        "",
        "*table reads per change*: what the latency loop read from the table, over the games "
        "played in it (uncached reads on every request, so its figure is the scans of the "
        f"{plan['change_every']} requests between two games). *hit / raw get*: hits and raw "
        "gets of a 100-byte value interleaved in one loop, as this shared machine's loopback "
        "latency drifts. *write -> fresh read*: median time from a game's write to the first "
        "read that shows it, through its stream records and the invalidation. *stale reads "
        "after the race*: a reader reads the table, a game and its invalidation happen, the "
        "reader stores what it read; then how many of the following reads still served the old "
        "board (seed-cache: until the key's TTL, and it has none). *cold readers*: containers "
        "that have served nothing read at once on an empty cache; *readers after a game*: "
        "containers holding the current board read at once after one game (S+B: full scans + "
        "BatchGetItems; `-`: skipped, as N scans would read more than the run's budget of read "
        "units). *5xx / STALE / fresh answers/s*: under the fixed offered load against the "
        "capacity model, from the steady state of a deployed site: the board cached, the "
        "caching modes' containers warm (each has served the board once), no read "
        "capacity banked (`-`: a baseline not run, as its requests would read more than the "
        "run's budget of read units: at 1 RCU its answers could only be 5xx). *container*: "
        "Python heap (tracemalloc) of the board a warm container keeps (its ranked board read "
        "from the cached chunks, and the board a request is served), "
        "then with the site's page rendered, then with the "
        f"most pages it keeps ({MEMORY_PAGES}) at the largest limit ({MAX_LIMIT:,} players). "
        "*after a "
        "game*: the median rebuild (the container that takes the lease: read the changed "
        "players and a sweep page, patch its board, store the delta, the changed chunks and the "
        "head) and the first hit of another warm container (it gets the new head and the game's "
        "delta from memcached and patches its board, once per change). A *seed-cache* hit gets "
        "the whole board from memcached and decodes and ranks it on every request (the encoding "
        "of one of tatourney's chunks, holding every row), hence its hit latency grows "
        "with the board; the memcached get alone is the last column of the hits table (for "
        "tatourney, the board's head). "
        f"*consistency checker*: {plan['checker_games']} games per row on the largest board, "
        "each invalidated by the real invalidate handler and read back at once by a reader "
        "whose eventually consistent reads come from a replica the given lag behind (injected: "
        "DynamoDB Local is always consistent), then classified by the checker's code from "
        "memcached alone; *off* is the test-only switch that disables the rebuild's check of "
        "what it read against the change log (the deployed functions cannot set it); *reads "
        "behind*: items the lagging replica answered at an older version; *worst to "
        "consistent*: from a game's write to the build of the board that shows it.",
        "",
        MODEL_NOTE,
    ]
    if "viewers" in results:
        lines += ["", VIEWERS_NOTE.format(**results["viewers"]["inputs"])]
    return "\n".join(lines) + "\n"


def doc_with_summary(doc: str, summary: str, section: str) -> str:
    """`doc` with `summary` between its `section` markers (ValueError if it has none)."""
    return with_section(doc, section, summary)


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
