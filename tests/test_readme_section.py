"""The README splicer the fault-matrix target uses."""

from __future__ import annotations

import pytest

from tools.readme_section import with_section


def test_the_text_goes_between_the_markers_and_replaces_what_was_there() -> None:
    readme = "intro\n<!-- m:start -->\nold\n<!-- m:end -->\nrest\n"
    assert with_section(readme, "m", "new\n") == (
        "intro\n<!-- m:start -->\nnew\n<!-- m:end -->\nrest\n"
    )


@pytest.mark.parametrize(
    "readme",
    [
        "no markers",
        "<!-- m:end --> <!-- m:start -->",
        "<!-- m:start --><!-- m:start --><!-- m:end -->",
    ],
)
def test_a_readme_without_one_pair_of_markers_is_refused(readme: str) -> None:
    with pytest.raises(ValueError, match="m:start"):
        with_section(readme, "m", "new")
