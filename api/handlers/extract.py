"""POST /extract: the ``extract`` job (:mod:`api.jobs.extract`) → JSON, annotated PNG/zip,
or crops zip."""

from __future__ import annotations

import flask

from ..jobs.extract import zip_bytes
from .common import json_response, png_response, run_job


def _zip_response(data: bytes, name: str):
    return flask.Response(data, mimetype="application/zip",
                          headers={"Content-Disposition": f'attachment; filename="{name}"'})


def extract(body=None, **_form):
    """Find figures, tables and equations (see ``ExtractResult`` in openapi.yaml)."""
    opts, result, timer = run_job("extract", body)
    if opts.mode == "annotated":
        images = result.annotated()
        if len(images) == 1:
            return png_response(images[0][1])
        return _zip_response(zip_bytes(images), "annotated.zip")
    if opts.mode == "zip":
        return _zip_response(result.crops_zip(), "extract.zip")
    return json_response({**result.as_dict(), "timings_ms": timer.as_dict()})
