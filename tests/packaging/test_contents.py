"""Each zip holds its handler, tatourney/, pymemcache/ and sortedcontainers/ (from the pinned
wheels) and the bytecode Python 3.12 loads for each module, nothing else, with normalised entries;
the handler imports from the unpacked zip alone, and Python 3.12 runs the bytecode without
reading the sources."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path, PurePosixPath

import pytest

import build
from tatourney_local.services import lambda_environment
from tests.packaging.building import FUNCTION_NAMES, ROOT

LIBRARY = ROOT / "src" / "tatourney"
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
REGULAR_FILE_0644 = 0o100644


def library_files() -> dict[str, bytes]:
    return {
        f"tatourney/{module.relative_to(LIBRARY).as_posix()}": module.read_bytes()
        for module in LIBRARY.rglob("*.py")
    }


VENDORED = ("pymemcache", "sortedcontainers")  # each distribution's one package has its name


def vendored_files() -> dict[str, bytes]:
    """What the wheels install for the local tests, minus their tests, plus their licenses."""
    files: dict[str, bytes] = {}
    for package in VENDORED:
        for record in metadata.distribution(package).files or []:
            parts = PurePosixPath(record).parts
            if parts[0] == package and "test" not in parts and "__pycache__" not in parts:
                files[str(record)] = Path(str(record.locate())).read_bytes()
            elif parts[0].endswith(".dist-info") and parts[-1].startswith("LICENSE"):
                files[f"{package}/{parts[-1]}"] = Path(str(record.locate())).read_bytes()
    return files


def zip_files(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def bytecode_path(module: str) -> str:
    """Where Python 3.12 looks for a module's bytecode (PEP 3147)."""
    path = PurePosixPath(module)
    return str(path.parent / "__pycache__" / f"{path.stem}.cpython-312.pyc").removeprefix("./")


@pytest.mark.parametrize("function", FUNCTION_NAMES)
def test_zip_holds_exactly_its_handler_the_library_the_vendored_packages_and_bytecode(
    built: Path, function: str
) -> None:
    handler = f"{function}_handler.py"
    sources = {
        handler: (ROOT / "functions" / function / handler).read_bytes(),
        **library_files(),
        **vendored_files(),
    }
    modules = [name for name in sources if name.endswith(".py")]

    contents = zip_files(built / f"{function}.zip")

    assert sorted(contents) == sorted([*sources, *map(bytecode_path, modules)])
    assert {name: contents[name] for name in sources} == sources
    assert {"pymemcache/client/base.py", "pymemcache/LICENSE.txt"} <= contents.keys()
    assert {"sortedcontainers/sortedlist.py", "sortedcontainers/LICENSE"} <= contents.keys()
    for name in contents:
        parts = PurePosixPath(name).parts
        assert parts[0] in {handler, "__pycache__", "tatourney", *VENDORED}, name
        assert not {"test", "tests"} & set(parts), name
        assert not name.endswith(".pyo"), name
    hashes = runtime_source_hashes(built / f"{function}.zip")
    for module in modules:
        pyc = contents[bytecode_path(module)]
        # PEP 552: flags 0b01, hash-based and unchecked (a zip keeps no mtime to check), and the
        # hash of this very source, so a stale or foreign .pyc would show here.
        assert int.from_bytes(pyc[4:8], "little") == 0b01, module
        assert pyc[8:16].hex() == hashes[module], module


SOURCE_HASHES = """
import importlib.util, json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as archive:
    print(json.dumps({
        name: importlib.util.source_hash(archive.read(name)).hex()
        for name in archive.namelist() if name.endswith(".py")
    }))
"""


def runtime_source_hashes(package: Path) -> dict[str, str]:
    """Each module's source hash as Python 3.12 computes it (the key is the version's own)."""
    result = subprocess.run(
        [build.runtime_python(None), "-I", "-c", SOURCE_HASHES, str(package)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    hashes: dict[str, str] = json.loads(result.stdout)
    return hashes


@pytest.mark.parametrize("function", FUNCTION_NAMES)
def test_zip_entries_are_sorted_files_with_fixed_time_mode_and_storage(
    built: Path, function: str
) -> None:
    with zipfile.ZipFile(built / f"{function}.zip") as archive:
        entries = archive.infolist()
        comment = archive.comment

    assert [entry.filename for entry in entries] == sorted(entry.filename for entry in entries)
    assert comment == b""
    for entry in entries:
        assert not entry.is_dir(), entry.filename
        assert entry.date_time == ZIP_TIMESTAMP, entry.filename
        assert entry.external_attr >> 16 == REGULAR_FILE_0644, entry.filename
        assert entry.create_system == 3, entry.filename  # Unix, so the mode is honoured
        assert entry.compress_type == zipfile.ZIP_STORED, entry.filename
        assert entry.extra == b"", entry.filename


IMPORT_FROM_UNPACKED_ZIP = """
import importlib, json, sys
sys.path.insert(0, sys.argv[1])
handler = importlib.import_module(sys.argv[2] + "_handler")
import pymemcache, sortedcontainers, tatourney
print(json.dumps({
    "modules": [
        handler.__file__, pymemcache.__file__, sortedcontainers.__file__, tatourney.__file__
    ],
    "handler_is_callable": callable(handler.handler),
}))
"""


@pytest.mark.parametrize("function", FUNCTION_NAMES)
def test_handler_imports_from_the_unpacked_zip_alone(
    built: Path, tmp_path: Path, function: str
) -> None:
    with zipfile.ZipFile(built / f"{function}.zip") as archive:
        archive.extractall(tmp_path)
    # Nothing listens on port 9: importing builds clients but must not connect.
    environment = lambda_environment("127.0.0.1:9", "http://127.0.0.1:9", "games", "stats")
    environment["FAILURE_DESTINATION"] = (tmp_path / "failures.jsonl").as_uri()

    # -I: no PYTHONPATH and no working directory on sys.path, so the repository's own src/ and
    # functions/ cannot stand in for what the zip lacks; boto3 and Powertools come from the
    # environment as they come from the runtime and the layer on Lambda.
    result = subprocess.run(
        [sys.executable, "-I", "-c", IMPORT_FROM_UNPACKED_ZIP, str(tmp_path), function],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    imported = json.loads(result.stdout)
    assert imported["handler_is_callable"]
    for module in imported["modules"]:
        assert Path(module).is_relative_to(tmp_path), module


RUN_FROM_BYTECODE = """
import sys
sys.path.insert(0, sys.argv[1])
import tatourney.board
print(tatourney.board.__spec__.cached)
"""


def test_python_3_12_runs_the_shipped_bytecode_without_reading_the_sources(
    built: Path, tmp_path: Path
) -> None:
    with zipfile.ZipFile(built / "leaderboard.zip") as archive:
        archive.extractall(tmp_path)
    # If 3.12 compiled the source instead of loading the bytecode, this import would fail.
    (tmp_path / "tatourney" / "board.py").write_text('raise ImportError("source was compiled")\n')

    result = subprocess.run(
        [build.runtime_python(None), "-I", "-B", "-c", RUN_FROM_BYTECODE, str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / bytecode_path("tatourney/board.py"))
