"""Each zip holds its handler, tatourney/, pymemcache/ and sortedcontainers/ (from the pinned
wheels), nothing else,
with normalised entries, and the handler imports from the unpacked zip alone."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path, PurePosixPath

import pytest

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


@pytest.mark.parametrize("function", FUNCTION_NAMES)
def test_zip_holds_exactly_its_handler_the_library_and_the_vendored_packages(
    built: Path, function: str
) -> None:
    handler = f"{function}_handler.py"
    expected = {
        handler: (ROOT / "functions" / function / handler).read_bytes(),
        **library_files(),
        **vendored_files(),
    }

    contents = zip_files(built / f"{function}.zip")

    assert sorted(contents) == sorted(expected)
    assert contents == expected
    assert {"pymemcache/client/base.py", "pymemcache/LICENSE.txt"} <= contents.keys()
    assert {"sortedcontainers/sortedlist.py", "sortedcontainers/LICENSE"} <= contents.keys()
    for name in contents:
        parts = PurePosixPath(name).parts
        assert parts[0] in {handler, "tatourney", *VENDORED}, name
        assert not {"test", "tests", "__pycache__"} & set(parts), name
        assert not name.endswith((".pyc", ".pyo")), name


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
