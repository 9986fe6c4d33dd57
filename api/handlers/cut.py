"""POST /cut: the ``cut`` job (:mod:`api.jobs.cut`) → transparent PNG (base64 JSON, or the
PNG itself)."""

from __future__ import annotations

from .common import answer


def cut(body=None, **_form):
    """Cut named COCO objects out of a photo (ObjectCut's request format)."""
    return answer("cut", body)
