"""The template's HTTP API routes on 127.0.0.1, in API Gateway's payload format 2.0.

Each request that matches a route (``POST /uploads`` ...) becomes the event an HTTP API
sends a Lambda integration (version 2.0: routeKey, rawPath, lower-case headers,
requestContext with http, requestId, time, authorizer.iam for IAM routes, body and
isBase64Encoded), is run by the function's warm worker, and the result is mapped back
as API Gateway does: a ``statusCode`` result is the response; any other JSON is a 200
``application/json`` body; a function error is ``500 {"message": "Internal Server Error"}``.

An ``AWS_IAM`` route requires a SigV4 ``Authorization`` header (403 ``Forbidden``
without one) and passes the caller's access key to the function; the signature itself
is not verified locally (the local stack has no IAM). That is listed at start. The caller
is the IAM user named by the access key: ``user/local`` for the stack's own key
(``testing``), ``user/<access key id>`` for any other, so two keys are two principals
(``GET /uploads/{id}`` answers only the principal that presigned).

A ``JWT`` route (a Cognito authoriser, ``AuthMode=COGNITO``) verifies the token as API
Gateway does (`scalper.local.jwt_auth`): signature against the pool's JWKS, issuer,
audience or client id, expiry; ``401 {"message": "Unauthorized"}`` with a
``www-authenticate`` header otherwise, and ``requestContext.authorizer.jwt`` (claims,
scopes) for the function.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from scalper.local._http import BackgroundHTTPServer
from scalper.local.jwt_auth import JwksCache, JwtRejected, verify
from scalper.local.lambda_endpoint import LambdaEndpoint
from scalper.local.provision import LOCAL_ACCESS_KEY, Route

_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/x-www-form-urlencoded",
    "application/javascript",
)
_SIGV4 = re.compile(r"AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/,\s]+)/")


@dataclass(frozen=True)
class _Request:
    """What the function's event is made of, besides the route."""

    method: str
    raw_path: str
    query: str
    headers: dict[str, str]
    body: bytes
    source_ip: str


@dataclass(frozen=True)
class _CompiledRoute:
    route: Route
    pattern: re.Pattern[str]

    @property
    def route_key(self) -> str:
        return f"{self.route.method} {self.route.path}"


def _compile(route: Route) -> _CompiledRoute:
    if route.path == "/$default":
        return _CompiledRoute(route, re.compile(r"^(?P<proxy>.*)$"))
    parts = []
    for segment in route.path.strip("/").split("/"):
        if segment.startswith("{") and segment.endswith("+}"):
            parts.append(f"(?P<{segment[1:-2]}>.+)")
        elif segment.startswith("{") and segment.endswith("}"):
            parts.append(f"(?P<{segment[1:-1]}>[^/]+)")
        else:
            parts.append(re.escape(segment))
    return _CompiledRoute(route, re.compile("^/" + "/".join(parts) + "/?$"))


