"""Check Terraform modules against the AWS provider's schema, offline: what `terraform validate`
would say about them, as far as a schema and the module sources can tell without the provider.

    python tools/terraform/check.py DIR...     (make tf-check runs it on the root, modules/*,
                                               examples/*)

Per module directory: every `aws_*` resource and data source type exists; every argument and
nested block (static or `dynamic`, at any depth) exists; required arguments and blocks are set;
`aws_x.name.attr` and `data.aws_x.name.attr` name a declared resource and one of its attributes;
`var.x`, `local.x` and `module.m.out` are declared (the output in m's source); module calls pass
only the source's variables and every variable it has without a default. Override files
(`override.tf`, `*_override.tf`) are merged into the blocks they override, as Terraform does, after
the other files. Exits 1 listing every problem with its file.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

SCHEMA = Path(__file__).resolve().parent / "aws_provider_schema.json.gz"
OPTIONS = SerializationOptions(strip_string_quotes=True, with_comments=False, explicit_blocks=False)

RESOURCE_META = {"count", "for_each", "depends_on", "lifecycle", "provider", "provisioner"}
MODULE_META = {"source", "version", "count", "for_each", "depends_on", "providers"}

RESOURCE_REFERENCE = re.compile(
    r"(?<![\w.])(?P<data>data\.)?(?P<type>aws_\w+)\.(?P<name>\w+)(?:\[[^\]]*\])?(?:\.(?P<attr>\w+))?"
)
VARIABLE_REFERENCE = re.compile(r"(?<![\w.])var\.(\w+)")
LOCAL_REFERENCE = re.compile(r"(?<![\w.])local\.(\w+)")
MODULE_REFERENCE = re.compile(r"(?<![\w.])module\.(\w+)(?:\[[^\]]*\])?(?:\.(\w+))?")


# Blocks keyed by type and name (resources, data sources) and by name (the rest but locals and
# terraform): what an override file's block is matched with.
TYPED_KINDS = {"resource", "data"}


def is_override(path: Path) -> bool:
    return path.name == "override.tf" or path.name.endswith("_override.tf")


def parse(path: Path) -> dict[str, list[Any]]:
    with path.open() as file:
        parsed: dict[str, list[Any]] = hcl2.load(file, serialization_options=OPTIONS)
    return parsed


@dataclass
class Module:
    """One directory's .tf files, each top-level block with the file it came from, override
    files merged in; `problems` says what could not be merged."""

    directory: Path
    blocks: list[tuple[Path, str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, directory: Path) -> Module:
        module = cls(directory)
        paths = sorted(directory.glob("*.tf"))
        for path in (path for path in paths if not is_override(path)):
            for kind, entries in parse(path).items():
                module.blocks.extend((path, kind, entry) for entry in entries)
        for path in filter(is_override, paths):
            for kind, entries in parse(path).items():
                for entry in entries:
                    module.merge(path, kind, entry)
        return module

    def merge(self, path: Path, kind: str, override: dict[str, Any]) -> None:
        """Terraform's override rule: each argument of the override replaces the original's (a
        nested block type replaces all of the original's blocks of that type)."""
        if kind == "terraform":
            return  # required_providers and the like: nothing this check reads
        for key, value in override.items():
            if kind == "locals":
                merged = self.override_blocks(kind, [key], {key: value}, replace=True)
            elif kind in TYPED_KINDS:
                merged = all(
                    self.override_blocks(kind, [key, name], body) for name, body in value.items()
                )
            else:
                merged = self.override_blocks(kind, [key], value)
            if not merged:
                self.problems.append(
                    f"{path}: {kind} {key!r} overrides nothing (no such block in the other files)"
                )

    def override_blocks(
        self, kind: str, keys: list[str], value: Any, replace: bool = False
    ) -> bool:
        """Merge `value` into every `kind` block found under `keys`; whether there was one."""
        *parents, last = keys
        found = False
        for _, entry in self.of_kind(kind):
            blocks = entry
            for parent in parents:
                blocks = blocks.get(parent, {})
            if last in blocks:
                found = True
                if replace:
                    blocks.update(value)
                else:
                    blocks[last].update(value)
        return found

    def of_kind(self, kind: str) -> Iterator[tuple[Path, Any]]:
        return ((path, entry) for path, of_kind, entry in self.blocks if of_kind == kind)

    def names(self, kind: str) -> set[str]:
        return {name for _, entry in self.of_kind(kind) for name in entry}

    def typed(self, kind: str) -> Iterator[tuple[Path, str, str, dict[str, Any]]]:
        """(file, type, name, body) of each resource or data block."""
        for path, entry in self.of_kind(kind):
            for type_name, named in entry.items():
                for name, body in named.items():
                    yield path, type_name, name, body

    def variables(self) -> dict[str, dict[str, Any]]:
        return {name: body for _, entry in self.of_kind("variable") for name, body in entry.items()}


def expressions(value: Any) -> Iterator[str]:
    """Every string holding an expression (`${...}`) anywhere inside a value."""
    if isinstance(value, str):
        if "${" in value:
            yield value
    elif isinstance(value, dict):
        for inner in value.values():
            yield from expressions(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from expressions(inner)


@dataclass
class Checker:
    schema: dict[str, Any]
    problems: list[str] = field(default_factory=list)

    def report(self, path: Path, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def check_body(
        self, path: Path, address: str, body: dict[str, Any], schema: dict[str, Any], top: bool
    ) -> None:
        if schema.get("open"):
            return
        blocks: dict[str, Any] = schema["blocks"]
        dynamic_names = self.check_dynamic_blocks(path, address, body, blocks)
        for key, value in body.items():
            if key == "dynamic" or (top and key in RESOURCE_META) or key in schema["arguments"]:
                continue
            if key not in blocks:
                self.report(path, f"{address}: unknown argument or block {key!r}")
                continue
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict):
                    self.check_body(path, f"{address}.{key}", item, blocks[key], top=False)
        present = set(body) | dynamic_names
        required = [name for name, needed in schema["arguments"].items() if needed]
        for name in required:
            if name not in present:
                self.report(path, f"{address}: missing required argument {name!r}")
        for name in (name for name, block in blocks.items() if block["required"]):
            if name not in present:
                self.report(path, f"{address}: missing required block {name!r}")

    def check_dynamic_blocks(
        self, path: Path, address: str, body: dict[str, Any], blocks: dict[str, Any]
    ) -> set[str]:
        """Check each `dynamic "name" { content {...} }`; return the names it generates."""
        names: set[str] = set()
        for entry in body.get("dynamic", []):
            for name, dynamic in entry.items():
                names.add(name)
                if name not in blocks:
                    self.report(path, f"{address}: unknown block {name!r} (dynamic)")
                    continue
                for content in dynamic.get("content", []):
                    self.check_body(path, f"{address}.{name}", content, blocks[name], top=False)
        return names

    def check_module(self, module: Module) -> None:
        self.problems.extend(module.problems)
        declared: dict[tuple[str, str, str], str] = {}
        for kind, plural in (("resource", "resource"), ("data", "data")):
            for path, type_name, name, body in module.typed(kind):
                declared[(kind, type_name, name)] = type_name
                if not type_name.startswith("aws_"):
                    continue
                schema = self.schema[plural].get(type_name)
                if schema is None:
                    label = "resource type" if kind == "resource" else "data source"
                    self.report(path, f"unknown {label} {type_name!r}")
                    continue
                address = f"{'data.' if kind == 'data' else ''}{type_name}.{name}"
                self.check_body(path, address, body, schema, top=True)
        self.check_references(module, declared)
        self.check_module_calls(module)

    def check_references(self, module: Module, declared: dict[tuple[str, str, str], str]) -> None:
        variables = module.names("variable")
        local_names = module.names("locals")
        calls = module.names("module")
        outputs_of = {name: outputs_of_call(module, name) for name in calls}
        for path, _, entry in module.blocks:
            for text in expressions(entry):
                for match in RESOURCE_REFERENCE.finditer(text):
                    kind_of = "data" if match["data"] else "resource"
                    key = (kind_of, match["type"], match["name"])
                    if key not in declared:
                        prefix = "data." if match["data"] else ""
                        self.report(
                            path, f"reference to undeclared {prefix}{match['type']}.{match['name']}"
                        )
                        continue
                    attr = match["attr"]
                    schema = self.schema["resource" if kind_of == "resource" else "data"].get(
                        match["type"]
                    )
                    if attr and schema and attr not in schema["attributes"]:
                        self.report(path, f"{match.group(0)}: {match['type']} has no {attr!r}")
                for name in VARIABLE_REFERENCE.findall(text):
                    if name not in variables:
                        self.report(path, f"var.{name} is not declared in {module.directory}")
                for name in LOCAL_REFERENCE.findall(text):
                    if name not in local_names:
                        self.report(path, f"local.{name} is not defined in {module.directory}")
                for name, output in MODULE_REFERENCE.findall(text):
                    if name not in calls:
                        self.report(path, f"module.{name} is not declared")
                    elif output and (known := outputs_of[name]) is not None and output not in known:
                        self.report(path, f"module.{name} has no output {output!r}")

    def check_module_calls(self, module: Module) -> None:
        for path, entry in module.of_kind("module"):
            for name, body in entry.items():
                source = local_source(module, body)
                if source is None:
                    self.report(
                        path,
                        f"module.{name}: source {body.get('source')!r} is not a local folder"
                        " (this check reads only modules in this repository)",
                    )
                    continue
                inputs = Module.load(source).variables()
                for key in body:
                    if key not in MODULE_META and key not in inputs:
                        self.report(path, f"module.{name}: {source} has no variable {key!r}")
                for key, variable in inputs.items():
                    if "default" not in variable and key not in body:
                        self.report(path, f"module.{name}: required variable {key!r} not set")


def local_source(module: Module, body: dict[str, Any]) -> Path | None:
    """The folder a module block's `source` names, if it is a local path that exists."""
    source = body.get("source")
    if not isinstance(source, str) or not source.startswith((".", "/")):
        return None
    folder = module.directory / source
    return folder if folder.is_dir() else None


def outputs_of_call(module: Module, name: str) -> set[str] | None:
    for _, entry in module.of_kind("module"):
        if name in entry and (source := local_source(module, entry[name])) is not None:
            return Module.load(source).names("output")
    return None


def load_schema(path: Path = SCHEMA) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(gzip.decompress(path.read_bytes()))
    return schema


def check(directories: list[Path], schema: dict[str, Any] | None = None) -> list[str]:
    checker = Checker(schema or load_schema())
    for directory in directories:
        if not any(directory.glob("*.tf")):
            checker.problems.append(f"{directory}: no .tf files")
            continue
        checker.check_module(Module.load(directory))
    return checker.problems


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    directories = [Path(arg) for arg in argv]
    schema = load_schema()
    problems = check(directories, schema)
    for problem in problems:
        print(problem, file=sys.stderr)
    provenance = schema["provenance"]
    if problems:
        print(f"{len(problems)} problems against {provenance['provider']}", file=sys.stderr)
        return 1
    print(
        f"{len(directories)} modules check out against {provenance['provider']} "
        f"(schema from {provenance['package']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
