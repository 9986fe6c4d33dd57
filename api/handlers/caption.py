"""POST /generate-text: parse → Kosmos-2 → JSON caption or the annotated image."""

from __future__ import annotations

import flask

from ..pipelines.caption import DEFAULT_PROMPT, CaptionPipeline
from ..vision import draw_boxes, encode_png
from .common import deadline, json_response, options, read_documents, request_timings, state


def generate_text(body=None, **_form):
    """Grounded caption (see ``CaptionResult`` in openapi.yaml)."""
    opts = options(body)
    settings, registry = state()
    timer = request_timings()
    with timer.stage("decode"):
        image = read_documents(body, allow_pdf=False)[0].pages[0].image
    max_new = min(int(opts.get("max_new_tokens", 64)), settings.max_new_tokens)
    result = CaptionPipeline(registry)(image, prompt=opts.get("prompt") or DEFAULT_PROMPT,
                                       max_new_tokens=max_new, timings=timer, deadline=deadline())
    if opts.get("mode") == "annotated":
        boxes = [b["box"] for e in result.entities for b in e["boxes"]]
        labels = [e["phrase"] for e in result.entities for _ in e["boxes"]]
        return flask.Response(encode_png(draw_boxes(image, boxes, labels)), mimetype="image/png")
    return json_response({**result.as_dict(), "timings_ms": timer.as_dict()})
