"""RFC 7807 problem+json errors at the web edge.

Pipelines and input code raise :mod:`api.problems` errors (re-exported here); the app turns
them, Connexion's validation errors and anything unexpected into ``application/problem+json``
with ``status``, ``title`` and ``detail`` only — never a stack trace, a path or a version.
"""

from __future__ import annotations

import logging

from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionResponse
from connexion.problem import problem

from .middleware import clip
from .problems import (  # noqa: F401
    BadRequest,
    GatewayTimeout,
    ModelUnavailable,
    PayloadTooLarge,
    Problem,
    Unprocessable,
    UnsupportedMediaType,
)
from .worker import recycle_worker

log = logging.getLogger("prism.errors")


_SAFE_TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
                405: "Method Not Allowed", 406: "Not Acceptable", 413: "Payload Too Large",
                415: "Unsupported Media Type", 422: "Unprocessable Entity"}


def problem_handler(_request, exc: ProblemException | Problem) -> ConnexionResponse:
    """Render any Connexion/Prism problem as problem+json (4xx logged as warnings)."""
    status = int(getattr(exc, "status", 500) or 500)
    if status >= 500 and not isinstance(exc, Problem):
        log.error("unhandled problem %r", exc)
        return problem(status=500, title="Internal Server Error",
                       detail="The server failed to handle this request.")
    # validation messages quote the offending value: a 5 MB field must not come back whole
    detail = clip(exc.detail) if exc.detail is not None else None
    (log.warning if status < 500 else log.error)("%s %s: %s", status, exc.title, detail)
    if isinstance(exc, GatewayTimeout) and recycle_worker():
        log.warning("recycling this worker after its request ran past the deadline")
    return problem(status=status, title=exc.title or _SAFE_TITLES.get(status, "Error"),
                   detail=detail, ext=getattr(exc, "ext", None), headers=exc.headers)


def http_handler(_request, exc) -> ConnexionResponse:
    """Render Starlette/Werkzeug HTTP errors (404, 405, …) as problem+json."""
    status = int(getattr(exc, "status_code", None) or getattr(exc, "code", 500))
    title = _SAFE_TITLES.get(status, "Error")
    detail = getattr(exc, "detail", None) or getattr(exc, "description", None) or title
    if status >= 500:
        log.error("http error %r", exc)
        return problem(status=500, title="Internal Server Error",
                       detail="The server failed to handle this request.")
    # keep headers such as Allow on 405
    return problem(status=status, title=title, detail=clip(str(detail)),
                   headers=getattr(exc, "headers", None))


def unexpected_handler(_request, exc: Exception) -> ConnexionResponse:
    """Last resort: log the trace server-side, tell the client nothing internal."""
    log.error("unexpected error", exc_info=exc)
    return problem(status=500, title="Internal Server Error",
                   detail="The server failed to handle this request.")


def bad_body_handler(_request, exc: Exception) -> ConnexionResponse:
    """A body Connexion's validators cannot even parse — JSON that is not UTF-8
    (``UnicodeDecodeError``) or broken multipart (Starlette's ``MultiPartException``): 400."""
    log.warning("400 unparseable body: %s", type(exc).__name__)
    detail = ("The request body is not valid UTF-8 JSON." if isinstance(exc, UnicodeDecodeError)
              else "The request body is not valid multipart/form-data.")
    return problem(status=400, title="Bad Request", detail=detail)
