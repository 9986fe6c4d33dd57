"""POST /stamps, /stamps/embed, /stamps/compare: the ``stamps``, ``stamps-embed`` and
``stamps-compare`` jobs (:mod:`api.jobs.stamps`) → JSON or PNG."""

from __future__ import annotations

from .common import answer


def stamps(body=None, **_form):
    """Detect stamps, optionally with embeddings, ink masks and their cosine similarity
    matrix; or the first page annotated, or with the stamps' ink removed."""
    return answer("stamps", body)


def embed(body=None, **_form):
    """Embedding of one cropped stamp (Stamp2vec's /embeddings-from-cropped)."""
    return answer("stamps-embed", body)


def compare(body=None, **_form):
    """Does this document carry the reference stamp? Each stamp's cosine similarity to it."""
    return answer("stamps-compare", body)
