"""Helpers every handler shares: app state, reading the image inputs, running with a deadline."""

from __future__ import annotations

import flask

from ..errors import BadRequest
from ..inputs import Document, decode_base64, fetch_url, load_document
from ..pipelines.base import Deadline, Timings
from ..registry import Registry
from ..settings import Settings


def json_response(obj, status: int = 200):
    """``(body, status, headers)`` with an explicit JSON content type (the spec also declares
    problem+json responses, so Connexion needs to be told which one this is)."""
    return obj, status, {"Content-Type": "application/json"}


def request_timings() -> Timings:
    """A per-request stage timer; the app reports it as a ``Server-Timing`` header and the
    request log line."""
    flask.g.prism_timings = Timings()
    return flask.g.prism_timings


def state() -> tuple[Settings, Registry]:
    """The app's settings and model registry."""
    cfg = flask.current_app.config
    return cfg["PRISM_SETTINGS"], cfg["PRISM_REGISTRY"]


def deadline() -> Deadline:
    """A fresh deadline of ``PRISM_REQUEST_TIMEOUT_S`` for this request."""
    return Deadline(state()[0].request_timeout_s)


def options(body: dict | None) -> dict:
    """Options from the JSON body or the multipart form (Connexion has validated and typed
    them); the image fields themselves are removed."""
    if isinstance(body, dict):
        return {k: v for k, v in body.items() if k not in ("file", "image_url", "image_base64")}
    return {}


def read_documents(body: dict | None, *, allow_pdf: bool, multiple: bool = False,
                   pages: str | None = None, dpi: int | None = None) -> list[Document]:
    """Decode the request's image input(s) into documents.

    Exactly one of: multipart ``file`` part(s), JSON ``image_base64``, JSON ``image_url``.
    Raises 400 when none or several are given (see :mod:`api.inputs` for the rest).
    """
    settings, _ = state()
    files = flask.request.files.getlist("file") if flask.request.files else []
    body = body if isinstance(body, dict) else {}
    sources = sum([bool(files), bool(body.get("image_url")), bool(body.get("image_base64"))])
    if sources == 0:
        raise BadRequest("Send the image as a multipart `file` part, or JSON with "
                         "`image_url` or `image_base64`.")
    if sources > 1:
        raise BadRequest("Send exactly one of `file`, `image_url`, `image_base64`.")
    if len(files) > 1 and not multiple:
        raise BadRequest("This endpoint takes one `file` part.")
    if files:
        raw = [(f.filename or "upload", f.read()) for f in files]
    elif body.get("image_base64"):
        raw = [("image", decode_base64(body["image_base64"], settings))]
    else:
        raw = [("image", fetch_url(body["image_url"], settings))]
    return [load_document(data, name, settings, allow_pdf=allow_pdf, pages=pages, dpi=dpi)
            for name, data in raw]
