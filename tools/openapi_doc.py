"""docs/openapi.yaml rendered as Markdown tables into docs/api.md (between `<!-- openapi:start -->`
and `<!-- openapi:end -->`): the parameters, and each answer with its headers and body.

    python tools/openapi_doc.py          # rewrite docs/api.md's section (make docs)
    python tools/openapi_doc.py --check  # exit 1 if it is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from tools.readme_section import with_section

ROOT = Path(__file__).resolve().parents[1]
OPENAPI = ROOT / "docs" / "openapi.yaml"
API_DOC = ROOT / "docs" / "api.md"
SECTION = "openapi"


def resolved(document: dict[str, Any], node: Any) -> Any:
    """`node`, or what its `$ref` (within the document) points at."""
    if isinstance(node, dict) and "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return target
    return node


def schema_text(document: dict[str, Any], schema: dict[str, Any]) -> str:
    """A short reading of a schema: its type and bounds, enum, pattern or object name."""
    if "$ref" in schema:
        return f"`{schema['$ref'].rsplit('/', 1)[1]}`"
    parts = [f"`{schema.get('type', 'any')}`"]
    if "items" in schema:
        parts = [f"`array` of {schema_text(document, schema['items'])}"]
    if "enum" in schema:
        parts.append("one of " + ", ".join(f"`{value}`" for value in schema["enum"]))
    if "minimum" in schema and "maximum" in schema:
        parts.append(f"{schema['minimum']} to {schema['maximum']}")
    elif "minimum" in schema:
        parts.append(f"{schema['minimum']} or more")
    if "default" in schema:
        parts.append(f"default `{schema['default']}`")
    if "pattern" in schema:
        parts.append(f"pattern `{schema['pattern']}`")
    return ", ".join(parts)


def rendered(document: dict[str, Any]) -> str:
    """The Markdown of every operation of the document."""
    lines: list[str] = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            lines += [f"### {method.upper()} {path}", "", operation["description"].strip(), ""]
            lines += ["| parameter | in | schema | what |", "|---|---|---|---|"]
            for parameter in operation["parameters"]:
                lines.append(
                    f"| `{parameter['name']}` | {parameter['in']}"
                    f" | {schema_text(document, parameter['schema'])}"
                    f" | {parameter['description'].strip()} |"
                )
            lines += ["", "| status | when | headers | body |", "|---|---|---|---|"]
            for status, response in operation["responses"].items():
                headers = ", ".join(
                    f"`{name}`" for name in response.get("headers", {}) if name != "Vary"
                )
                content = response.get("content", {}).get("application/json")
                body = schema_text(document, content["schema"]) if content else "none"
                lines.append(
                    f"| {status} | {response['description']} | {headers or 'none'} | {body} |"
                )
    lines += ["", "| object | field | schema | what |", "|---|---|---|---|"]
    for name, schema in document["components"]["schemas"].items():
        for field, value in schema["properties"].items():
            what = resolved(document, value).get("description", "")
            required = "" if field in schema.get("required", []) else " (optional)"
            lines.append(
                f"| `{name}` | `{field}`{required} | {schema_text(document, value)} | {what} |"
            )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    document = yaml.safe_load(OPENAPI.read_text())
    text = API_DOC.read_text()
    new = with_section(text, SECTION, rendered(document))
    if "--check" in argv:
        if new != text:
            print("docs/api.md's OpenAPI section is out of date: run `make docs`", file=sys.stderr)
            return 1
        return 0
    API_DOC.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
