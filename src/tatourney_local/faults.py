"""Faults the local services cannot produce by themselves, injected into a boto3 client.

DynamoDB Local never throttles. These hooks answer a request with DynamoDB's own throttling
response before it is sent, so botocore parses it and its retry logic runs exactly as on AWS.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders

THROTTLING_BODY = json.dumps(
    {
        "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
        "message": "The level of configured provisioned throughput for the table was exceeded.",
    }
).encode()


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


def throttling_response(url: str) -> AWSResponse:
    """The HTTP 400 DynamoDB sends when a request exceeds the provisioned throughput."""
    headers = HTTPHeaders()
    headers["Content-Type"] = "application/x-amz-json-1.0"
    headers["x-amzn-RequestId"] = "injected"
    return AWSResponse(url, 400, headers, _Body(THROTTLING_BODY))


@contextmanager
def throttled(
    client: Any, operation: str = "Scan", when: Callable[[], bool] = lambda: True
) -> Iterator[list[str]]:
    """While the block runs, each `operation` call for which `when()` is true gets throttled.

    Yields the list of request URLs that were throttled (one per attempt, retries included).
    """
    attempts: list[str] = []

    def answer(request: Any, **_: Any) -> AWSResponse | None:
        if not when():
            return None
        attempts.append(request.url)
        return throttling_response(request.url)

    event = f"before-send.dynamodb.{operation}"
    client.meta.events.register(event, answer)
    try:
        yield attempts
    finally:
        client.meta.events.unregister(event, answer)