class HttpApi:
    """Serves one HTTP API of the template (the one the routes name)."""

    def __init__(self, *, account_id: str, host: str = "127.0.0.1", port: int = 0) -> None:
        # The port is bound first (the API URL is a template attribute the provisioner
        # needs); `configure` gives the routes once the functions exist.
        self.routes: list[_CompiledRoute] = []
        self.lambdas: LambdaEndpoint | None = None
        self.api_id = "none"
        self.account_id = account_id
        self.jwks = JwksCache()
        self.stage = "$default"
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers: dict[str, str] = {}
                for name, value in self.headers.items():
                    key = name.lower()
                    headers[key] = f"{headers[key]},{value}" if key in headers else value
                try:
                    status, out_headers, payload = api.handle(
                        self.command, self.path, headers, body, self.client_address[0]
                    )
                except Exception:  # API Gateway answers, whatever broke behind it
                    status, out_headers, payload = _json(500, {"message": "Internal Server Error"})
                self.send_response(status)
                for name, value in out_headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def do_PUT(self) -> None:
                self._serve()

            def do_DELETE(self) -> None:
                self._serve()

            def do_PATCH(self) -> None:
                self._serve()

            def do_HEAD(self) -> None:
                self._serve()

            def do_OPTIONS(self) -> None:
                self._serve()

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: requests are visible in the function logs."""

        self._server = BackgroundHTTPServer(host, port, Handler, "http api", "--api-port")

    def configure(
        self, routes: list[Route], lambdas: LambdaEndpoint, *, api_id: str, stage: str
    ) -> None:
        """Serve ``routes`` through ``lambdas``."""
        compiled = [_compile(r) for r in routes]
        # Literal paths win over parameters, as in API Gateway; $default comes last.
        compiled.sort(
            key=lambda c: (c.route.path == "/$default", "{" in c.route.path, -len(c.route.path))
        )
        self.routes, self.lambdas, self.api_id, self.stage = compiled, lambdas, api_id, stage

    @property
    def url(self) -> str:
        """The API's base URL (with the stage when it is not ``$default``)."""
        base = self._server.url
        return base + "/" if self.stage == "$default" else f"{base}/{self.stage}/"

    def start(self) -> None:
        """Serve in the background."""
        self._server.start()

    def stop(self) -> None:
        """Stop serving."""
        self._server.stop()

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Answer one request: (status, headers, body)."""
        if self.lambdas is None:
            return _json(503, {"message": "Service Unavailable"})
        split = urlsplit(target)
        found = self._route(method, split.path)
        if found is None:
            return _json(404, {"message": "Not Found"})
        chosen, match = found
        authorizer = self._authorize(chosen.route, headers)
        if isinstance(authorizer, tuple):
            return authorizer  # refused: API Gateway's answer, the function never runs
        request = _Request(method, split.path, split.query, headers, body, source_ip)
        event = self._event(chosen, request, match, authorizer)
        result = self.lambdas.invoke(chosen.route.function, event)
        if result.function_error is not None:
            return _json(500, {"message": "Internal Server Error"})
        return _response(result.payload)

    def _route(self, method: str, raw_path: str) -> tuple[_CompiledRoute, re.Match[str]] | None:
        """The first route of the stage that ``method`` and the path match."""
        path = raw_path
        if self.stage != "$default":
            prefix = f"/{self.stage}"
            if not (path == prefix or path.startswith(prefix + "/")):
                return None
            path = path[len(prefix) :] or "/"
        for compiled in self.routes:
            if compiled.route.method not in ("ANY", method):
                continue
            match = compiled.pattern.match(path)
            if match is not None:
                return compiled, match
        return None

    def _authorize(
        self, route: Route, headers: dict[str, str]
    ) -> dict[str, Any] | tuple[int, list[tuple[str, str]], bytes] | None:
        """The event's ``requestContext.authorizer`` (None for an open route), or the
        response refusing the request."""
        if route.auth == "JWT":
            if route.authorizer is None:  # pragma: no cover - provision sets both
                return _json(500, {"message": "Internal Server Error"})
            try:
                jwt = verify(route.authorizer, headers, keys=self.jwks, scopes=route.scopes)
            except JwtRejected as refused:
                status, out, payload = _json(
                    refused.status,
                    {"message": "Unauthorized" if refused.status == 401 else "Forbidden"},
                )
                return status, [*out, ("www-authenticate", refused.www_authenticate)], payload
            return {"jwt": jwt}
        if route.auth == "AWS_IAM":
            signed = _SIGV4.match(headers.get("authorization", ""))
            if signed is None:
                return _json(403, {"message": "Forbidden"})
            key = signed.group("key")
            return {
                "iam": {
                    "accessKey": key,
                    "accountId": self.account_id,
                    "callerId": key,
                    "cognitoIdentity": None,
                    "principalOrgId": None,
                    "userArn": f"arn:aws:iam::{self.account_id}:user/{local_user(key)}",
                    "userId": key,
                }
            }
        return None

    def _event(
        self,
        chosen: _CompiledRoute,
        request: _Request,
        match: re.Match[str],
        authorizer: dict[str, Any] | None,
    ) -> dict[str, Any]:
        method, raw_path, query = request.method, request.raw_path, request.query
        headers, body, source_ip = request.headers, request.body, request.source_ip
        now = time.time()
        content_type = headers.get("content-type", "")
        # A text type whose bytes are not UTF-8 goes base64-encoded too, as API Gateway sends
        # it: the function, not the gateway, answers such a body (400), never a 500.
        text = not body or (content_type.lower().startswith(_TEXT_TYPES) and _is_utf8(body))
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": chosen.route_key if chosen.route.path != "/$default" else "$default",
            "rawPath": raw_path,
            "rawQueryString": query,
            "headers": headers,
            "requestContext": {
                "accountId": self.account_id,
                "apiId": self.api_id,
                "domainName": headers.get("host", "127.0.0.1"),
                "domainPrefix": headers.get("host", "127.0.0.1").split(".")[0],
                "http": {
                    "method": method,
                    "path": raw_path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": source_ip,
                    "userAgent": headers.get("user-agent", ""),
                },
                "requestId": base64.b32encode(uuid.uuid4().bytes[:10]).decode().rstrip("="),
                "routeKey": chosen.route_key if chosen.route.path != "/$default" else "$default",
                "stage": self.stage,
                "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
                "timeEpoch": int(now * 1000),
            },
            "isBase64Encoded": not text,
        }
        if body:
            event["body"] = body.decode("utf-8") if text else base64.b64encode(body).decode()
        if query:
            params: dict[str, str] = {}
            for k, v in parse_qsl(query, keep_blank_values=True):
                params[k] = f"{params[k]},{v}" if k in params else v
            event["queryStringParameters"] = params
        if "cookie" in headers:
            event["cookies"] = [c.strip() for c in headers["cookie"].split(";")]
        path_params = {k: v for k, v in match.groupdict().items() if v is not None}
        if path_params and chosen.route.path != "/$default":
            event["pathParameters"] = path_params
        if authorizer is not None:
            event["requestContext"]["authorizer"] = authorizer
        return event


def local_user(access_key: str) -> str:
    """The local IAM user name of a SigV4 access key (no IAM: the key names the caller)."""
    return "local" if access_key == LOCAL_ACCESS_KEY else access_key


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _json(status: int, body: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    return status, [("Content-Type", "application/json")], json.dumps(body).encode()


def _response(payload: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """Map a Lambda result to an HTTP response, as payload format 2.0 does."""
    try:
        result = json.loads(payload)
    except ValueError:
        return _json(500, {"message": "Internal Server Error"})
    if not (isinstance(result, dict) and "statusCode" in result):
        return 200, [("Content-Type", "application/json")], json.dumps(result).encode()
    headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers += [(str(name), str(v)) for v in values]
    headers += [("Set-Cookie", str(c)) for c in result.get("cookies") or []]
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", "application/json"))
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    return int(result["statusCode"]), headers, data
