"""ASGI middleware that must run before Connexion parses a request."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _problem(status: int, title: str, detail: str) -> tuple[dict, bytes]:
    body = json.dumps({"type": "about:blank", "status": status, "title": title,
                       "detail": detail}).encode()
    return ({"type": "http.response.start", "status": status,
             "headers": [(b"content-type", b"application/problem+json"),
                         (b"content-length", str(len(body)).encode())]}, body)


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with 413 problem+json.

    A declared ``Content-Length`` over the limit is refused before any byte is read; a
    chunked body is counted as it streams and refused when it passes the limit.
    Args: ``app`` the next ASGI app; ``max_bytes`` upload limit plus multipart overhead.
    """

    OVERHEAD = 64 * 1024  # multipart boundaries and option fields

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes + self.OVERHEAD

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        detail = f"The request body is over the {self.max_bytes - self.OVERHEAD}-byte limit."
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            start, body = _problem(413, "Payload Too Large", detail)
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        seen = 0

        class _TooLarge(Exception):
            pass

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge()
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                start, body = _problem(413, "Payload Too Large", detail)
                await send(start)
                await send({"type": "http.response.body", "body": body})
