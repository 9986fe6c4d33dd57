"""PDF bytes → rendered :class:`~api.inputs.document.Page` images (PyMuPDF), with page selection."""

from __future__ import annotations

import re

import numpy as np

from ..problems import BadRequest, PayloadTooLarge, Unprocessable
from ..settings import Settings
from .decode import _check_side
from .document import Budget, Page

_PAGES_RE = re.compile(r"^\s*\d+\s*(-\s*\d+\s*)?(,\s*\d+\s*(-\s*\d+\s*)?)*$")


def parse_pages(spec: str | None, page_count: int) -> list[int]:
    """Parse a 1-based page selection like ``"1-3,5"`` into sorted 0-based indices.

    ``None`` or ``""`` selects every page. Raises 400 for malformed ranges, page 0, reversed
    ranges or pages past ``page_count``.
    """
    if spec is None or not str(spec).strip():
        return list(range(page_count))
    if not _PAGES_RE.match(spec):
        raise BadRequest(f"pages={spec!r} is not a page list like '1-3,5'.")
    chosen: set[int] = set()
    for part in spec.split(","):
        lo, _, hi = part.strip().partition("-")
        first, last = int(lo), int(hi or lo)
        if first < 1 or last < first:
            raise BadRequest(f"pages={spec!r}: range {part.strip()!r} is invalid.")
        if last > page_count:
            raise BadRequest(f"pages={spec!r}: the PDF has {page_count} page(s).")
        if last - first > 100_000:
            raise BadRequest(f"pages={spec!r}: range too large.")
        chosen.update(range(first - 1, last))
    return sorted(chosen)


def open_pdf(data: bytes):
    """Open PDF bytes with PyMuPDF (a ``pymupdf.Document``; use it as a context manager).
    Raises 422 for a corrupt, encrypted or empty PDF."""
    import pymupdf

    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except Exception as exc:  # PyMuPDF raises several private types for broken files
        raise Unprocessable(f"The PDF could not be opened ({type(exc).__name__}).")
    if doc.needs_pass or doc.is_encrypted:
        doc.close()
        raise Unprocessable("The PDF is encrypted; send an unencrypted copy.")
    if doc.page_count == 0:
        doc.close()
        raise Unprocessable("The PDF has no pages.")
    return doc


def render_pdf(data: bytes, settings: Settings, pages: str | None = None,
               dpi: int | None = None, budget: Budget | None = None) -> list[Page]:
    """Render selected PDF pages with PyMuPDF.

    Args: ``pages`` 1-based selection (see :func:`parse_pages`); ``dpi`` render resolution
    (default ``settings.default_dpi``, at most ``settings.max_dpi``).
    Raises 422 for corrupt, encrypted or empty PDFs; 413 when more than ``max_pdf_pages``
    pages are selected or a rendered page would exceed the pixel limit, or when the selected
    pages (their sizes at ``dpi``, read before any is rendered) overrun ``budget``; 400 for
    bad options.
    """
    import pymupdf

    dpi = settings.default_dpi if dpi is None else int(dpi)
    if not 36 <= dpi <= settings.max_dpi:
        raise BadRequest(f"dpi={dpi} is outside 36–{settings.max_dpi}.")
    with open_pdf(data) as doc:
        indices = parse_pages(pages, doc.page_count)
        if len(indices) > settings.max_pdf_pages:
            raise PayloadTooLarge(
                f"{len(indices)} pages selected; the limit is {settings.max_pdf_pages}. "
                "Choose fewer with `pages`, e.g. pages=1-5.")
        if budget is not None:
            try:
                sizes = [doc[i].rect for i in indices]
            except Exception as exc:
                raise Unprocessable(f"The PDF's pages could not be read ({type(exc).__name__}).")
            budget.charge(len(indices), int(sum(r.width * r.height for r in sizes)
                                            * (dpi / 72) ** 2))
        out = []
        for index in indices:
            try:
                page = doc.load_page(index)
                w_pt, h_pt = page.rect.width, page.rect.height
                if (w_pt * dpi / 72) * (h_pt * dpi / 72) > settings.max_pixels:
                    raise PayloadTooLarge(
                        f"Page {index + 1} at {dpi} dpi exceeds the "
                        f"{settings.max_image_mp:g} MP limit; lower `dpi`.")
                _check_side(round(w_pt * dpi / 72), round(h_pt * dpi / 72), settings,
                            f"Page {index + 1} at {dpi} dpi")
                pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csRGB, alpha=False)
            except (PayloadTooLarge, Unprocessable):
                raise
            except Exception as exc:
                raise Unprocessable(f"Page {index + 1} could not be rendered "
                                    f"({type(exc).__name__}).")
            _check_side(pix.width, pix.height, settings, f"Page {index + 1} at {dpi} dpi")
            arr = np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.width, pix.n)
            out.append(Page(image=np.ascontiguousarray(arr[:, :, :3]), page=index + 1, dpi=dpi,
                            page_count=doc.page_count))
        return out
