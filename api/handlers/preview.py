"""POST /preview: one page of an image or PDF, as the jobs see it, as a PNG."""

from __future__ import annotations

import flask

from ..inputs import load_document
from ..problems import BadRequest
from ..vision import encode_png, fit_within
from .common import read_sources, state


def preview(body: dict | None):
    """Render page ``page`` (1-based) of the uploaded PDF at ``dpi`` (the jobs' default and
    limits) or decode the uploaded image, scale it to ``max_side`` pixels at most (area
    interpolation) and answer it as PNG; ``X-Page-Width``/``X-Page-Height`` give the page's
    full size in pixels, the frame of every job's boxes, and ``X-Page-Count`` the pages of
    the document (1 for an image). 400 for a page past the end, and the input errors (413,
    415, 422) of every job."""
    settings, _ = state()
    body = body if isinstance(body, dict) else {}
    page, dpi = int(body.get("page") or 1), body.get("dpi")
    max_side = int(body.get("max_side") or 1600)
    (name, data), = read_sources(body)
    doc = load_document(data, name, settings, allow_pdf=True, pages=str(page),
                        dpi=int(dpi) if dpi else None)
    if doc.kind != "pdf" and page != 1:
        raise BadRequest(f"page={page}: an image has one page.")
    image = doc.pages[0].image
    h, w = image.shape[:2]
    return flask.Response(encode_png(fit_within(image, max_side)), mimetype="image/png",
                          headers={"X-Page-Width": str(w), "X-Page-Height": str(h),
                                   "X-Page-Count": str(doc.pages[0].page_count),
                                   "Cache-Control": "no-store"})
