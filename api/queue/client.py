"""What the API does with async jobs: submit, poll, fetch the result, cancel. Framework-free
(the HTTP adapter is :mod:`api.handlers.jobs`); all state is in Redis (:mod:`api.queue.store`).
"""

from __future__ import annotations

import json
import time

from ..jobs import JOBS, parse_options
from ..jobs.base import Reply
from ..problems import BadRequest, Conflict, PayloadTooLarge, TooManyRequests
from ..settings import Settings
from . import store


def owner_of(api_key: str | None) -> str:
    """The owner tag of a job created with ``api_key`` (a SHA-256 prefix; ``""`` without
    keys): a job is visible only to the key that created it."""
    import hashlib

    return hashlib.sha256(api_key.encode()).hexdigest()[:24] if api_key else ""


def pdf_pages(data: bytes, spec: str | None) -> list[int] | None:
    """The 1-based pages of a PDF that ``spec`` selects (all for ``None``), or ``None`` when
    ``data`` is no PDF. Raises the problems of :func:`api.inputs.pdf.open_pdf` and
    :func:`~api.inputs.pdf.parse_pages`."""
    from ..inputs.document import sniff
    from ..inputs.pdf import open_pdf, parse_pages

    if sniff(data) != "pdf":
        return None
    with open_pdf(data) as doc:
        return [i + 1 for i in parse_pages(spec, doc.page_count)]


def plan_chunks(job, options, sources, settings: Settings) -> tuple[list[str | None], int]:
    """Split a job into page chunks: ``([pages spec or None per chunk], pages_total)``.

    A single PDF whose job can merge JSON replies (``Job.merge``, JSON ``mode``) runs as
    chunks of ``PRISM_JOB_CHUNK_PAGES`` pages, up to ``PRISM_MAX_JOB_PAGES`` in all; any
    other input runs as one chunk under the synchronous endpoint's page limits. Raises 413
    past those limits."""
    pages = None
    if job.takes_pdf and len(sources[0]) == 1:
        pages = pdf_pages(sources[0][0][1], getattr(options, "pages", None))
    if pages is None:
        return [None], sum(len(s) for s in sources[:1])
    if len(pages) > settings.max_job_pages:
        raise PayloadTooLarge(f"{len(pages)} pages selected; an async job takes at most "
                              f"{settings.max_job_pages} (PRISM_MAX_JOB_PAGES).")
    splits = job.merge is not None and getattr(options, "mode", "json") == "json"
    if not splits or len(pages) <= settings.job_chunk_pages:
        if len(pages) > settings.max_pdf_pages:
            raise PayloadTooLarge(f"{len(pages)} pages selected; job {job.name!r} in this "
                                  f"mode takes at most {settings.max_pdf_pages} per job.")
        return [getattr(options, "pages", None)], len(pages)
    size = settings.job_chunk_pages
    chunks = [",".join(map(str, pages[i:i + size])) for i in range(0, len(pages), size)]
    return chunks, len(pages)


