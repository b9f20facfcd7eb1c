"""`python -m bench [--quick] [--output DIR]`: run the benchmark, print its table, save files."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.report import describe_machine, print_table, write_outputs
from bench.run import FULL, QUICK, run

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer requests and table sizes")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"default: {RESULTS}")
    parser.add_argument("--command", default="make bench", help="how this run was started")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    started = time.monotonic()

    def progress(message: str) -> None:
        print(f"[{time.monotonic() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    results, session = run(plan, progress)
    results = {
        "command": args.command,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": describe_machine(),
        **results,
    }
    print_table(results)
    for path in write_outputs(results, session.latencies, args.output):
        progress(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
