"""Async jobs on RQ + Redis: ``POST /jobs`` queues any job of :data:`api.jobs.JOBS`, workers
(``python -m api worker``, here or on other machines) run it, long PDFs in page chunks on
several workers at once; status, progress and results live in Redis.

- :mod:`api.queue.store` — keys, records, the Redis connection;
- :mod:`api.queue.client` — submit, status, result, cancel (what the API calls);
- :mod:`api.queue.tasks` — what workers run (chunks, assembly, failure, callback);
- :mod:`api.queue.worker` — the worker process;
- :mod:`api.queue.embedded` — the private ``redis-server`` and workers ``make run`` starts.
"""
