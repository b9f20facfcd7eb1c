"""The project's Terraform as data: every module's blocks read with python-hcl2 (no provider
needed), and small accessors the Terraform tests share."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

ROOT = Path(__file__).resolve().parents[2]
MODULES = ("network", "table", "cache", "functions", "site", "monitoring")
ALL_DIRS = (ROOT, *(ROOT / "modules" / name for name in MODULES), *ROOT.glob("examples/*"))
OPTIONS = SerializationOptions(strip_string_quotes=True, with_comments=False, explicit_blocks=False)


@cache
def load(directory: Path) -> dict[str, list[Any]]:
    """Every top-level block of a module's .tf files, merged by kind (resource, variable, ...)."""
    merged: dict[str, list[Any]] = {}
    for path in sorted(directory.glob("*.tf")):
        with path.open() as file:
            for kind, blocks in hcl2.load(file, serialization_options=OPTIONS).items():
                merged.setdefault(kind, []).extend(blocks)
    return merged


def module(name: str) -> dict[str, list[Any]]:
    return load(ROOT / "modules" / name)


def resources(tf: dict[str, list[Any]], kind: str, of_type: str) -> dict[str, dict[str, Any]]:
    """{name: body} of the resources (kind "resource") or data sources (kind "data") of a type."""
    found: dict[str, dict[str, Any]] = {}
    for block in tf.get(kind, []):
        found.update(block.get(of_type, {}))
    return found


def variables(tf: dict[str, list[Any]]) -> dict[str, dict[str, Any]]:
    return {name: body for block in tf.get("variable", []) for name, body in block.items()}


def outputs(tf: dict[str, list[Any]]) -> dict[str, dict[str, Any]]:
    return {name: body for block in tf.get("output", []) for name, body in block.items()}


def locals_of(tf: dict[str, list[Any]]) -> dict[str, Any]:
    return {name: value for block in tf.get("locals", []) for name, value in block.items()}


def default(tf: dict[str, list[Any]], reference: str) -> Any:
    """The value of `${var.x}` (its default) or a literal; fails on anything else."""
    match = re.fullmatch(r"\$\{var\.(\w+)\}", str(reference))
    if match is None:
        return reference
    return variables(tf)[match.group(1)]["default"]


def blocks(body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """Static blocks of a name, then the content of dynamic blocks of that name."""
    static: list[dict[str, Any]] = body.get(name, [])
    dynamic = [
        content
        for entry in body.get("dynamic", [])
        for content in entry.get(name, {}).get("content", [])
    ]
    return [*static, *dynamic]


def all_tf_text() -> dict[Path, str]:
    return {path: path.read_text() for directory in ALL_DIRS for path in directory.glob("*.tf")}
