"""ASGI middleware that must run before Connexion parses a request."""

from __future__ import annotations

import json
import re

import numpy as np
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Longest client-supplied value echoed in a problem ``detail`` or a log line (characters).
ECHO_LIMIT = 300


def clip(text: str, limit: int = ECHO_LIMIT) -> str:
    """``text`` cut to ``limit`` characters (with ``…`` and the original length) so a
    megabyte-long field never comes back in an answer or lands in the log whole."""
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} characters)"


_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")


def json_depth(body: bytes) -> int:
    """Deepest nesting of arrays/objects in a JSON text (strings skipped), found with two
    regular expressions and a cumulative sum, before any recursive parser sees the body:
    ``[[1]]`` is 2, a scalar 0. Malformed JSON gives a number too; the parser refuses it."""
    brackets = _NOT_BRACKET.sub(b"", _JSON_STRING.sub(b"", body))
    if not brackets:
        return 0
    codes = np.frombuffer(brackets, np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1)
    return int(np.cumsum(steps).max())


def problem_body(status: int, title: str, detail: str) -> bytes:
    """An RFC 9457 problem+json body (``detail`` clipped), for answers made before the app."""
    return json.dumps({"type": "about:blank", "status": status, "title": title,
                       "detail": clip(detail)}).encode()


def _problem(status: int, title: str, detail: str) -> tuple[dict, bytes]:
    body = problem_body(status, title, detail)
    return ({"type": "http.response.start", "status": status,
             "headers": [(b"content-type", b"application/problem+json"),
                         (b"content-length", str(len(body)).encode())]}, body)


class BodyLimitMiddleware:
    """Refuse a path with a control character with 404, request bodies over ``max_bytes``
    with 413 problem+json, and JSON bodies nested deeper than ``max_json_depth`` with 400 (Python's
    recursive JSON parser and validators
    would hit ``RecursionError``); hand the rest on in one piece.

    A declared ``Content-Length`` over the limit is refused before any byte is read; a
    chunked body is counted as it streams and refused when it passes the limit. A body
    within the limit is read to its end here, on the event loop, and passed to the app as
    a single ``http.request`` message. Under uWSGI each 64 KiB piece would otherwise cross
    threads twice (uWSGI's thread → a2wsgi's loop → the Flask thread Connexion runs the
    handler in): 7 ms of a 300 dpi A4 JPEG upload (720 KB) to /stamps was the Flask
    thread waiting for its next piece (py-spy, 2 cores). Whole bodies are held in memory,
    which the handlers need anyway; ``max_bytes`` bounds it.
    Args: ``app`` the next ASGI app; ``max_bytes`` upload limit plus multipart overhead;
    ``max_json_depth`` deepest array/object nesting accepted in a JSON body.
    """

    OVERHEAD = 64 * 1024  # multipart boundaries and option fields

    def __init__(self, app: ASGIApp, max_bytes: int, max_json_depth: int):
        self.app = app
        self.max_bytes = max_bytes + self.OVERHEAD
        self.max_json_depth = max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in scope.get("path", "")):
            # Connexion's router matched /jobs/a%0Ab but Flask's did not: a 500. No route
            # of Prism has a control character in it.
            start, body = _problem(404, "Not Found", "No such resource.")
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        detail = f"The request body is over the {self.max_bytes - self.OVERHEAD}-byte limit."
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(send, 413, "Payload Too Large", detail)
            return
        chunks, seen = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away mid-upload
                return
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > self.max_bytes:
                await self._refuse(send, 413, "Payload Too Large", detail)
                return
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        chunks.clear()
        if (b"json" in headers.get(b"content-type", b"").lower()
                and json_depth(body) > self.max_json_depth):
            await self._refuse(send, 400, "Bad Request",
                               f"The JSON body is nested deeper than {self.max_json_depth} "
                               "levels.")
            return
        pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]
        del body

        async def whole_body() -> Message:
            return pending.pop() if pending else await receive()

        await self.app(scope, whole_body, send)

    @staticmethod
    async def _refuse(send: Send, status: int, title: str, detail: str) -> None:
        start, body = _problem(status, title, detail)
        await send(start)
        await send({"type": "http.response.body", "body": body})


OPEN_PATHS = ("/health", "/ready", "/openapi.json", "/favicon.ico")
OPEN_PREFIXES = ("/ui", "/static/")


class ApiKeyMiddleware:
    """Require ``X-API-Key`` to be one of ``keys`` (the spec's ``ApiKey`` scheme), except on
    the probes, the page, its static files and the API docs. 401 problem+json otherwise.
    Keys are compared in constant time."""

    def __init__(self, app: ASGIApp, keys: list[str]):
        self.app = app
        self.keys = [k.encode() for k in keys if k]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        import hmac

        path = scope.get("path", "")
        if (scope["type"] != "http" or not self.keys or path == "/" or path in OPEN_PATHS
                or path.startswith(OPEN_PREFIXES)):
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-api-key", b"")
        if any(hmac.compare_digest(given, key) for key in self.keys):
            await self.app(scope, receive, send)
            return
        start, body = _problem(401, "Unauthorized", "Send a valid API key in the X-API-Key header.")
        start["headers"].append((b"www-authenticate", b'APIKey header="X-API-Key"'))
        await send(start)
        await send({"type": "http.response.body", "body": body})


class RequestLogMiddleware:
    """Give each request an id (``X-Request-ID`` in or a new one), echo it in the response
    and log one JSON line: method, path, status, total ms and the per-stage ``Server-Timing``."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        import logging
        import time
        import uuid

        from .logs import REQUEST_ID

        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not scope.get("path"):
            # `GET  HTTP/1.0` (no path) was redirected to http://<this machine's name>/
            scope = {**scope, "path": "/", "raw_path": b"/"}
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = given[:64] if given.replace("-", "").isalnum() else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        started, status, timing = time.perf_counter(), 500, ""

        async def tagged_send(message: Message) -> None:
            nonlocal status, timing
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers") or [])
                timing = dict(headers).get(b"server-timing", b"").decode("latin-1")
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, tagged_send)
        finally:
            stages = parse_server_timing(timing)
            path = clip(scope.get("path", ""))
            logging.getLogger("prism.request").info(
                "%s %s %s", scope.get("method"), path, status,
                extra={"fields": {"method": scope.get("method"), "path": path,
                                  "status": status, "request_id": request_id,
                                  "ms": round((time.perf_counter() - started) * 1000, 1),
                                  "stages_ms": stages}})
            REQUEST_ID.reset(token)


def parse_server_timing(header: str) -> dict[str, float]:
    """Stage → milliseconds from a ``Server-Timing`` header as the app writes it
    (``"decode;dur=32.9, detect;dur=36.1, total;dur=89.6"``); entries without ``dur`` are
    skipped."""
    stages = {}
    for item in header.split(","):
        name, _, dur = item.strip().partition(";dur=")
        if dur:
            stages[name] = float(dur)
    return stages
