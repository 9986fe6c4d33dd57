"""WSGI entry point for uWSGI: ``module = api.wsgi:application``.

Connexion 3 is ASGI; ``a2wsgi.ASGIMiddleware`` runs it under uWSGI. It starts an event-loop
thread when created, so uWSGI must run with ``lazy-apps = true`` (one per worker, after fork).
Each worker also returns freed heap to the OS between requests (:mod:`api.worker`).
In front of it, :class:`BodyEdge` reads each request body once (uWSGI's post-buffering is
off, so nothing is spooled to disk) and answers an oversized one 413 itself.
"""

from __future__ import annotations

import io
import time

from a2wsgi import ASGIMiddleware

from .app import create_app
from .middleware import BodyLimitMiddleware, problem_body
from .settings import Settings
from .worker import install_hooks


class BodyEdge:
    """The WSGI edge of a body: a declared ``Content-Length`` within ``max_bytes`` is read
    from the socket in one piece and handed on in memory (what uWSGI's post-buffering did,
    without its disk spool); one over ``max_bytes`` is read and discarded in 1 MiB pieces,
    for at most ``drain_s`` seconds, then answered 413 problem+json with ``Connection:
    close`` — a client whose upload is refused halfway otherwise sees a reset instead of
    the answer. Bodies without a length (chunked) go on to :class:`BodyLimitMiddleware`,
    which counts them as they stream. Memory held: at most ``max_bytes`` per request.
    """

    CHUNK = 1 << 20

    def __init__(self, app, max_bytes: int, drain_s: float):
        self.app, self.max_bytes, self.drain_s = app, max_bytes, drain_s

    def __call__(self, environ: dict, start_response):
        length = str(environ.get("CONTENT_LENGTH") or "")
        if not length.isdigit() or int(length) == 0:
            return self.app(environ, start_response)
        size, stream = int(length), environ["wsgi.input"]
        if size <= self.max_bytes:
            environ["wsgi.input"] = io.BytesIO(stream.read(size))
            return self.app(environ, start_response)
        self._drain(stream, size)
        body = problem_body(413, "Payload Too Large", f"The request body is {size} bytes; the "
                            f"limit is {self.max_bytes - BodyLimitMiddleware.OVERHEAD}.")
        start_response("413 Payload Too Large", [
            ("Content-Type", "application/problem+json"), ("Content-Length", str(len(body))),
            ("Connection", "close")])
        return [body]

    def _drain(self, stream, size: int) -> None:
        end = time.monotonic() + self.drain_s
        left = size
        while left > 0 and time.monotonic() < end:
            try:
                piece = stream.read(min(self.CHUNK, left))
            except OSError:  # the client went away
                return
            if not piece:
                return
            left -= len(piece)


_settings = Settings.from_env()
# before the models load, so they load under its malloc tuning
install_hooks(_settings.malloc_trim, _settings.trim_slack_mb)
application = BodyEdge(ASGIMiddleware(create_app(_settings)),
                       _settings.max_upload_bytes + BodyLimitMiddleware.OVERHEAD,
                       _settings.request_timeout_s)
