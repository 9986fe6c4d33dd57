"""The async job store: every job's record, inputs, chunk replies and result live in Redis,
never in a process's memory, so any API instance answers for any job and a worker may die.

Keys (``{id}``: 32 hex digits):

- ``prism:job:{id}`` hash — the record: ``job``, ``owner``, ``status``
  (queued|started|finished|failed|canceled), ``created_at``/``started_at``/``ended_at``
  (ISO 8601 UTC), ``pages_total``, ``done:{k}`` (pages chunk ``k`` has done), ``chunks``,
  ``options`` (JSON),
  ``accept``, ``callback_url``, ``error`` (problem JSON), ``media_type``, ``filename``.
- ``prism:input:{id}`` — the inputs, stored once (pickled ``[[(filename, bytes)]]``).
- ``prism:chunk:{id}:{k}`` — chunk ``k``'s reply; ``prism:result:{id}`` — the final body.
- ``prism:active`` set — ids queued or running (``PRISM_MAX_QUEUED_JOBS``).

RQ (``rq.Queue`` ``prism``) carries the work: RQ job ``{id}-{k}`` runs
:func:`api.queue.tasks.run_chunk` on chunk ``k``; ``{id}-done`` depends on all of them and
runs :func:`api.queue.tasks.assemble`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pickle
import uuid

from ..problems import NotFound, QueueUnavailable
from ..settings import Settings

QUEUE = "prism"
ACTIVE = "prism:active"
TERMINAL = ("finished", "failed", "canceled")


def record_key(job_id: str) -> str:
    """The record hash of ``job_id``."""
    return f"prism:job:{job_id}"


def input_key(job_id: str) -> str:
    """The stored inputs of ``job_id``."""
    return f"prism:input:{job_id}"


def chunk_key(job_id: str, k: int) -> str:
    """Chunk ``k``'s reply."""
    return f"prism:chunk:{job_id}:{k}"


def result_key(job_id: str) -> str:
    """The final reply body."""
    return f"prism:result:{job_id}"


def embedded_socket(settings: Settings) -> str:
    """The unix socket of the embedded ``redis-server`` (``PRISM_VAR_DIR/redis.sock``)."""
    return os.path.join(settings.var_dir, "redis.sock")


def redis_url(settings: Settings) -> str:
    """``PRISM_REDIS_URL``, or the embedded server's ``unix://`` URL when it is empty."""
    return settings.redis_url or f"unix://{embedded_socket(settings)}"


_CONNECTIONS: dict[str, object] = {}


def connect(settings: Settings):
    """A ``redis.Redis`` client for :func:`redis_url` (one pool per URL and process); a
    command that meets a dropped connection (Redis restarted) is retried on a new one, three
    times with a short backoff."""
    import redis
    from redis.backoff import ExponentialBackoff
    from redis.retry import Retry

    url = redis_url(settings)
    if url not in _CONNECTIONS:
        _CONNECTIONS[url] = redis.Redis.from_url(
            url, socket_connect_timeout=5, health_check_interval=30,
            retry=Retry(ExponentialBackoff(cap=1.0, base=0.1), 3),
            retry_on_error=[redis.ConnectionError, redis.TimeoutError])
    return _CONNECTIONS[url]


def guarded(call, *args, **kwargs):
    """``call(*args)`` with Redis' connection errors turned into a 503 problem."""
    import redis

    try:
        return call(*args, **kwargs)
    except (redis.ConnectionError, redis.TimeoutError):
        raise QueueUnavailable("The job store (Redis) cannot be reached; try again shortly.")


def now() -> str:
    """Now as ISO 8601 UTC with a ``Z``."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def new_id() -> str:
    """A fresh job id."""
    return uuid.uuid4().hex


def load(conn, job_id: str, owner: str | None = None) -> dict[str, str]:
    """The record of ``job_id`` as ``{field: str}``. Raises 404 when it is unknown, expired
    or (with ``owner`` given) belongs to another API key."""
    if not isinstance(job_id, str) or len(job_id) != 32 or not job_id.isalnum():
        raise NotFound(f"No job {str(job_id)[:40]!r}.")
    raw = conn.hgetall(record_key(job_id))
    record = {k.decode(): v.decode() for k, v in raw.items()}
    if not record or (owner is not None and record.get("owner", "") != owner):
        raise NotFound(f"No job {job_id!r}; it may have expired.")
    return record


def store_input(conn, job_id: str, sources: list[list[tuple[str, bytes]]], ttl_s: int) -> None:
    """Keep a job's inputs (``[[(filename, bytes)]]`` per input part) for ``ttl_s``."""
    conn.set(input_key(job_id), pickle.dumps(sources, protocol=5), ex=ttl_s)


