"""docs/openapi.yaml against the running local API, by schemathesis (a client no one here wrote):
it generates requests from the document, valid ones and ones the document rules out, sends them
to `/stats` and checks every answer against the document (status, headers, body, content type).
Bounded: a fixed number of examples of each kind."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import Case, GenerationMode

from tatourney_local.services import REPO_ROOT
from tatourney_local.stack import Stack

OPENAPI = REPO_ROOT / "docs" / "openapi.yaml"
EXAMPLES = 50


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_every_answer_of_the_local_api_conforms_to_the_openapi_document(
    stack: Stack, mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_path(OPENAPI)
    schema.config.update(base_url=stack.url.rstrip("/"))
    operation = schema["/stats"]["GET"]
    calls: list[int] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    def conforms(case: Case[Any]) -> None:
        response = case.call_and_validate()
        calls.append(response.status_code)

    conforms()
    assert len(calls) >= EXAMPLES // 2, calls  # it did send requests, and enough of them
