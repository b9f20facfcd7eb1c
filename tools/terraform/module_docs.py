"""The inputs and outputs tables of the Terraform modules' docs, generated from their variables.tf
and outputs.tf as terraform-docs does (between `<!-- BEGIN_TF_DOCS -->` and
`<!-- END_TF_DOCS -->`), with python-hcl2 instead of the terraform-docs binary.

    python tools/terraform/module_docs.py          # rewrite every module's doc (make docs)
    python tools/terraform/module_docs.py --check  # exit 1, naming them, if any is out of date
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import hcl2

from tools.readme_section import between_markers

ROOT = Path(__file__).resolve().parents[2]
BEGIN, END = "<!-- BEGIN_TF_DOCS -->", "<!-- END_TF_DOCS -->"
# Each module and the document that lists its inputs and outputs, with the level of its headings.
DOCUMENTS = {
    **{module: (module / "README.md", "##") for module in sorted(ROOT.glob("modules/*"))},
    ROOT: (ROOT / "docs" / "deploy.md", "###"),
}


def hcl_value(value: Any) -> Any:
    """python-hcl2's value as Terraform wrote it: strings without their quotes, `${expr}` as the
    expression."""
    if isinstance(value, str):
        if value.startswith("${") and value.endswith("}"):
            return value[2:-1]
        return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value
    if isinstance(value, list):
        return [hcl_value(item) for item in value]
    if isinstance(value, dict):
        return {hcl_value(key): hcl_value(item) for key, item in value.items()}
    return value


def cell(text: str) -> str:
    """Table-cell text: one line, pipes escaped."""
    return re.sub(r"\s+", " ", text).strip().replace("|", "\\|")


def blocks(module: Path, kind: str) -> list[tuple[str, dict[str, Any]]]:
    """The `variable` or `output` blocks of a module's .tf files, in file and source order."""
    found = []
    for path in sorted(module.glob("*.tf")):
        for block in hcl2.loads(path.read_text()).get(kind, []):
            found += [(hcl_value(name), body) for name, body in block.items()]
    return found


def tables(module: Path, heading: str) -> str:
    """The Inputs and Outputs tables of `module`."""
    lines = [
        f"{heading} Inputs",
        "",
        "| Name | Description | Type | Default | Required |",
        "|------|-------------|------|---------|:--------:|",
    ]
    for name, body in blocks(module, "variable"):
        required = "default" not in body
        default = "n/a" if required else f"`{cell(json.dumps(hcl_value(body['default'])))}`"
        lines.append(
            f"| `{name}` | {cell(str(hcl_value(body.get('description', ''))))}"
            f" | `{cell(str(hcl_value(body.get('type', 'any'))))}` | {default}"
            f" | {'yes' if required else 'no'} |"
        )
    lines += ["", f"{heading} Outputs", "", "| Name | Description |", "|------|-------------|"]
    for name, body in blocks(module, "output"):
        lines.append(f"| `{name}` | {cell(str(hcl_value(body.get('description', ''))))} |")
    return "\n".join(lines)


def updated(module: Path) -> tuple[Path, str, str]:
    """The module's document, its text now, and its text with the tables regenerated."""
    document, heading = DOCUMENTS[module]
    text = document.read_text()
    return document, text, between_markers(text, BEGIN, END, tables(module, heading))


def main(argv: list[str]) -> int:
    stale = []
    for module in DOCUMENTS:
        document, text, new = updated(module)
        if new != text:
            stale.append(str(document.relative_to(ROOT)))
            if "--check" not in argv:
                document.write_text(new)
    if stale and "--check" in argv:
        print(f"out of date (run `make docs`): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
