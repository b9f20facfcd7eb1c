"""The HTTP API of the local stack: the event API Gateway's HTTP API (payload format 2.0) sends
for a request, and the server of the site, `/stats` (through the leaderboard function) and the
local pages."""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from email.message import Message
from http.server import SimpleHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

from tatourney_local.services import LOOPBACK, REPO_ROOT

logger = logging.getLogger("tatourney_local.http_api")

SITE_DIR = REPO_ROOT / "site"


def http_api_event(
    method: str, target: str, headers: Message, source_ip: str, route: str
) -> dict[str, Any]:
    """The event API Gateway's HTTP API (payload format 2.0) sends for this request."""
    now = time.time()
    raw_path, _, raw_query = target.partition("?")
    lowered: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()  # HTTP APIs lower-case header names and join repeated ones
        lowered[key] = f"{lowered[key]},{value}" if key in lowered else value
    cookies = lowered.pop("cookie", None)
    host = lowered.get("host", LOOPBACK)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": lowered,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex[:16],
            "routeKey": route,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies.split("; ")
    query = parse_qs(raw_query, keep_blank_values=True)
    if query:
        event["queryStringParameters"] = {key: ",".join(values) for key, values in query.items()}
    return event


LocalPage = Callable[[str], tuple[str, bytes] | None]


def site_and_api_handler(
    api: Callable[[dict[str, Any]], Any],
    site_config: Mapping[str, Any],
    local_page: LocalPage = lambda path: None,
) -> type[SimpleHTTPRequestHandler]:
    """Request handler: `GET /stats` through the leaderboard function, `local_page`'s pages
    (content type and body, for paths under /local/), the rest from site/."""
    config_body = json.dumps(dict(site_config)).encode()

    class SiteAndApi(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(SITE_DIR), **kwargs)

        def do_GET(self) -> None:
            path = self.path.partition("?")[0]
            if path == "/stats":
                self._invoke_api()
            elif path == "/config.json":
                self._send(200, {"Content-Type": "application/json"}, config_body)
            elif path.startswith("/local/") and (page := local_page(path)) is not None:
                self._send(200, {"Content-Type": page[0]}, page[1])
            else:
                super().do_GET()

        def end_headers(self) -> None:
            # The site changes while you edit it; never let the browser keep an old copy.
            # (The API's responses say themselves how they may be kept.)
            if self.path.partition("?")[0] != "/stats":
                self.send_header("Cache-Control", "no-store")
            super().end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("%s %s", self.address_string(), format % args)

        def _invoke_api(self) -> None:
            event = http_api_event(
                "GET", self.path, self.headers, self.client_address[0], "GET /stats"
            )
            try:
                response = api(event)
            except Exception:
                # What API Gateway answers when the integration fails.
                logger.exception("leaderboard failed")
                message = b'{"message":"Internal Server Error"}'
                self._send(500, {"Content-Type": "application/json"}, message)
                return
            body = response.get("body", "")
            payload = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
            headers = {name: str(value) for name, value in response.get("headers", {}).items()}
            self._send(int(response.get("statusCode", 200)), headers, payload)

        def _send(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if status != 304:  # a 304 has no body, and no length of one
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return SiteAndApi
