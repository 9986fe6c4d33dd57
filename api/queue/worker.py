"""``python -m api worker``: an RQ worker for Prism's async jobs, on this machine or any other
with the models installed, against ``PRISM_REDIS_URL`` (or the embedded Redis).

:class:`PrismWorker` is RQ's ``SimpleWorker`` (jobs run in the worker process, so models
loaded for one job stay loaded for the next; RQ's default ``Worker`` forks a work-horse per
job, which would load every model again — Kosmos-2 int8 alone takes ~26 s) plus a heartbeat
thread while a job runs: a SimpleWorker is silent during a job, so a killed worker's chunk
would only be retried after the job timeout. With the thread, a chunk whose worker has been
silent for twice ``PRISM_JOB_HEARTBEAT_S`` is retried by the next worker's maintenance pass.
"""

from __future__ import annotations

import logging
import threading

from rq import Queue, SimpleWorker
from rq.worker import WorkerStatus

from ..settings import Settings
from . import store

log = logging.getLogger("prism.queue")


class PrismWorker(SimpleWorker):
    """RQ ``SimpleWorker`` that keeps beating while a job runs (see the module docstring)."""

    def get_heartbeat_ttl(self, job) -> int:
        """The running job's execution expires after two missed beats."""
        return 2 * int(self.job_monitoring_interval)

    def execute_job(self, job, queue) -> None:
        """Run ``job`` in this process, beating every ``job_monitoring_interval`` seconds."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.job_monitoring_interval):
                try:
                    if self.execution is not None:
                        self.maintain_heartbeats(job)
                except Exception:  # a missed beat must not kill the job
                    log.exception("heartbeat failed")

        self.prepare_execution(job)
        thread = threading.Thread(target=beat, name="rq-heartbeat", daemon=True)
        thread.start()
        try:
            self.perform_job(job, queue)
        finally:
            stop.set()
            thread.join()
        self.set_state(WorkerStatus.IDLE)


def make_worker(settings: Settings, name: str | None = None) -> PrismWorker:
    """A :class:`PrismWorker` on queue ``prism`` of :func:`api.queue.store.redis_url`."""
    conn = store.connect(settings)
    beat = max(1, settings.job_heartbeat_s)
    return PrismWorker([Queue(store.QUEUE, connection=conn)], connection=conn,
                       name=name, job_monitoring_interval=beat,
                       worker_ttl=max(20, 3 * beat), maintenance_interval=max(5, 2 * beat))


def main(argv: list[str] | None = None) -> int:
    """Run a worker until SIGTERM/SIGINT (RQ finishes the running job first)."""
    import argparse

    from . import tasks

    parser = argparse.ArgumentParser(prog="python -m api worker")
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    args = parser.parse_args(argv)
    settings, registry = tasks.worker_state()
    if settings.preload:
        registry.preload(settings.preload)
    logging.basicConfig(level=settings.log_level)
    worker = make_worker(settings)
    log.info("worker %s on %s", worker.name, store.redis_url(settings))
    worker.work(burst=args.burst, logging_level=settings.log_level)
    return 0
