"""POST /ocr: the ``ocr`` job (:mod:`api.jobs.ocr`) → JSON."""

from __future__ import annotations

from .common import answer


def ocr(body=None, **_form):
    """OCR an image or PDF pages (see ``OcrResult`` in openapi.yaml)."""
    return answer("ocr", body)
