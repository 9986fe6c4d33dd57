"""Helpers every handler shares: app state, reading the image inputs, running with a deadline."""

from __future__ import annotations

import flask

from ..inputs import decode_base64, fetch_url
from ..jobs import JOBS, Context, parse_options
from ..jobs.base import Reply, load_inputs
from ..pipelines.base import Deadline, Timings
from ..problems import BadRequest
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
    them); the image fields themselves are removed (an empty optional form field is absent:
    :mod:`api.forms`). :func:`api.jobs.parse_options` checks the rest (NaN and ±Infinity
    included: range checks let them through, and NaN is not JSON)."""
    if not isinstance(body, dict):
        return {}
    return {k: v for k, v in body.items() if k not in ("file", "image_url", "image_base64")}


def read_sources(body: dict | None, *, part: str = "file", base64_key: str = "image_base64",
                 url_key: str = "image_url", multiple: bool = False) -> list[tuple[str, bytes]]:
    """The raw bytes of one input given as exactly one of: multipart ``part`` part(s), JSON
    ``base64_key`` or JSON ``url_key`` (fetched through the URL guard). Returns
    ``[(filename, bytes)]``; raises 400 when none or several are given."""
    settings, _ = state()
    files = flask.request.files.getlist(part) if flask.request.files else []
    body = body if isinstance(body, dict) else {}
    sources = sum([bool(files), bool(body.get(url_key)), bool(body.get(base64_key))])
    if sources == 0:
        raise BadRequest(f"Send the image as a multipart `{part}` part, or JSON with "
                         f"`{url_key}` or `{base64_key}`.")
    if sources > 1:
        raise BadRequest(f"Send exactly one of `{part}`, `{url_key}`, `{base64_key}`.")
    if len(files) > 1 and not multiple:
        raise BadRequest(f"This endpoint takes one `{part}` part.")
    if files:
        return [(f.filename or "upload", f.read()) for f in files]
    if body.get(base64_key):
        return [("image", decode_base64(body[base64_key], settings))]
    return [("image", fetch_url(body[url_key], settings))]


def job_sources(job, body: dict | None) -> list[list[tuple[str, bytes]]]:
    """The raw inputs of ``job`` in this request, one list per input part: ``file`` (several
    when ``job.multiple``), then e.g. ``reference`` (multipart part, or JSON
    ``<input>_base64`` / ``<input>_url``; ``file``'s JSON keys are ``image_*``)."""
    return [read_sources(body, multiple=job.multiple)] + [
        read_sources(body, part=part, base64_key=f"{part}_base64", url_key=f"{part}_url")
        for part in job.inputs[1:]]


def run_job(name: str, body: dict | None):
    """Run job ``name`` (:data:`api.jobs.JOBS`) on this request: options parsed from the
    body, inputs decoded (``file`` part(s), then e.g. ``reference``: multipart part, or JSON
    ``<input>_base64`` / ``<input>_url``; ``file``'s JSON keys are ``image_*``), one shared
    :class:`~api.inputs.Budget`. Returns ``(options, result, timings)``."""
    job = JOBS[name]
    opts = parse_options(job.options, options(body))
    timer, limit = request_timings(), deadline()
    settings, registry = state()
    with timer.stage("decode"):
        docs = load_inputs(job, opts, job_sources(job, body), settings)
    return opts, job.run(docs, opts, Context(registry, settings, timer, limit)), timer


def reply_response(reply: Reply):
    """The Flask response of a job's :class:`~api.jobs.base.Reply`."""
    if isinstance(reply.body, dict):
        return json_response(reply.body)
    headers = {"Content-Disposition": f'attachment; filename="{reply.filename}"'} \
        if reply.filename else None
    return flask.Response(reply.body, mimetype=reply.media_type, headers=headers)


def answer(name: str, body: dict | None):
    """Run job ``name`` on this request and send its reply; with ``Prefer: respond-async``
    the job is queued instead (202, as ``POST /jobs``)."""
    if "respond-async" in flask.request.headers.get("Prefer", "").lower():
        from .jobs import enqueue

        return enqueue(name, body)
    opts, result, timer = run_job(name, body)
    return reply_response(JOBS[name].respond(opts, result, timer,
                                             flask.request.headers.get("Accept", "")))
