"""POST /jobs, GET /jobs/{id}, GET /jobs/{id}/result, DELETE /jobs/{id}: async jobs
(:mod:`api.queue`). ``Prefer: respond-async`` on a job's own endpoint lands in
:func:`enqueue` too."""

from __future__ import annotations

import dataclasses

import flask

from ..jobs import JOBS
from ..problems import BadRequest
from ..queue import client
from .common import job_sources, json_response, options, reply_response, state


def _owner() -> str:
    """The caller's owner tag: its API key's, when keys are configured."""
    settings, _ = state()
    return client.owner_of(flask.request.headers.get("X-API-Key")) if settings.api_keys else ""


def enqueue(name: str, body: dict | None):
    """Queue job ``name`` on this request's inputs and options → 202 with ``Location``."""
    settings, _ = state()
    if name not in JOBS:
        raise BadRequest(f"job must be one of {', '.join(JOBS)}.")
    job = JOBS[name]
    body = body if isinstance(body, dict) else {}
    sources = job_sources(job, body)
    fields = {f.name for f in dataclasses.fields(job.options)}
    values = {k: v for k, v in options(body).items() if k in fields}
    status = client.submit(settings, name, values, sources, owner=_owner(),
                           accept=flask.request.headers.get("Accept", ""),
                           callback_url=body.get("callback_url") or None)
    return status, 202, {"Content-Type": "application/json",
                         "Location": f"/jobs/{status['id']}"}


def create(body=None, **_form):
    """POST /jobs: ``job`` names the job; the other fields are the job endpoint's own."""
    body = body if isinstance(body, dict) else {}
    return enqueue(str(body.get("job", "")), body)


def get(job_id: str, wait: float | None = None):
    """GET /jobs/{id}: status and progress; ``wait`` long-polls up to that many seconds."""
    settings, _ = state()
    return json_response(client.status(settings, job_id, _owner(), wait or 0.0))


def result(job_id: str):
    """GET /jobs/{id}/result: the body the synchronous endpoint would have sent."""
    settings, _ = state()
    return reply_response(client.result(settings, job_id, _owner()))


def cancel(job_id: str):
    """DELETE /jobs/{id}: cancel; returns the status."""
    settings, _ = state()
    return json_response(client.cancel(settings, job_id, _owner()))
