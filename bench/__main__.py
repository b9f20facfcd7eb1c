"""`python -m bench [--quick] [--large] [--players N,N,...] [--output DIR] [--doc FILE
[--section NAME]]`: run the benchmark, print its table, save its files, and put the summary between
a document's NAME markers (default: bench-summary)."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.report import (
    describe_machine,
    doc_with_summary,
    print_table,
    summary_markdown,
    write_outputs,
)
from bench.run import FULL, QUICK, run

RESULTS = Path(__file__).resolve().parent / "results"


def _player_counts(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(part) for part in text.split(","))
    except ValueError as error:
        message = f"not a comma-separated list of numbers: {text!r}"
        raise argparse.ArgumentTypeError(message) from error
    if not counts or any(count < 1 for count in counts) or list(counts) != sorted(set(counts)):
        raise argparse.ArgumentTypeError(f"board sizes must be positive and ascending: {text!r}")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer requests and table sizes")
    parser.add_argument(
        "--players",
        type=_player_counts,
        help="board sizes to measure, comma-separated (default: 10,1000,10000; quick: 10,1000)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"default: {RESULTS}")
    parser.add_argument("--command", default="make bench", help="how this run was started")
    parser.add_argument("--doc", type=Path, help="a document whose summary this run replaces")
    parser.add_argument(
        "--section", default="bench-summary", help="the document's markers (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.players is not None:
        plan = dataclasses.replace(plan, players=args.players)
    started = time.monotonic()

    def progress(message: str) -> None:
        print(f"[{time.monotonic() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    if args.doc is not None:
        doc_with_summary(args.doc.read_text(), "", args.section)  # no markers: fail now
    # The handlers print an EMF metrics line per request to stdout, as in Lambda: formatted
    # and written, but not shown here (the run's table is printed afterwards).
    with open(os.devnull, "w") as discarded, contextlib.redirect_stdout(discarded):
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
    if args.doc is not None:
        text = doc_with_summary(args.doc.read_text(), summary_markdown(results), args.section)
        args.doc.write_text(text)
        progress(f"wrote the summary into {args.doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
