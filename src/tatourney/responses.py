"""GET /stats over HTTP: the query's validation, and the responses (API Gateway payload v2 shape).

- Paging: `limit` (1-1000, default 100) players from `offset` (default 0); other parameters are
  refused with a 400 naming them, so a typo (`?limt=5`) is an error, not a silently full page.
- `ETag` (weak: the body also says when the board was built) derived from the board's rows and
  the page; a request whose `If-None-Match` names it gets `304` and no body.
- gzip when `Accept-Encoding` allows it (HTTP APIs do not compress): bodies of 1 KB and more.
- `Cache-Control`: a board (200, 304) is public; browsers revalidate it every time (`max-age=0`),
  shared caches such as the CDN may serve it for `SHARED_CACHE_SECONDS` (`s-maxage`), so a viewer
  may see a board that much older than the origin's. Errors are never stored (`no-store`).
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tatourney.board import PageBody
from tatourney.leaderboard import Answer, Served

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_OFFSET = 9_999_999
# Checked before any conversion: no value of more digits than MAX_OFFSET has can be in range.
MAX_DIGITS = len(str(MAX_OFFSET))
PARAMETERS = ("limit", "offset")
GZIP_FROM_BYTES = 1024  # below this, compression saves less than its header and CPU cost
# The longest a shared cache (CloudFront's /stats behaviour, modules/site) may keep a page; the
# edge's TTL is at most this (stats_edge_ttl_seconds' validation).
SHARED_CACHE_SECONDS = 5
BOARD_CACHE_CONTROL = f"public, max-age=0, s-maxage={SHARED_CACHE_SECONDS}"
_ENTITY_TAG = re.compile(r'(?:W/)?"([^"]*)"')


class BadRequest(ValueError):
    """The request's parameters are malformed; the message says which and why."""


@dataclass(frozen=True)
class Page:
    offset: int
    limit: int


def _shown(value: str, length: int = 40) -> str:
    """A value as an error message may quote it: ASCII, escaped, at most `length` characters."""
    return ascii(value[:length]) + ("..." if len(value) > length else "")


def _whole_number(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    # ASCII digits only (str.isdigit() also accepts superscripts and Arabic-Indic digits),
    # and few enough of them to convert: the length is checked before int() sees the value.
    if not (0 < len(raw) <= MAX_DIGITS and raw.isascii() and raw.isdigit()):
        raise BadRequest(f"{name} must be a whole number from {low} to {high}, got {_shown(raw)}")
    value = int(raw)
    if not low <= value <= high:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}, got {value}")
    return value


def parse_page(query: Mapping[str, str]) -> Page:
    """The page a query asks for. API Gateway joins a repeated parameter's values with commas,
    so `?limit=1&limit=2` arrives as "1,2" and is refused like any other non-number."""
    unknown = sorted(set(query) - set(PARAMETERS))
    if unknown:
        names = ", ".join(_shown(name) for name in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise BadRequest(
            f"unknown query parameter(s): {names}{more}; GET /stats takes limit and offset"
        )
    return Page(
        offset=_whole_number(query, "offset", 0, 0, MAX_OFFSET),
        limit=_whole_number(query, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
    )


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether `Accept-Encoding` (RFC 9110 12.5.3) allows gzip: listed, or `*`, with q > 0."""
    if not accept_encoding:
        return False
    weights: dict[str, float] = {}
    for element in accept_encoding.lower().split(","):
        coding, _, parameters = element.partition(";")
        weight = 1.0
        name, _, value = parameters.strip().partition("=")
        if name.strip() == "q":
            try:
                weight = float(value)
            except ValueError:
                continue
            if not 0 <= weight <= 1:
                continue
        weights[coding.strip()] = weight
    gzip_weight = weights.get("gzip", weights.get("x-gzip"))
    if gzip_weight is not None:
        return gzip_weight > 0
    return weights.get("*", 0) > 0


def none_match(if_none_match: str | None, etag: str) -> bool:
    """Whether `If-None-Match` (RFC 9110 13.1.2) names `etag`: weak comparison, or `*`."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    opaque = _ENTITY_TAG.search(etag)
    return opaque is not None and opaque.group(1) in _ENTITY_TAG.findall(if_none_match)


def _response(
    status: int, body: str, headers: Mapping[str, str], base64_encoded: bool = False
) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": dict(headers),
        "body": body,
        "isBase64Encoded": base64_encoded,
    }


def error_response(
    status: int, message: str, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    return _response(
        status,
        json.dumps({"error": message}),
        {"Content-Type": "application/json", "Cache-Control": "no-store", **(headers or {})},
    )


def _gzip_base64(page: PageBody) -> str:
    """The page gzipped (fixed mtime: the same bytes every time), kept for the next request."""
    if page.gzip_base64 is None:
        compressed = gzip.compress(page.text.encode(), compresslevel=6, mtime=0)
        page.gzip_base64 = base64.b64encode(compressed).decode()
    return page.gzip_base64


def leaderboard_response(
    answer: Answer, page: Page, if_none_match: str | None, accept_encoding: str | None
) -> dict[str, Any]:
    if not isinstance(answer, Served):
        seconds = answer.retry_after_seconds
        return error_response(
            503,
            f"the leaderboard table is busy, try again in {seconds} s",
            {"Retry-After": str(seconds)},
        )
    body = answer.board.page(page.offset, page.limit)
    headers = {
        "Cache-Control": BOARD_CACHE_CONTROL,
        "ETag": body.etag,
        "Vary": "Accept-Encoding",
        "X-Cache": answer.source.value,
    }
    if none_match(if_none_match, body.etag):
        return _response(304, "", headers)
    headers["Content-Type"] = "application/json"
    if len(body.text) >= GZIP_FROM_BYTES and accepts_gzip(accept_encoding):
        headers["Content-Encoding"] = "gzip"
        return _response(200, _gzip_base64(body), headers, base64_encoded=True)
    return _response(200, body.text, headers)
