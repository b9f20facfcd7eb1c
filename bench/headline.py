"""The README's benchmark figures: a few lines from the latest results of `make bench`,
`make bench-large` and `make bench-cold-start`, each with the command and commit that measured it.

    PYTHONPATH=src python -m bench.headline README.md

Each bench target runs this at its end, so the README always shows what the files in
bench/results/ hold; a result file that is missing leaves its column out.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tools.readme_section import with_section

RESULTS = Path(__file__).resolve().parent / "results"
SOURCES = {
    "make bench": RESULTS / "latest.json",
    "make bench-large": RESULTS / "100000-players" / "latest.json",
}
COLD_START = RESULTS / "cold-start.json"
SECTION = "bench-headline"


def load(path: Path) -> dict[str, Any] | None:
    try:
        loaded: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return loaded


def _percent(share: float) -> str:
    return f"{100 * share:.1f}%".replace(".0%", "%")


def _rows(size: dict[str, Any]) -> dict[str, str]:
    tatourney = size["modes"]["tatourney"]
    load = tatourney["load"]
    errors = sum(n for outcome, n in load["outcomes"].items() if outcome.startswith("5"))
    hit = size["hit_vs_raw_small_get"]
    after = size["after_a_game_ms"]
    return {
        "hit p50 (the site's request) / a raw memcached get": (
            f"{hit['hit_p50_ms']:.2f} ms / {hit['ratio']}x"
        ),
        "read units per changed player": f"{tatourney['steady']['read_units_per_changed_player']}",
        "20 req/s at 1 RCU, a game every 2 s (model): STALE, 5xx": (
            f"{_percent(load['stale_share'])}, {errors} of {load['requests']}"
        ),
        "after a game, p50: the rebuild; another container's first hit": (
            f"{after['rebuild']['p50']:.1f} ms; {after['other_container_first_hit']['p50']:.1f} ms"
        ),
        "a container's board in memory": (
            f"{size['container_memory_bytes']['board'] / 2**20:.1f} MiB"
        ),
    }


def headline(runs: dict[str, dict[str, Any]], cold_start: dict[str, Any] | None) -> str:
    columns: list[tuple[str, dict[str, str]]] = []
    measured: list[str] = []
    for command, results in runs.items():
        largest = results["sizes"][-1]
        columns.append((f"{largest['players']:,} players", _rows(largest)))
        measured.append(
            f"`{command}` on {results['date'][:10]} (commit {results['machine']['commit']}, "
            f"{results['seconds']:.0f} s)"
        )
    lines = []
    if columns:
        names = list(columns[0][1])
        lines += [
            "| | " + " | ".join(title for title, _ in columns) + " |",
            "|---|" + "---|" * len(columns),
            *(
                f"| {name} | " + " | ".join(rows[name] for _, rows in columns) + " |"
                for name in names
            ),
            "",
            "Measured by " + "; ".join(measured) + ".",
        ]
    if cold_start is not None:
        medians, relative = cold_start["median_ms"], cold_start["relative_to_import_boto3"]
        handlers = "; ".join(
            f"{name.removesuffix(' handler')} {medians[name]:.0f} ms = {relative[name]}x"
            for name in medians
            if name != "import boto3"
        )
        lines += [
            "",
            f"Cold start of the packaged handlers, import and initialisation "
            f"(`{cold_start['command']}` on {cold_start['date'][:10]}, commit "
            f"{cold_start['commit']}): {handlers} `import boto3` alone "
            f"({medians['import boto3']:.0f} ms in the same run).",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    readme = Path(argv[0])
    runs = {command: run for command, path in SOURCES.items() if (run := load(path))}
    text = headline(runs, load(COLD_START))
    readme.write_text(with_section(readme.read_text(), SECTION, text))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
