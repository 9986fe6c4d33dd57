"""POST /generate-text: the ``generate-text`` job (:mod:`api.jobs.generate_text`) → JSON
caption or the annotated image."""

from __future__ import annotations

from .common import answer


def generate_text(body=None, **_form):
    """Grounded caption (see ``GenerateTextResult`` in openapi.yaml)."""
    return answer("generate-text", body)
