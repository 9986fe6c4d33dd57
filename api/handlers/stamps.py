"""POST /stamps, /stamps/embed, /stamps/compare: parse → stamps pipeline → JSON or PNG."""

from __future__ import annotations

import flask

from ..engines.stampdet import MIN_SCORE
from ..inputs import load_document
from ..pipelines.stamps import MATCH_THRESHOLD, VERIFY_TEXT, StampsPipeline, remove_stamps
from ..vision import draw_boxes, encode_png
from .common import (deadline, json_response, options, read_documents, read_sources,
                     request_timings, state)


def _pages(body, opts):
    docs = read_documents(body, allow_pdf=True, pages=opts.get("pages"), dpi=opts.get("dpi"))
    return docs[0].pages


def stamps(body=None, **_form):
    """Detect stamps, optionally with embeddings, ink masks and their cosine similarity
    matrix; or the first page annotated, or with the stamps' ink removed."""
    opts = options(body)
    timer, limit = request_timings(), deadline()
    with timer.stage("decode"):
        pages = _pages(body, opts)
    _, registry = state()
    mode = opts.get("mode", "json")
    image_mode = mode in ("annotated", "removed")
    result = StampsPipeline(registry)(
        pages[:1] if image_mode else pages, min_score=float(opts.get("min_score", MIN_SCORE)),
        embed=not image_mode, verify=bool(opts.get("verify_text", VERIFY_TEXT)),
        refine=bool(opts.get("refine", True)) or mode == "removed", timings=timer,
        deadline=limit)
    if mode == "annotated":
        # Stamp2vec's /image-w-boxes: the (first) page with numbered boxes
        labels = [f"{i + 1}: {s.score:.2f}" for i, s in enumerate(result.stamps)]
        image = draw_boxes(pages[0].image, [s.box for s in result.stamps], labels)
        return flask.Response(encode_png(image), mimetype="image/png")
    if mode == "removed":
        with timer.stage("remove"):
            image = remove_stamps(pages[0].image, result.stamps)
        return flask.Response(encode_png(image), mimetype="image/png")
    return json_response({**result.as_dict(bool(opts.get("embeddings")), bool(opts.get("mask"))),
                          "timings_ms": timer.as_dict()})


def embed(body=None, **_form):
    """Embedding of one cropped stamp (Stamp2vec's /embeddings-from-cropped)."""
    timer = request_timings()
    with timer.stage("decode"):
        image = read_documents(body, allow_pdf=False)[0].pages[0].image
    _, registry = state()
    with timer.stage("embed"):
        vector = StampsPipeline(registry).embed([image])[0]
    return json_response({"embedding": [round(float(v), 6) for v in vector],
                          "dim": int(vector.shape[0]), "model": "stamp-embed",
                          "timings_ms": timer.as_dict()})


def _reference(body):
    """The reference stamp crop (RGB): multipart ``reference``, or JSON ``reference_base64`` /
    ``reference_url``; exactly one."""
    settings, _ = state()
    name, data = read_sources(body, part="reference", base64_key="reference_base64",
                              url_key="reference_url")[0]
    return load_document(data, name, settings, allow_pdf=False).pages[0].image


def compare(body=None, **_form):
    """Does this document carry the reference stamp? Each stamp's cosine similarity to it."""
    opts = options(body)
    timer, limit = request_timings(), deadline()
    with timer.stage("decode"):
        pages = _pages(body, opts)
        reference = _reference(body)
    _, registry = state()
    threshold = float(opts.get("threshold", MATCH_THRESHOLD))
    result, sims = StampsPipeline(registry).compare(
        pages, reference, min_score=float(opts.get("min_score", MIN_SCORE)),
        verify=bool(opts.get("verify_text", VERIFY_TEXT)), timings=timer, deadline=limit)
    stamps = [{**s.as_dict(), "similarity": round(float(v), 4)}
              for s, v in zip(result.stamps, sims)]
    best = int(sims.argmax()) if len(sims) else None
    best_sim = None if best is None else round(float(sims[best]), 4)
    return json_response({
        "stamps": stamps, "best": best, "best_similarity": best_sim,
        "match": best_sim is not None and best_sim >= threshold, "threshold": threshold,
        "pages": result.as_dict()["pages"],
        "timings_ms": timer.as_dict(),
    })
