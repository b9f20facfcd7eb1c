"""docs/api.md's tables of the OpenAPI document are generated from docs/openapi.yaml (`make
docs`): an edit of one without the other fails here."""

from __future__ import annotations

import yaml

from tools.openapi_doc import API_DOC, OPENAPI, SECTION, rendered
from tools.readme_section import with_section


def test_the_api_docs_tables_are_generated_from_the_openapi_document() -> None:
    text = API_DOC.read_text()
    document = yaml.safe_load(OPENAPI.read_text())
    assert with_section(text, SECTION, rendered(document)) == text, "run `make docs`"
    assert "| 405 | A method other than GET. | `Allow` | `Error` |" in text
