#!/usr/bin/env python3
"""Build one zip per Lambda function into dist/, and dist/manifest.json for Terraform.

Each zip holds at its root the function's modules (functions/<name>/*.py), the shared package
src/tatourney/ as tatourney/, and the packages pinned in requirements/lambda.txt, unpacked from
wheels fetched for the Lambda platform; and the bytecode of every module, compiled by Python 3.12
(the runtime's version: --python, else $LAMBDA_PYTHON, pyenv's or PATH's python3.12). Lambda's
/var/task is read-only, so without it every cold start compiles every module again (about 40 ms
for the leaderboard function). The bytecode is "unchecked-hash" (PEP 552): loaded without
comparing the source's mtime, which a zip does not keep, and named /var/task/<module> in
tracebacks. Nothing else: boto3 comes from the Lambda runtime, Powertools from AWS's public layer,
tests are left out.

The zips are reproducible: the same sources give the same bytes on any machine and checkout (with
the same Python 3.12 release compiling the bytecode, under a fixed hash seed).
Entries are sorted, have no directory entries, carry a fixed timestamp (1980-01-01 00:00, the
earliest a zip can record; SOURCE_DATE_EPOCH is not read, so the environment cannot change the
bytes) and mode 0644 whatever the checkout's mtimes and umask. They are stored uncompressed,
because deflate output differs between zlib builds (zlib, zlib-ng, Apple's) and the zips are a
few hundred KB. Wheels must match the sha256 hashes pinned in the requirements file (pip's
--require-hashes), so neither the index nor pip's cache can change what is vendored.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TypedDict

ROOT = Path(__file__).resolve().parent
FUNCTION_NAMES = ("leaderboard", "aggregate", "invalidate", "checker")
RUNTIME = "python3.12"
RUNTIME_PYTHON_VERSION = "3.12"
# Lambda's architecture names (Terraform's `architectures`) -> the wheel platform to fetch for.
WHEEL_PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}

ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
ZIP_FILE_ATTRIBUTES = (stat.S_IFREG | 0o644) << 16
ZIP_CREATED_ON_UNIX = 3
# Parts of a vendored wheel that Lambda never imports.
VENDORED_EXCLUDED_DIRECTORIES = frozenset({"__pycache__", "test", "tests"})
VENDORED_EXCLUDED_SUFFIXES = frozenset({".pyc", ".pyo"})
LICENSE_FILE_PREFIXES = ("LICENSE", "LICENCE", "COPYING", "NOTICE")

Files = dict[str, bytes]
"""Archive path (posix, relative to the zip's root) -> file content."""


class FunctionEntry(TypedDict):
    filename: str
    handler: str
    source_code_hash: str
    size: int


class Manifest(TypedDict):
    runtime: str
    architecture: str
    functions: dict[str, FunctionEntry]


# Run by the runtime's Python in a folder of the zip's modules: each one's bytecode where that
# Python looks for it (__pycache__/<module>.cpython-312.pyc).
COMPILE_BYTECODE = """
import pathlib, py_compile, sys
root = pathlib.Path(sys.argv[1])
for source in sorted(root.rglob("*.py")):
    py_compile.compile(
        str(source),
        dfile="/var/task/" + source.relative_to(root).as_posix(),
        doraise=True,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
"""


class BuildError(Exception):
    """A build that cannot go on; the message names what is missing or failed."""


def function_files(name: str) -> Files:
    folder = ROOT / "functions" / name
    if not folder.is_dir():
        raise BuildError(f"function folder functions/{name}/ not found")
    handler = folder / f"{name}_handler.py"
    if not handler.is_file():
        raise BuildError(f"functions/{name}/ has no {handler.name}")
    return {module.name: module.read_bytes() for module in folder.glob("*.py")}


def library_files() -> Files:
    package = ROOT / "src" / "tatourney"
    if not (package / "__init__.py").is_file():
        raise BuildError("library package src/tatourney/ (with __init__.py) not found")
    return {
        f"tatourney/{module.relative_to(package).as_posix()}": module.read_bytes()
        for module in package.rglob("*.py")
    }


def fetch_wheels(
    requirements: Path, platform: str, pip_cache: Path | None, destination: Path
) -> list[Path]:
    """Download the hash-pinned wheels of `requirements` (no dependencies) for `platform`."""
    command = [
        *(sys.executable, "-m", "pip", "download"),
        *("--disable-pip-version-check", "--no-input", "--progress-bar", "off"),
        *("--only-binary=:all:", "--platform", platform, "--implementation", "cp"),
        *("--python-version", RUNTIME_PYTHON_VERSION, "--no-deps", "--require-hashes"),
        *("--requirement", str(requirements), "--dest", str(destination)),
        *(("--cache-dir", str(pip_cache)) if pip_cache else ()),
    ]
    pip = subprocess.run(command, capture_output=True, text=True, check=False)
    if pip.returncode != 0:
        raise BuildError(
            f"cannot fetch the dependencies in {requirements} for {platform}: "
            f"{pip_error(pip.stdout + pip.stderr)}"
        )
    return sorted(destination.glob("*.whl"))


def pip_error(output: str) -> str:
    """pip's first ERROR line (the one that names the requirement), else its last line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR:")]
    if errors:
        return errors[0]
    return lines[-1] if lines else "pip failed without output"


def wheel_files(wheel: Path) -> Files:
    """The importable files of a pure wheel, with its license files placed in its packages."""
    with zipfile.ZipFile(wheel) as archive:
        names = [name for name in archive.namelist() if not name.endswith("/")]
        if any(PurePosixPath(name).parts[0].endswith(".data") for name in names):
            raise BuildError(f"{wheel.name} has a .data directory, which build.py does not unpack")
        code = {
            name: archive.read(name)
            for name in names
            if not is_metadata(name) and not is_excluded_from_vendoring(name)
        }
        licenses = {
            PurePosixPath(name).name: archive.read(name)
            for name in names
            if is_metadata(name) and PurePosixPath(name).name.startswith(LICENSE_FILE_PREFIXES)
        }
    # The license travels with the code it covers (as pip's own vendoring does), while the
    # rest of the .dist-info, whose RECORD lists the tests left out, stays behind.
    packages = {PurePosixPath(name).parts[0] for name in code if "/" in name}
    placed = {
        f"{package}/{license}": text for package in packages for license, text in licenses.items()
    }
    return merge([code, placed])


def is_metadata(name: str) -> bool:
    return PurePosixPath(name).parts[0].endswith(".dist-info")


def is_excluded_from_vendoring(name: str) -> bool:
    path = PurePosixPath(name)
    return (
        not VENDORED_EXCLUDED_DIRECTORIES.isdisjoint(path.parts[:-1])
        or path.suffix in VENDORED_EXCLUDED_SUFFIXES
    )


def merge(parts: Iterable[Mapping[str, bytes]]) -> Files:
    merged: Files = {}
    for part in parts:
        for name, content in part.items():
            if name in merged:
                raise BuildError(f"two sources provide {name} in the same zip")
            merged[name] = content
    return merged


def runtime_python(requested: str | None) -> str:
    """The Python 3.12 that compiles the bytecode: `requested` if given, else the first that
    runs as 3.12 of $LAMBDA_PYTHON, pyenv's newest 3.12 and python3.12 on PATH (as
    mk/localstack.mk looks); BuildError when there is none."""
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    candidates = (
        [requested]
        if requested
        else [
            os.environ.get("LAMBDA_PYTHON"),
            *(str(path) for path in sorted(pyenv.glob("3.12.*/bin/python3.12"), reverse=True)),
            shutil.which("python3.12"),
        ]
    )
    said = []
    for python in filter(None, candidates):
        version = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if version.returncode == 0 and version.stdout.strip() == RUNTIME_PYTHON_VERSION:
            return python
        said.append(f"{python} is not Python {RUNTIME_PYTHON_VERSION}")
    raise BuildError(
        "no Python 3.12 to compile the functions' bytecode (Lambda's runtime is python3.12"
        + (f"; {', '.join(said)}" if said else "")
        + "): pass --python PATH, set LAMBDA_PYTHON, or install it (pyenv install 3.12)"
    )


def bytecode_files(files: Mapping[str, bytes], python: str) -> Files:
    """The bytecode of the modules among `files`, compiled by `python`, by archive path."""
    with tempfile.TemporaryDirectory(prefix="tatourney-bytecode-") as work:
        root = Path(work)
        for name, content in files.items():
            if name.endswith(".py"):
                (root / name).parent.mkdir(parents=True, exist_ok=True)
                (root / name).write_bytes(content)
        compiled = subprocess.run(
            [python, "-I", "-c", COMPILE_BYTECODE, str(root)],
            capture_output=True,
            text=True,
            check=False,
            # Set and frozenset constants are marshalled in hash order: one seed, one order.
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        if compiled.returncode != 0:
            lines = compiled.stderr.strip().splitlines() or ["no output"]
            raise BuildError(f"cannot compile the functions' bytecode: {lines[-1]}")
        return {
            path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*.pyc")
        }


def zip_bytes(files: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            entry = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            entry.create_system = ZIP_CREATED_ON_UNIX
            entry.external_attr = ZIP_FILE_ATTRIBUTES
            entry.compress_type = zipfile.ZIP_STORED
            archive.writestr(entry, files[name])
    return buffer.getvalue()


def source_code_hash(content: bytes) -> str:
    """Terraform's source_code_hash: base64 of the SHA-256 of the zip's bytes."""
    return base64.b64encode(hashlib.sha256(content).digest()).decode("ascii")


def write_atomically(path: Path, content: bytes) -> None:
    """A failed or interrupted build never leaves a half-written zip or manifest behind."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(content)
    os.replace(partial, path)


