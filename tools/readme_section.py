"""Put a generated file's text into a README between `<!-- NAME:start -->` and `<!-- NAME:end -->`.

python tools/readme_section.py docs/benchmarks.md fault-matrix bench/results/fault-matrix.md
"""

from __future__ import annotations

import sys
from pathlib import Path


def with_section(readme: str, name: str, text: str) -> str:
    """`readme` with `text` between the section's markers (ValueError if it has none)."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    once = readme.count(start) == 1 and readme.count(end) == 1
    if not once or readme.index(start) > readme.index(end):
        raise ValueError(f"the README needs one {start} ... {end} pair")
    head, rest = readme.split(start)
    _, tail = rest.split(end)
    return f"{head}{start}\n{text.strip()}\n{end}{tail}"


def main(argv: list[str]) -> int:
    readme, name, source = Path(argv[0]), argv[1], Path(argv[2])
    readme.write_text(with_section(readme.read_text(), name, source.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
