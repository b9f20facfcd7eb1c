"""The modules' inputs and outputs tables are generated (tools/terraform/module_docs.py, `make
docs`): a doc that no longer says what the .tf files declare fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.terraform.module_docs import DOCUMENTS, ROOT, tables, updated


@pytest.mark.parametrize("module", list(DOCUMENTS), ids=lambda m: str(m.relative_to(ROOT)) or ".")
def test_the_inputs_and_outputs_tables_are_current(module: Path) -> None:
    document, text, regenerated = updated(module)
    assert text == regenerated, f"{document.relative_to(ROOT)} is out of date: run `make docs`"


def test_a_required_input_and_a_default_are_told_apart() -> None:
    generated = tables(ROOT / "modules" / "cache", "##")
    assert "| `name` | Cluster ID and prefix" in generated
    assert "| `string` | n/a | yes |" in generated.split("| `name` |")[1].split("\n")[0]
    assert "| `number` | `11211` | no |" in generated.split("| `port` |")[1].split("\n")[0]
    assert "| `node_endpoints` |" in generated.split("## Outputs")[1]
