"""GET /health, /ready, /models."""

from __future__ import annotations

import os

from .. import __version__
from .common import json_response, state


def health():
    """Liveness: answers without touching any model."""
    return json_response({"status": "ok", "version": __version__, "pid": os.getpid()})


def ready():
    """Readiness: 200 when every model installed by ``make models`` has its files, else 503.
    Models installed by a separate step (Kosmos-2's snapshot) are listed as
    ``optional_missing`` without failing readiness: the other endpoints work without them."""
    _, registry = state()
    missing, optional = [], []
    for name in registry.names():
        if registry.status(name)["status"] == "files missing":
            (optional if registry.spec(name).folder_files else missing).append(name)
    return json_response({"ready": not missing, "missing": missing,
                          "optional_missing": optional}, 503 if missing else 200)


#: The settings a client needs to plan a request (sizes in bytes, times in seconds).
LIMITS = ("max_upload_bytes", "max_pdf_pages", "max_job_pages", "job_chunk_pages",
          "default_dpi", "max_dpi", "request_timeout_s")


def capabilities():
    """Every job with its route, inputs, models and options (:data:`api.jobs.JOBS`), and the
    request ``limits`` (:data:`LIMITS`) of this deployment."""
    from ..jobs import JOBS

    settings, _ = state()
    return json_response({"jobs": [job.describe() for job in JOBS.values()],
                          "limits": {k: getattr(settings, k) for k in LIMITS}})


def models():
    """Every registered model with metadata and status."""
    _, registry = state()
    return json_response({"models": [registry.status(n) for n in registry.names()]})
