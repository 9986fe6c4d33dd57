"""POST /extract: the ``extract`` job (:mod:`api.jobs.extract`) → JSON, annotated PNG/zip,
or crops zip."""

from __future__ import annotations

from .common import answer


def extract(body=None, **_form):
    """Find figures, tables and equations (see ``ExtractResult`` in openapi.yaml)."""
    return answer("extract", body)
