"""Extract the AWS provider's schema from the jsii assembly of the PyPI package cdktn-provider-aws.

`make tf-schema` runs this. The package's bindings are generated from hashicorp/aws itself, so its
assembly (`.jsii`) describes every resource and data source: each class's config interface lists the
arguments (its docs link to the registry page whose `#anchor` is the argument's own name), nested
blocks are struct types, and each class's getters are the attributes a reference may read. What
is kept, as compact JSON (gzip):

    {"provenance": {...}, "resource": {type: SCHEMA}, "data": {type: SCHEMA}}
    SCHEMA = {"arguments": {name: required}, "blocks": {name: BLOCK}, "attributes": [name...]}
    BLOCK  = {"required": bool, "single": bool, "arguments": {...}, "blocks": {...}}
             (+ "open": true where a block repeats inside itself and the walk stops)
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any

PACKAGE = "cdktn-provider-aws"
VERSION = "25.8.1"
OUTPUT = Path(__file__).resolve().parent / "aws_provider_schema.json.gz"

REGISTRY_LINK = re.compile(
    r"registry\.terraform\.io/providers/hashicorp/aws/(?P<version>[\d.]+)/docs/"
    r"(?P<kind>resources|data-sources)/(?P<name>\w+)"
)
ANCHOR = re.compile(r"registry\.terraform\.io/providers/hashicorp/aws/[\d.]+/docs/[\w-]+/\w+#(\w+)")
# Getters every generated class inherits or adds for CDK's own use, not Terraform attributes.
NOT_ATTRIBUTES = {"tfResourceType", "fqn", "friendlyUniqueId", "terraformMetaArguments"}

Types = dict[str, dict[str, Any]]


def read_assembly(wheel: Path) -> dict[str, Any]:
    """The `.jsii` JSON inside the wheel's bundled npm tarball."""
    with zipfile.ZipFile(wheel) as archive:
        [tarball] = [n for n in archive.namelist() if n.endswith(".jsii.tgz")]
        data = archive.read(tarball)
    with tarfile.open(fileobj=io.BytesIO(data)) as npm_package:
        member = npm_package.extractfile("package/.jsii")
        if member is None:
            raise SystemExit(f"{wheel.name}: no package/.jsii in {tarball}")
        assembly: dict[str, Any] = json.load(member)
    if assembly.get("schema") == "jsii/file-redirect":
        raise SystemExit(f"{wheel.name}: compressed jsii redirects are not handled")
    return assembly


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def terraform_name(prop: dict[str, Any]) -> str:
    docs = prop.get("docs", {})
    match = ANCHOR.search(f"{docs.get('summary', '')} {docs.get('remarks', '')}")
    return match.group(1) if match else snake(prop["name"])


def struct_of(type_ref: dict[str, Any], types: Types) -> tuple[str | None, bool]:
    """(struct fqn, single) when the property is a nested block, else (None, False)."""
    if "fqn" in type_ref and types.get(type_ref["fqn"], {}).get("datatype"):
        return type_ref["fqn"], True
    element = type_ref.get("union", {}).get("types", [type_ref.get("collection", {})])
    for candidate in element:
        inner = candidate.get("collection", candidate).get("elementtype", {})
        if "fqn" in inner and types.get(inner["fqn"], {}).get("datatype"):
            return inner["fqn"], False
    return None, False


def interface_schema(
    fqn: str, types: Types, skip: set[str], enclosing: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Arguments and nested blocks of a config or block struct. A block that contains itself
    (wafv2's rule statements do) is cut at the repetition and marked open: anything goes."""
    if fqn in enclosing:
        return {"open": True, "arguments": {}, "blocks": {}}
    arguments: dict[str, bool] = {}
    blocks: dict[str, Any] = {}
    for prop in types[fqn].get("properties", []):
        if prop["name"] in skip:
            continue
        name = terraform_name(prop)
        required = not prop.get("optional", False)
        nested, single = struct_of(prop["type"], types)
        if nested is None:
            arguments[name] = required
        else:
            blocks[name] = {"required": required, "single": single} | interface_schema(
                nested, types, set(), (*enclosing, fqn)
            )
    return {"arguments": arguments, "blocks": blocks}


META_ARGUMENTS = {"count", "dependsOn", "forEach", "lifecycle", "provider", "connection"}


def extract(assembly: dict[str, Any]) -> dict[str, Any]:
    types: Types = assembly["types"]
    schema: dict[str, Any] = {"resource": {}, "data": {}}
    provider_versions = set()
    for cls in types.values():
        base = cls.get("base")
        if base not in ("cdktn.TerraformResource", "cdktn.TerraformDataSource"):
            continue
        match = REGISTRY_LINK.search(cls.get("docs", {}).get("summary", ""))
        if match is None:
            raise SystemExit(f"{cls['fqn']}: no registry link to name its Terraform type")
        provider_versions.add(match.group("version"))
        kind = "resource" if match.group("kind") == "resources" else "data"
        config = cls["initializer"]["parameters"][2]["type"]["fqn"]  # (scope, id, config)
        body = interface_schema(config, types, META_ARGUMENTS | {"provisioners"})
        getters = {
            p["name"]
            for p in cls.get("properties", [])
            if not p.get("static") and not p["name"].endswith("Input")
        }
        arguments_by_getter = {
            p["name"]: terraform_name(p) for p in types[config].get("properties", [])
        }
        attributes = {
            arguments_by_getter.get(name, snake(name)) for name in getters - NOT_ATTRIBUTES
        }
        body["attributes"] = sorted(attributes | set(body["arguments"]) | set(body["blocks"]))
        schema[kind][f"aws_{match.group('name')}"] = body
    if len(provider_versions) != 1:
        raise SystemExit(f"expected one provider version, found {sorted(provider_versions)}")
    schema["provenance"] = {
        "package": f"{PACKAGE}=={assembly['version']}",
        "provider": f"hashicorp/aws {provider_versions.pop()}",
        "produced_by": "tools/terraform/aws_schema.py (make tf-schema)",
        "resources": len(schema["resource"]),
        "data_sources": len(schema["data"]),
    }
    return schema


def download(version: str, into: Path) -> Path:
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"),
            *("--disable-pip-version-check", f"{PACKAGE}=={version}", "-d", str(into)),
        ],
        check=True,
    )
    [wheel] = into.glob("*.whl")
    return wheel


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default=VERSION, help=f"{PACKAGE} version ({VERSION})")
    parser.add_argument("--wheel", type=Path, help="an already downloaded wheel")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tatourney-schema-") as scratch:
        wheel = args.wheel or download(args.version, Path(scratch))
        schema = extract(read_assembly(wheel))
    text = json.dumps(schema, sort_keys=True, separators=(",", ":")).encode()
    args.out.write_bytes(gzip.compress(text, mtime=0))
    provenance = schema["provenance"]
    print(f"{args.out}: {provenance['package']}, {provenance['provider']}, ", end="")
    print(f"{provenance['resources']} resources, {provenance['data_sources']} data sources")
    return 0


if __name__ == "__main__":
    sys.exit(main())
