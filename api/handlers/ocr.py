"""POST /ocr: parse → OCR pipeline per page → JSON."""

from __future__ import annotations

from ..pipelines.ocr import OcrPipeline
from .common import deadline, json_response, options, read_documents, request_timings, state


def ocr(body=None, **_form):
    """OCR an image or PDF pages (see ``OcrResult`` in openapi.yaml)."""
    opts = options(body)
    timer, limit = request_timings(), deadline()
    with timer.stage("decode"):
        doc = read_documents(body, allow_pdf=True, pages=opts.get("pages"),
                             dpi=opts.get("dpi"))[0]
    _, registry = state()
    pipeline = OcrPipeline(registry)
    pages = []
    for page in doc.pages:
        limit.check()
        result = pipeline(page.image, page=page.page, lang=opts.get("lang", "auto"),
                          min_score=float(opts.get("min_score", 0.5)), timings=timer,
                          deadline=limit)
        pages.append({**result.as_dict(), "dpi": page.dpi})
    return json_response({"filename": doc.filename, "pages": pages,
                          "timings_ms": timer.as_dict()})
