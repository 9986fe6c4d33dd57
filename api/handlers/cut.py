"""POST /cut: parse → detect + matte → transparent PNG (base64 JSON, or the PNG itself)."""

from __future__ import annotations

import base64

import flask

from ..pipelines.cut import CutPipeline, compose
from ..vision import encode_png
from .common import deadline, json_response, options, read_documents, request_timings, state


def cut(body=None, **_form):
    """Cut named COCO objects out of a photo (ObjectCut's request format)."""
    opts = options(body)
    objects = opts.get("objects")
    if isinstance(objects, str):
        objects = objects.split(",")
    timer, limit = request_timings(), deadline()
    with timer.stage("decode"):
        image = read_documents(body, allow_pdf=False)[0].pages[0].image
    _, registry = state()
    result = CutPipeline(registry)(image, objects or [], min_score=float(opts.get("min_score", 0.25)),
                                   timings=timer, deadline=limit)
    with timer.stage("encode"):
        png = encode_png(compose(image, result, white_bg=bool(opts.get("return_white_bg")),
                                 crop=bool(opts.get("crop")), max_side=opts.get("max_side")))
    wants_png = opts.get("format") == "png" or (
        flask.request.accept_mimetypes.best_match(["application/json", "image/png"])
        == "image/png" and "application/json" not in flask.request.headers.get("Accept", ""))
    if wants_png:
        return flask.Response(png, mimetype="image/png")
    h, w = image.shape[:2]
    return json_response({"image_base64": base64.b64encode(png).decode(),
                          "objects": [o.as_dict() for o in result.objects],
                          "width": w, "height": h, "timings_ms": timer.as_dict()})
