"""POST /generate-text: the ``generate-text`` job (:mod:`api.jobs.generate_text`) → JSON
caption or the annotated image."""

from __future__ import annotations

from .common import json_response, png_response, run_job


def generate_text(body=None, **_form):
    """Grounded caption (see ``GenerateTextResult`` in openapi.yaml)."""
    opts, result, timer = run_job("generate-text", body)
    if opts.mode == "annotated":
        return png_response(result.annotated_png())
    return json_response({**result.as_dict(), "timings_ms": timer.as_dict()})
