"""HTTP responses of GET /stats (API Gateway payload v2 shape), and its query validation."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tatourney.leaderboard import Answer, Served

MAX_LIMIT = 1000


class BadRequest(ValueError):
    """The request's parameters are malformed; the message says which and why."""


def parse_limit(query: Mapping[str, str] | None) -> int | None:
    """The optional `limit` parameter: a whole number from 1 to 1000."""
    if not query:
        return None
    unknown = sorted(set(query) - {"limit"})
    if unknown:
        raise BadRequest(f"unknown query parameter(s): {', '.join(unknown)}")
    raw = query["limit"].strip()
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}, got {raw[:40]!r}")
    return int(raw)


def _response(status: int, body: str, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {
            "Content-Type": "application/json",
            "Cache-Control": "no-store",
            **(headers or {}),
        },
        "body": body,
        "isBase64Encoded": False,
    }


def error_response(
    status: int, message: str, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    return _response(status, json.dumps({"error": message}), headers)


def leaderboard_response(answer: Answer, limit: int | None, now: float) -> dict[str, Any]:
    if not isinstance(answer, Served):
        retry_after = str(answer.retry_after_seconds)
        body = json.dumps(
            {"error": "the leaderboard table is busy", "retry_after": answer.retry_after_seconds}
        )
        return _response(503, body, {"Retry-After": retry_after})
    board = answer.board
    players = board.players_json
    if limit is not None:
        players = json.dumps(json.loads(players)[:limit], separators=(",", ":")).encode()
    built_at = datetime.fromtimestamp(board.built_at, UTC).isoformat(timespec="milliseconds")
    # The cached players array is spliced in as it is: a hit re-serialises nothing.
    head = json.dumps(
        {
            "cache": answer.source.value,
            "built_at": built_at,
            "age_seconds": round(max(now - board.built_at, 0), 3),
        }
    )
    body = head[:-1] + ', "players": ' + players.decode() + "}"
    return _response(200, body, {"X-Cache": answer.source.value})
