"""POST /stamps, /stamps/embed, /stamps/compare: the ``stamps``, ``stamps-embed`` and
``stamps-compare`` jobs (:mod:`api.jobs.stamps`) → JSON or PNG."""

from __future__ import annotations

from .common import json_response, png_response, run_job


def stamps(body=None, **_form):
    """Detect stamps, optionally with embeddings, ink masks and their cosine similarity
    matrix; or the first page annotated, or with the stamps' ink removed."""
    opts, result, timer = run_job("stamps", body)
    if opts.mode == "annotated":
        return png_response(result.annotated_png())
    if opts.mode == "removed":
        with timer.stage("remove"):
            return png_response(result.removed_png())
    return json_response({**result.as_dict(), "timings_ms": timer.as_dict()})


def embed(body=None, **_form):
    """Embedding of one cropped stamp (Stamp2vec's /embeddings-from-cropped)."""
    _, result, timer = run_job("stamps-embed", body)
    return json_response({**result.as_dict(), "timings_ms": timer.as_dict()})


def compare(body=None, **_form):
    """Does this document carry the reference stamp? Each stamp's cosine similarity to it."""
    _, result, timer = run_job("stamps-compare", body)
    return json_response({**result.as_dict(), "timings_ms": timer.as_dict()})
