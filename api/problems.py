"""Prism's own errors, meant for the client (no web framework needed: pipelines, inputs,
the registry, jobs and the CLI raise them; :mod:`api.errors` renders them as RFC 7807
problem+json at the web edge). ``detail`` must be safe to show (no paths, no traces)."""

from __future__ import annotations


class Problem(Exception):
    """An error meant for the client. ``detail`` must be safe to show (no paths, no traces)."""

    status = 500
    title = "Internal Server Error"

    def __init__(self, detail: str, *, title: str | None = None, ext: dict | None = None):
        super().__init__(detail)
        self.status = type(self).status
        self.title = title or type(self).title
        self.detail = detail
        self.ext = ext
        self.headers = None

    def __str__(self) -> str:  # pragma: no cover - log readability
        return f"{self.status} {self.title}: {self.detail}"


class BadRequest(Problem):
    """400: a parameter is missing, of the wrong kind or out of range."""
    status, title = 400, "Bad Request"


class NotFound(Problem):
    """404: no such async job (unknown, expired, or another key's)."""
    status, title = 404, "Not Found"


class Conflict(Problem):
    """409: the async job is in a state that has no such answer yet (e.g. its result while
    it runs)."""
    status, title = 409, "Conflict"


class TooManyRequests(Problem):
    """429: the async job queue is full (``PRISM_MAX_QUEUED_JOBS``)."""
    status, title = 429, "Too Many Requests"


class PayloadTooLarge(Problem):
    """413: upload bytes, decoded pixels or PDF pages over the configured limit."""
    status, title = 413, "Payload Too Large"


class UnsupportedMediaType(Problem):
    """415: the bytes are not an image or document type the endpoint takes."""
    status, title = 415, "Unsupported Media Type"


class Unprocessable(Problem):
    """422: the type is right but the content cannot be decoded, or nothing was found."""
    status, title = 422, "Unprocessable Entity"


class ModelUnavailable(Problem):
    """503: a model's files are missing or corrupt; names the model and how to install it."""
    status, title = 503, "Model Unavailable"


class QueueUnavailable(Problem):
    """503: the async job store (Redis) cannot be reached."""
    status, title = 503, "Job Queue Unavailable"


class GatewayTimeout(Problem):
    """504: the request ran past ``PRISM_REQUEST_TIMEOUT_S``. Under uWSGI the worker is
    replaced once this answer is sent (:func:`api.worker.recycle_worker`)."""
    status, title = 504, "Request Timeout"
