"""Faults the local services cannot produce by themselves, injected into a boto3 client.

DynamoDB Local never throttles, never answers a BatchGetItem in part and is always strongly
consistent. These hooks answer a request with DynamoDB's own throttling response before it is
sent, so botocore parses it and its retry logic runs exactly as on AWS; cut a BatchGetItem's
answer short with `UnprocessedKeys`; and answer eventually consistent reads as a replica that
lags behind the writes would (ReplicaLag).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
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


def _key_json(key: Mapping[str, Any]) -> str:
    return json.dumps(key, sort_keys=True)


def _projected(item: Mapping[str, Any], request: Mapping[str, Any]) -> dict[str, Any]:
    """`item` cut to the request's ProjectionExpression (plain or #name attribute paths)."""
    expression = request.get("ProjectionExpression")
    if not expression:
        return dict(item)
    names = request.get("ExpressionAttributeNames", {})
    wanted = {names.get(part.strip(), part.strip()) for part in expression.split(",")}
    return {name: value for name, value in item.items() if name in wanted}


@dataclass
class _Write:
    committed: float  # monotonic time the write returned
    before: dict[str, Any] | None  # the item before it (None: absent)


class ReplicaLag:
    """A replica `lag_seconds` behind, for eventually consistent reads (DynamoDB Local and
    LocalStack are always strongly consistent): a GetItem, BatchGetItem, Scan or Query without
    ConsistentRead answers each item of `tables` written within the last `lag_seconds` as it was
    before those writes (absent if it did not exist; present again if it was deleted). It is the
    worst case DynamoDB allows for such a read — every read within the lag is behind — and
    strongly consistent reads are answered as sent.

    `install` hooks an event emitter: a client's (`client.meta.events`) or a session's (every
    client created from it afterwards, writers and readers alike). Each write of an item of
    `tables` through a hooked client first reads the item's previous version through
    `reference` (a client that is not hooked, strongly consistent).
    """

    WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
    READS = ("GetItem", "BatchGetItem", "Scan", "Query")

    def __init__(self, lag_seconds: float, reference: Any, tables: Collection[str]) -> None:
        self.lag_seconds = lag_seconds
        self._reference = reference
        self._tables = frozenset(tables)
        self._key_names: dict[str, tuple[str, ...]] = {}
        self._history: dict[tuple[str, str], list[_Write]] = {}
        self._lock = threading.Lock()
        self.answered_behind = 0  # items answered at an older version than the table holds

    def _hooks(self) -> list[tuple[str, Callable[..., None]]]:
        hooks: list[tuple[str, Callable[..., None]]] = []
        for operations, before, after in (
            (self.WRITES, self._before_write, self._after_write),
            (self.READS, self._before_read, self._after_read),
        ):
            for operation in operations:
                hooks.append((f"before-parameter-build.dynamodb.{operation}", before))
                hooks.append((f"after-call.dynamodb.{operation}", after))
        return hooks

    def install(self, events: Any) -> None:
        for event, hook in self._hooks():
            events.register(event, hook)

    def uninstall(self, events: Any) -> None:
        for event, hook in self._hooks():
            events.unregister(event, hook)

    # Writes: remember what each written item was before ----------------------------------------

    def _keys_of(self, table: str, item: Mapping[str, Any]) -> dict[str, Any]:
        names = self._key_names.get(table)
        if names is None:
            schema = self._reference.describe_table(TableName=table)["Table"]["KeySchema"]
            names = self._key_names[table] = tuple(part["AttributeName"] for part in schema)
        return {name: item[name] for name in names}

    def _written_keys(
        self, model: Any, params: Mapping[str, Any]
    ) -> list[tuple[str, dict[str, Any]]]:
        operation = model.name
        if operation in ("UpdateItem", "DeleteItem"):
            return [(params["TableName"], dict(params["Key"]))]
        if operation == "PutItem":
            return [(params["TableName"], self._keys_of(params["TableName"], params["Item"]))]
        written: list[tuple[str, dict[str, Any]]] = []
        if operation == "BatchWriteItem":
            for table, requests in params["RequestItems"].items():
                for request in requests:
                    if "PutRequest" in request:
                        written.append((table, self._keys_of(table, request["PutRequest"]["Item"])))
                    else:
                        written.append((table, dict(request["DeleteRequest"]["Key"])))
        else:  # TransactWriteItems
            for action in params["TransactItems"]:
                for kind in ("Put", "Update", "Delete"):
                    if kind in action:
                        table = action[kind]["TableName"]
                        key = action[kind].get("Key") or self._keys_of(table, action[kind]["Item"])
                        written.append((table, dict(key)))
        return [(table, key) for table, key in written if table in self._tables]

    def _before_write(self, model: Any, params: Mapping[str, Any], context: Any, **_: Any) -> None:
        before = []
        for table, key in self._written_keys(model, params):
            found = self._reference.get_item(TableName=table, Key=key, ConsistentRead=True)
            before.append((table, _key_json(key), found.get("Item")))
        context["replica_lag_writes"] = before

    def _after_write(self, http_response: Any, context: Any, **_: Any) -> None:
        if http_response.status_code >= 300:
            return
        now = time.monotonic()
        with self._lock:
            for table, key, item in context.get("replica_lag_writes", []):
                self._history.setdefault((table, key), []).append(_Write(now, item))

    # Reads: answer what a replica `lag_seconds` behind holds ------------------------------------

    def _before_read(self, params: Mapping[str, Any], context: Any, **_: Any) -> None:
        context["replica_lag_request"] = params

    def _behind(self, table: str, key: Mapping[str, Any]) -> tuple[bool, dict[str, Any] | None]:
        """(whether the replica is behind for this item, the item as the replica holds it)."""
        horizon = time.monotonic() - self.lag_seconds
        with self._lock:
            writes = self._history.get((table, _key_json(key)), [])
            recent = [write for write in writes if write.committed > horizon]
        if not recent:
            return False, None
        return True, recent[0].before

    def _lagged(
        self, table: str, items: list[dict[str, Any]], request: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        answered = []
        for item in items:
            behind, before = self._behind(table, self._keys_of(table, item))
            if not behind:
                answered.append(item)
                continue
            self.answered_behind += 1
            if before is not None:
                answered.append(_projected(before, request))
        return answered

    def _missing(
        self, table: str, keys: list[dict[str, Any]], request: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """Items the read did not find that the replica still holds (deleted within the lag)."""
        found = []
        for key in keys:
            behind, before = self._behind(table, key)
            if behind and before is not None:
                self.answered_behind += 1
                found.append(_projected(before, request))
        return found

    def _after_read(self, model: Any, parsed: dict[str, Any], context: Any, **_: Any) -> None:
        request = context.get("replica_lag_request", {})
        if model.name == "BatchGetItem":
            for table, asked in request.get("RequestItems", {}).items():
                if table not in self._tables or asked.get("ConsistentRead"):
                    continue
                items = parsed.setdefault("Responses", {}).setdefault(table, [])
                present = {_key_json(self._keys_of(table, item)) for item in items}
                absent = [key for key in asked["Keys"] if _key_json(key) not in present]
                items[:] = self._lagged(table, items, asked) + self._missing(table, absent, asked)
            return
        table = request.get("TableName", "")
        if table not in self._tables or request.get("ConsistentRead"):
            return
        if model.name == "GetItem":
            items = [parsed["Item"]] if "Item" in parsed else []
            answered = self._lagged(table, items, request) or self._missing(
                table, [] if items else [dict(request["Key"])], request
            )
            parsed.pop("Item", None)
            if answered:
                parsed["Item"] = answered[0]
            return
        items = parsed.get("Items", [])
        answered = self._lagged(table, items, request)
        if "LastEvaluatedKey" not in parsed:  # deleted items come back on the last page
            present = {_key_json(self._keys_of(table, item)) for item in items}
            with self._lock:
                deleted = [
                    json.loads(key)
                    for (written_table, key) in self._history
                    if written_table == table and key not in present
                ]
            answered += self._missing(table, deleted, request)
        parsed["Items"] = answered
        parsed["Count"] = len(answered)


@contextmanager
def unprocessed_keys(client: Any, when: Callable[[], bool] = lambda: True) -> Iterator[list[int]]:
    """While the block runs, each BatchGetItem answer for which `when()` is true keeps only its
    first half of the items and gives the other half's keys back as `UnprocessedKeys`: the partial
    answer DynamoDB gives instead of throttling a whole batch (DynamoDB Local never does).

    Yields the number of keys left unprocessed in each answer cut short."""
    cut: list[int] = []

    def stash(params: Mapping[str, Any], context: Any, **_: Any) -> None:
        context["unprocessed_request"] = params

    def cut_short(parsed: dict[str, Any], context: Any, **_: Any) -> None:
        if not when():
            return
        request = context["unprocessed_request"]["RequestItems"]
        for table, items in parsed.get("Responses", {}).items():
            if len(items) < 2:
                continue
            kept, left = items[: len(items) // 2], items[len(items) // 2 :]
            key_names = [name for name in request[table]["Keys"][0]]
            keys = [{name: item[name] for name in key_names} for item in left]
            items[:] = kept
            unprocessed = parsed.setdefault("UnprocessedKeys", {})
            unprocessed[table] = {**request[table], "Keys": keys}
            cut.append(len(keys))

    client.meta.events.register("before-parameter-build.dynamodb.BatchGetItem", stash)
    client.meta.events.register("after-call.dynamodb.BatchGetItem", cut_short)
    try:
        yield cut
    finally:
        client.meta.events.unregister("before-parameter-build.dynamodb.BatchGetItem", stash)
        client.meta.events.unregister("after-call.dynamodb.BatchGetItem", cut_short)
