"""GET /health, /ready, /models."""

from __future__ import annotations

from .. import __version__
from .common import json_response, state


def health():
    """Liveness: answers without touching any model."""
    return json_response({"status": "ok", "version": __version__})


def ready():
    """Readiness: 200 when every model's files are present, else 503 listing the missing."""
    _, registry = state()
    missing = [n for n in registry.names() if registry.status(n)["status"] == "files missing"]
    return json_response({"ready": not missing, "missing": missing}, 503 if missing else 200)


def models():
    """Every registered model with metadata and status."""
    _, registry = state()
    return json_response({"models": [registry.status(n) for n in registry.names()]})
