"""The functions RQ workers run for async jobs (see :mod:`api.queue.store` for the keys).

Each worker process keeps one model :class:`~api.registry.Registry` (lazy, like a uWSGI
worker's) for every job it runs: :class:`api.queue.worker.PrismWorker` runs jobs in its own
process instead of forking a work-horse per job, which would load every model again.
"""

from __future__ import annotations

import json
import logging
import pickle

from ..jobs import JOBS, Context, parse_options
from ..jobs.base import load_inputs
from ..pipelines.base import Deadline, Timings
from ..problems import Problem
from ..settings import Settings
from . import store

log = logging.getLogger("prism.queue")

_STATE: dict = {}


def worker_state() -> tuple[Settings, object]:
    """This process's settings and model registry (built once, on first use)."""
    if not _STATE:
        from ..engines import ALL_SPECS
        from ..registry import Registry

        settings = Settings.from_env()
        _STATE["settings"], _STATE["registry"] = settings, Registry(ALL_SPECS, settings)
    return _STATE["settings"], _STATE["registry"]


class Canceled(Exception):
    """The job was canceled while this chunk ran."""


def _connection():
    from rq import get_current_job

    return get_current_job().connection


def run_chunk(job_id: str, k: int, pages: str | None) -> None:
    """Run chunk ``k`` of async job ``job_id`` (its ``pages`` spec, ``None``: the options'
    own) and keep its reply under ``prism:chunk:{id}:{k}``. A problem with the input (any
    :class:`~api.problems.Problem`) fails the whole job at once with that problem and the
    chunk's pages; any other error is raised, so RQ retries the chunk."""
    settings, registry = worker_state()
    conn = _connection()
    key = store.record_key(job_id)
    state = conn.eval(store.START, 1, key, store.now())
    state = state.decode() if isinstance(state, bytes) else state
    if state != "started":
        return  # canceled, failed or expired meanwhile
    record = store.load(conn, job_id)
    job = JOBS[record["job"]]
    values = json.loads(record["options"])
    if pages is not None:
        values["pages"] = pages
    done = 0

    def progress(n: int) -> None:  # per chunk, so a retried chunk counts its pages once
        nonlocal done
        done += n
        status = conn.eval(store.PROGRESS, 1, key, f"done:{k}", done)
        if status not in (b"started", "started"):
            raise Canceled(job_id)

    timer = Timings()
    try:
        options = parse_options(job.options, values)
        with timer.stage("decode"):
            docs = load_inputs(job, options, store.read_input(conn, job_id), settings)
        result = job.run(docs, options, Context(registry, settings, timer,
                                                Deadline(settings.job_timeout_s), progress))
        reply = job.respond(options, result, timer, record.get("accept", ""))
    except Canceled:
        return
    except Problem as exc:
        where = f" (pages {pages})" if pages else ""
        problem = store.problem_dict(exc)
        problem["detail"] = f"{exc.detail}{where}"
        if pages:
            problem["pages"] = pages
        if store.finish(conn, job_id, "failed", settings.job_result_ttl_s,
                        error=json.dumps(problem)):
            notify(settings, job_id)
        return
    conn.set(store.chunk_key(job_id, k), pickle.dumps(reply, protocol=5),
             ex=settings.job_timeout_s * 2 + settings.job_result_ttl_s)


def assemble(job_id: str) -> None:
    """Join the chunk replies of ``job_id`` in page order (``Job.merge``), keep the body
    under ``prism:result:{id}``, mark the job finished and send its callback."""
    settings, _ = worker_state()
    conn = _connection()
    record = store.load(conn, job_id)
    if record["status"] in store.TERMINAL:
        return
    job = JOBS[record["job"]]
    chunks = int(record["chunks"])
    replies = [pickle.loads(conn.get(store.chunk_key(job_id, k)))  # noqa: S301 - own data
               for k in range(chunks)]
    if chunks == 1:
        reply = replies[0]
    else:
        options = parse_options(job.options, json.loads(record["options"]))
        reply = type(replies[0])(job.merge(options, [r.body for r in replies]))
    body = json.dumps(reply.body).encode() if isinstance(reply.body, dict) else reply.body
    conn.set(store.result_key(job_id), body, ex=settings.job_result_ttl_s)
    if store.finish(conn, job_id, "finished", settings.job_result_ttl_s,
                    media_type=reply.media_type, filename=reply.filename or ""):
        notify(settings, job_id)


def chunk_failed(job, connection, exc_type, exc_value, traceback) -> None:
    """RQ's failure callback of a chunk: once no retry is left, the async job fails with a
    problem naming the chunk's pages (the cause is logged, not shown)."""
    if job.retries_left:
        return  # RQ runs it again
    settings, _ = worker_state()
    job_id, k, pages = job.args
    log.error("job %s chunk %s failed for good: %s", job_id, k, exc_type.__name__)
    what = f"pages {pages}" if pages else "the job"
    problem = {"type": "about:blank", "title": "Internal Server Error", "status": 500,
               "detail": f"Processing {what} failed after {settings.job_retries + 1} "
                         "attempts."}
    if pages:
        problem["pages"] = pages
    if store.finish(connection, job_id, "failed", settings.job_result_ttl_s,
                    error=json.dumps(problem)):
        store.cancel_rq(connection, [f"{job_id}-done"])  # it would wait for this chunk forever
        notify(settings, job_id, connection)


def notify(settings: Settings, job_id: str, conn=None) -> None:
    """POST the job's final status once to its ``callback_url`` (through the URL guard;
    failures are logged, never retried)."""
    from ..inputs.remote import post_json
    from .client import status

    conn = conn or _connection()
    url = (conn.hget(store.record_key(job_id), "callback_url") or b"").decode()
    if not url:
        return
    try:
        post_json(url, status(settings, job_id, owner=None), settings)
    except Problem as exc:
        log.warning("callback of job %s failed: %s", job_id, exc.detail)
