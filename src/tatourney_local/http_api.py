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
from http import HTTPMethod
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

# The site's Content-Security-Policy, as CloudFront sets it in front of the deployed site: the
# site's own script, style and API only, no inline code, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
API_PATH = "/stats"
# The HTTP API's route: every method reaches the function, which answers 405 to all but GET.
API_ROUTE = f"ANY {API_PATH}"
SITE_METHODS = ("GET", "HEAD")  # what the static site answers, as S3 and CloudFront do


def site_and_api_handler(
    api: Callable[[dict[str, Any]], Any],
    site_config: Mapping[str, Any],
    local_page: LocalPage = lambda path: None,
) -> type[SimpleHTTPRequestHandler]:
    """Request handler: `/stats` through the leaderboard function (every method, as the HTTP
    API's `ANY /stats` route), `local_page`'s pages (content type and body, for paths under
    /local/), the rest from site/."""
    config_body = json.dumps(dict(site_config)).encode()

    class SiteAndApi(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(SITE_DIR), **kwargs)

        def dispatch(self) -> None:
            path = self.path.partition("?")[0]
            if path == API_PATH:
                self._invoke_api()
            elif self.command not in SITE_METHODS:
                allow = ", ".join(SITE_METHODS)
                self._send(405, {"Allow": allow, "Content-Type": "text/plain"}, b"")
            elif path == "/config.json":
                self._send(200, {"Content-Type": "application/json"}, config_body)
            elif path.startswith("/local/") and (page := local_page(path)) is not None:
                self._send(200, {"Content-Type": page[0]}, page[1])
            elif self.command == "HEAD":
                super().do_HEAD()
            else:
                super().do_GET()

        def send_response(self, code: int, message: str | None = None) -> None:
            # As API Gateway and CloudFront: a Date, no Server header naming the software.
            self.log_request(code)
            self.send_response_only(code, message)
            self.send_header("Date", self.date_time_string())

        def end_headers(self) -> None:
            if self.path.partition("?")[0] != API_PATH:
                # The site changes while you edit it; never let the browser keep an old copy.
                # (The API's responses say themselves how they may be kept.)
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
            super().end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("%s %s", self.address_string(), format % args)

        def _invoke_api(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            event = http_api_event(
                self.command, self.path, self.headers, self.client_address[0], API_ROUTE
            )
            if length:
                event["body"] = base64.b64encode(self.rfile.read(length)).decode()
                event["isBase64Encoded"] = True
            headers = {"apigw-requestid": event["requestContext"]["requestId"]}
            try:
                response = api(event)
            except Exception:
                # What API Gateway answers when the integration fails.
                logger.exception("leaderboard failed")
                message = b'{"message":"Internal Server Error"}'
                self._send(500, {**headers, "Content-Type": "application/json"}, message)
                return
            body = response.get("body", "")
            payload = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
            headers |= {name: str(value) for name, value in response.get("headers", {}).items()}
            self._send(int(response.get("statusCode", 200)), headers, payload)

        def _send(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if status != 304:  # a 304 has no body, and no length of one
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":  # HEAD: the headers of the answer, not its body
                self.wfile.write(body)

    # Every method HTTP defines reaches `dispatch` (the standard library answers 501 to the
    # methods a handler has no do_<METHOD> for).
    for method in HTTPMethod:
        setattr(SiteAndApi, f"do_{method}", SiteAndApi.dispatch)
    return SiteAndApi