def build(
    functions: Sequence[str],
    *,
    out: Path,
    arch: str,
    requirements: Path,
    pip_cache: Path | None,
    python: str | None = None,
) -> Manifest:
    """Write out/<function>.zip for each function and out/manifest.json; return the manifest."""
    own_files = {name: function_files(name) for name in functions}
    library = library_files()
    compiler = runtime_python(python)
    with tempfile.TemporaryDirectory(prefix="tatourney-wheels-") as download:
        wheels = fetch_wheels(requirements, WHEEL_PLATFORMS[arch], pip_cache, Path(download))
        vendored = merge(wheel_files(wheel) for wheel in wheels)
    shared = merge([library, vendored])
    shared_bytecode = bytecode_files(shared, compiler)
    zips = {
        name: zip_bytes(
            merge(
                [
                    own_files[name],
                    bytecode_files(own_files[name], compiler),
                    shared,
                    shared_bytecode,
                ]
            )
        )
        for name in functions
    }

    out.mkdir(parents=True, exist_ok=True)
    for name, content in zips.items():
        write_atomically(out / f"{name}.zip", content)
    manifest: Manifest = {
        "runtime": RUNTIME,
        "architecture": arch,
        "functions": {
            name: {
                "filename": f"{name}.zip",
                "handler": f"{name}_handler.handler",
                "source_code_hash": source_code_hash(content),
                "size": len(content),
            }
            for name, content in zips.items()
        },
    }
    write_atomically(out / "manifest.json", (json.dumps(manifest, indent=2) + "\n").encode())
    return manifest


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--functions",
        nargs="+",
        default=list(FUNCTION_NAMES),
        metavar="NAME",
        help="functions to package, each a folder functions/NAME/ (default: all of them)",
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "dist", help="output folder (default: dist/)"
    )
    parser.add_argument(
        "--arch",
        choices=sorted(WHEEL_PLATFORMS),
        default="arm64",
        help="Lambda architecture the dependencies are fetched for (default: arm64)",
    )
    parser.add_argument(
        "--requirements",
        type=Path,
        default=ROOT / "requirements" / "lambda.txt",
        help="hash-pinned dependencies to vendor (default: requirements/lambda.txt)",
    )
    parser.add_argument(
        "--python",
        default=None,
        metavar="PATH",
        help="the Python 3.12 that compiles the bytecode (default: $LAMBDA_PYTHON, else "
        "pyenv's newest 3.12, else python3.12 on PATH)",
    )
    parser.add_argument(
        "--pip-cache",
        type=Path,
        default=None,
        metavar="DIR",
        help="pip's cache folder, to reuse downloads (default: pip's own cache)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> int:
    arguments = parse_arguments(argv)
    try:
        manifest = build(
            arguments.functions,
            out=arguments.out,
            arch=arguments.arch,
            requirements=arguments.requirements,
            pip_cache=arguments.pip_cache,
            python=arguments.python,
        )
    except BuildError as error:
        print(f"build.py: error: {error}", file=sys.stderr)
        return 1
    for entry in manifest["functions"].values():
        zip_path = arguments.out / entry["filename"]
        print(f"{zip_path}  {entry['size']} bytes  sha256 (base64) {entry['source_code_hash']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