def read_input(conn, job_id: str) -> list[list[tuple[str, bytes]]]:
    """A job's inputs (written by :func:`store_input`, read only by Prism's own workers)."""
    data = conn.get(input_key(job_id))
    if data is None:
        raise NotFound(f"The inputs of job {job_id!r} are gone.")
    return pickle.loads(data)  # noqa: S301 - Prism's own data, written by store_input


def cancel_rq(conn, rq_ids) -> None:
    """Cancel the RQ jobs ``rq_ids`` that still exist and have not ended."""
    from rq.exceptions import InvalidJobOperation, NoSuchJobError
    from rq.job import Job as RqJob

    for rq_id in rq_ids:
        try:
            RqJob.fetch(rq_id, connection=conn).cancel()
        except (NoSuchJobError, InvalidJobOperation):
            pass


def problem_dict(exc) -> dict:
    """An RFC 7807 problem body for a :class:`~api.problems.Problem`."""
    body = {"type": "about:blank", "title": exc.title, "status": exc.status,
            "detail": exc.detail}
    if exc.ext:
        body.update(exc.ext)
    return body


def finish(conn, job_id: str, status: str, ttl_s: int, **fields) -> bool:
    """Move a job to terminal ``status`` (unless it is terminal already), set ``ended_at``
    and ``fields``, drop its inputs and chunk replies and let everything expire after
    ``ttl_s``. Returns whether this call ended it."""
    key = record_key(job_id)
    ended = conn.eval(_FINISH, 1, key, status, now(), json.dumps(fields))
    if not ended:
        return False
    chunks = int(conn.hget(key, "chunks") or 0)
    pipe = conn.pipeline()
    pipe.delete(input_key(job_id), *[chunk_key(job_id, k) for k in range(chunks)])
    pipe.srem(ACTIVE, job_id)
    pipe.expire(key, ttl_s)
    pipe.expire(result_key(job_id), ttl_s)
    pipe.execute()
    return True


# Atomically: only a job that is not yet terminal ends, once.
_FINISH = """
local s = redis.call('HGET', KEYS[1], 'status')
if (not s) or s == 'finished' or s == 'failed' or s == 'canceled' then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'ended_at', ARGV[2])
for k, v in pairs(cjson.decode(ARGV[3])) do redis.call('HSET', KEYS[1], k, v) end
return 1
"""

#: Atomically: a queued job becomes started (its first chunk began); returns the status.
START = """
local s = redis.call('HGET', KEYS[1], 'status')
if s == 'queued' then
  redis.call('HSET', KEYS[1], 'status', 'started', 'started_at', ARGV[1])
  return 'started'
end
return s
"""


#: Atomically: chunk field ARGV[1] rises to ARGV[2] pages (never falls: a chunk run again
#: after a retry, or twice at once, counts its pages once and progress only rises); returns
#: the job's status.
PROGRESS = """
local c = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > c then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return redis.call('HGET', KEYS[1], 'status')
"""


def status_dict(record: dict[str, str], job_id: str, position: int | None) -> dict:
    """The ``GET /jobs/{id}`` body of a record (``JobStatus`` in openapi.yaml)."""
    out = {"id": job_id, "job": record["job"], "status": record["status"],
           "progress": {"pages_done": sum(int(v) for f, v in record.items()
                                          if f.startswith("done:")),
                        "pages_total": int(record.get("pages_total", 0))},
           "position": position, "created_at": record.get("created_at"),
           "started_at": record.get("started_at"), "ended_at": record.get("ended_at")}
    if record["status"] == "finished":  # jobs without page progress (stamps, cut) too
        out["progress"]["pages_done"] = out["progress"]["pages_total"]
    if record.get("error"):
        out["error"] = json.loads(record["error"])
    return out
