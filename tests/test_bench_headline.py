"""The README's benchmark figures are the ones in bench/results/: the section is what
bench/headline.py writes from the saved results, so a bench run that was not put into the README
(or a hand edit of a figure) fails here."""

from __future__ import annotations

from pathlib import Path

from bench.headline import COLD_START, SECTION, SOURCES, headline, load
from tools.readme_section import with_section

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_shows_the_saved_bench_results() -> None:
    runs = {command: run for command, path in SOURCES.items() if (run := load(path))}
    cold_start = load(COLD_START)
    assert len(runs) == len(SOURCES), "bench/results/ holds every run the README quotes"
    assert cold_start is not None, "bench/results/ holds the cold start the README quotes"

    readme = README.read_text()

    assert with_section(readme, SECTION, headline(runs, cold_start)) == readme


def test_the_headline_names_each_run_its_command_and_its_largest_board() -> None:
    runs = {command: run for command, path in SOURCES.items() if (run := load(path))}

    text = headline(runs, None)

    assert "| | 10,000 players | 100,000 players |" in text
    assert "`make bench` on" in text
    assert "`make bench-large` on" in text
    assert "Cold start" not in text
