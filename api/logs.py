"""Structured logs: one JSON object per line, with the request id when there is one."""

from __future__ import annotations

import contextvars
import json
import logging
import time

from .middleware import clip

#: Longest log message kept, in characters.
MSG_LIMIT = 1000
#: The current request's id, set by :class:`api.middleware.RequestLogMiddleware`.
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id",
                                                                         default=None)


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "msg", "request_id"?, ...extra "fields"}`` per record.
    Messages are text only: nothing logs request bodies or image bytes, and a message is cut
    to :data:`MSG_LIMIT` characters (libraries quote whole offending values)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
                 + f".{int(record.msecs):03d}Z",
                 "level": record.levelname, "logger": record.name,
                 "msg": clip(record.getMessage(), MSG_LIMIT)}
        request_id = REQUEST_ID.get()
        if request_id:
            entry["request_id"] = request_id
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str) -> None:
    """Send every logger's records to stderr as JSON lines at ``level``."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # connexion.validators logs every 400 at INFO, quoting the value; Prism logs it once
    for noisy in ("httpx", "httpx2", "connexion.middleware.swagger_ui", "connexion.validators"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
