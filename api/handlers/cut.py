"""POST /cut: the ``cut`` job (:mod:`api.jobs.cut`) → transparent PNG (base64 JSON, or the
PNG itself)."""

from __future__ import annotations

import flask

from .common import json_response, png_response, run_job


def cut(body=None, **_form):
    """Cut named COCO objects out of a photo (ObjectCut's request format)."""
    opts, result, timer = run_job("cut", body)
    wants_png = opts.format == "png" or (
        flask.request.accept_mimetypes.best_match(["application/json", "image/png"])
        == "image/png" and "application/json" not in flask.request.headers.get("Accept", ""))
    with timer.stage("encode"):
        if wants_png:
            return png_response(result.png())
        body = result.as_dict(with_png=True)
    return json_response({**body, "timings_ms": timer.as_dict()})
