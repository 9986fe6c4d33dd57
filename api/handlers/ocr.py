"""POST /ocr: the ``ocr`` job (:mod:`api.jobs.ocr`) → JSON."""

from __future__ import annotations

from .common import json_response, run_job


def ocr(body=None, **_form):
    """OCR an image or PDF pages (see ``OcrResult`` in openapi.yaml)."""
    _, result, timer = run_job("ocr", body)
    return json_response({**result.as_dict(), "timings_ms": timer.as_dict()})