def submit(settings: Settings, name: str, values: dict, sources: list[list[tuple[str, bytes]]],
           *, owner: str = "", accept: str = "", callback_url: str | None = None) -> dict:
    """Queue job ``name`` with option ``values`` (as the synchronous endpoint takes them)
    on ``sources`` (``[[(filename, bytes)]]`` per input part). Returns the new status
    (``queued``, with ``position``). Raises 400 for bad options or an unknown job, 413 past
    the page limits, 429 when ``PRISM_MAX_QUEUED_JOBS`` jobs are queued or running, 503
    when Redis is down."""
    from rq import Callback, Queue, Retry
    from rq.job import Dependency

    from . import tasks

    if name not in JOBS:
        raise BadRequest(f"job must be one of {', '.join(JOBS)}.")
    job = JOBS[name]
    options = parse_options(job.options, values)
    if callback_url:
        from ..inputs.remote import check_url

        check_url(callback_url, settings)
    chunks, pages_total = plan_chunks(job, options, sources, settings)
    conn = store.connect(settings)
    if store.guarded(conn.scard, store.ACTIVE) >= settings.max_queued_jobs:
        raise TooManyRequests(f"{settings.max_queued_jobs} jobs are queued or running; "
                              "try again later.", ext=None)
    job_id = store.new_id()
    ttl = settings.job_timeout_s * (len(chunks) + 1) + settings.job_result_ttl_s
    queue = Queue(store.QUEUE, connection=conn)
    rq_ids = [f"{job_id}-{k}" for k in range(len(chunks))]

    def enqueue() -> None:
        store.store_input(conn, job_id, sources, ttl)
        pipe = conn.pipeline()
        pipe.hset(store.record_key(job_id), mapping={
            "job": name, "owner": owner, "status": "queued", "created_at": store.now(),
            "pages_total": pages_total, "pages_done": 0, "chunks": len(chunks),
            "options": json.dumps(values), "accept": accept,
            "callback_url": callback_url or ""})
        pipe.expire(store.record_key(job_id), ttl)
        pipe.sadd(store.ACTIVE, job_id)
        pipe.execute()
        kept = dict(result_ttl=settings.job_result_ttl_s, failure_ttl=settings.job_result_ttl_s)
        parts = queue.enqueue_many([
            Queue.prepare_data(tasks.run_chunk, (job_id, k, spec), job_id=rq_ids[k],
                               timeout=settings.job_timeout_s,
                               retry=Retry(max=settings.job_retries),
                               on_failure=Callback(tasks.chunk_failed), **kept)
            for k, spec in enumerate(chunks)])
        # assembled as soon as the last chunk ends, ahead of other jobs' queued chunks
        queue.enqueue(tasks.assemble, job_id, job_id=f"{job_id}-done",
                      depends_on=Dependency(jobs=parts, enqueue_at_front=True),
                      job_timeout=settings.job_timeout_s, **kept)

    store.guarded(enqueue)
    return status(settings, job_id, owner)


def _position(settings: Settings, record: dict, job_id: str) -> int | None:
    """0-based place of the job's first chunk in the queue (``None`` once it runs)."""
    from rq import Queue

    if record["status"] != "queued":
        return None
    queue = Queue(store.QUEUE, connection=store.connect(settings))
    return queue.get_job_position(f"{job_id}-0")


def status(settings: Settings, job_id: str, owner: str = "", wait_s: float = 0.0) -> dict:
    """The job's status (``JobStatus`` in openapi.yaml); with ``wait_s`` > 0 waits up to
    that long (at most ``PRISM_JOB_WAIT_MAX_S``) for it to end. Raises 404 for an unknown,
    expired or another key's job."""
    conn = store.connect(settings)
    deadline = time.monotonic() + min(max(0.0, wait_s), settings.job_wait_max_s)
    while True:
        record = store.guarded(store.load, conn, job_id, owner)
        if record["status"] in store.TERMINAL or time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    return store.status_dict(record, job_id, store.guarded(_position, settings, record, job_id))


def result(settings: Settings, job_id: str, owner: str = "") -> Reply:
    """The finished job's reply: exactly what the synchronous endpoint would have sent.
    Raises 404 (unknown), 409 (not finished; a failed job's problem is in its status)."""
    conn = store.connect(settings)
    record = store.guarded(store.load, conn, job_id, owner)
    if record["status"] != "finished":
        raise Conflict(f"Job {job_id} is {record['status']}; its result exists once it has "
                       "finished (GET /jobs/{id} tells).")
    body = store.guarded(conn.get, store.result_key(job_id))
    if body is None:
        raise Conflict(f"Job {job_id}'s result has expired.")
    media_type = record.get("media_type", "application/json")
    if media_type == "application/json":
        return Reply(json.loads(body))
    return Reply(body, media_type, record.get("filename") or None)


def cancel(settings: Settings, job_id: str, owner: str = "") -> dict:
    """Cancel a queued or running job (a running chunk stops after its current page).
    Returns its status; a job that has ended keeps its status. Raises 404."""
    conn = store.connect(settings)
    record = store.guarded(store.load, conn, job_id, owner)
    if store.guarded(store.finish, conn, job_id, "canceled", settings.job_result_ttl_s):
        store.cancel_rq(conn, [f"{job_id}-{k}"
                               for k in [*range(int(record.get("chunks", 0))), "done"]])
    return status(settings, job_id, owner)
