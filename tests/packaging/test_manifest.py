"""dist/manifest.json: what Terraform reads (handler strings and source_code_hash)."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from tests.packaging.building import FUNCTION_NAMES


def test_manifest_describes_each_zip_with_terraforms_source_code_hash(built: Path) -> None:
    manifest = json.loads((built / "manifest.json").read_text())

    assert manifest["runtime"] == "python3.12"
    assert manifest["architecture"] == "arm64"
    assert list(manifest["functions"]) == list(FUNCTION_NAMES)
    for name, entry in manifest["functions"].items():
        content = (built / entry["filename"]).read_bytes()
        assert entry["filename"] == f"{name}.zip"
        assert entry["handler"] == f"{name}_handler.handler"
        assert entry["size"] == len(content)
        assert (
            entry["source_code_hash"] == base64.b64encode(hashlib.sha256(content).digest()).decode()
        )
