"""What the handlers' tests share: a Lambda context, a response's body and metrics as a client
and CloudWatch see them, and stream records of every shape a handler must not trip on."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

from hypothesis import strategies as st

from tests.support import FakeLambdaContext

CONTEXT = FakeLambdaContext()


def decoded_body(response: dict[str, Any]) -> bytes:
    body: bytes = response["body"].encode()
    if response["isBase64Encoded"]:
        body = base64.b64decode(body)
    if response["headers"].get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return body


def metric_lines(output: str) -> list[dict[str, Any]]:
    """The CloudWatch embedded-metric-format documents a handler printed."""
    documents = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [document for document in documents if "_aws" in document]


def metrics_of(output: str) -> dict[str, float]:
    """Every metric value the handler printed, by name (the invocation's document)."""
    values: dict[str, float] = {}
    for document in metric_lines(output):
        for directive in document["_aws"]["CloudWatchMetrics"]:
            assert directive["Namespace"] == "Tatourney"
            assert directive["Dimensions"] in ([["service"]], [["function_name", "service"]])
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                values[metric["Name"]] = sum(value) if isinstance(value, list) else value
    return values


# Stream records of any shape, DynamoDB's or not.
attribute_values = st.one_of(
    st.fixed_dictionaries({"S": st.text()}),
    st.fixed_dictionaries({"N": st.text(max_size=20)}),
    st.fixed_dictionaries({"BOOL": st.booleans()}),
    st.fixed_dictionaries({"NULL": st.just(True)}),
    st.fixed_dictionaries({"B": st.text(max_size=10)}),
    st.fixed_dictionaries({"L": st.just([])}),
    st.text(max_size=5),
    st.none(),
)
images = st.dictionaries(
    st.sampled_from(["player", "games", "wins", "total_score"]) | st.text(max_size=8),
    attribute_values,
    max_size=5,
)
other_records = st.fixed_dictionaries(
    {"eventName": st.sampled_from(["INSERT", "MODIFY", "REMOVE"]) | st.text(max_size=8)},
    optional={
        "dynamodb": st.fixed_dictionaries(
            {},
            optional={
                "Keys": images,
                "NewImage": images,
                "OldImage": images,
                "SequenceNumber": st.text(max_size=30) | st.integers(),
            },
        )
        | st.none()
        | st.text(max_size=5)
    },
)
