"""Born-digital PDFs: what a page's own objects say (tables, images, drawings) as hints, and
the pipeline run over every page of a document."""

from __future__ import annotations

from ... import orientation
from ...vision import box_iou
from ..base import Deadline, Timings, tracking
from .pipeline import MIN_SCORE, TARGETS, ExtractPage, ExtractPipeline


def page_hints(page, dpi: int) -> list[tuple[str, list[float]]]:
    """What a born-digital PDF page itself knows, as ``(class, xyxy pixels at dpi)``.

    ``page`` is an open PyMuPDF page. Tables from ``find_tables()``; figures from embedded
    image rectangles and clusters of vector drawings (``cluster_drawings()``) at least 5 % of
    the page on each side and not inside a table. A page that is one full-page image (a scan)
    gives no hints.
    """
    scale = dpi / 72.0
    area = page.rect.width * page.rect.height
    images = [list(info["bbox"]) for info in page.get_image_info()]
    if any((r[2] - r[0]) * (r[3] - r[1]) >= 0.9 * area for r in images):
        return []  # a scanned page: the image is the page (and find_tables is slow)
    tables = [list(t.bbox) for t in page.find_tables().tables]
    hints: list[tuple[str, list[float]]] = [("table", t) for t in tables]
    for r in images + [list(r) for r in page.cluster_drawings()]:
        w, h = r[2] - r[0], r[3] - r[1]
        if w * h >= 0.9 * area:
            continue  # a page-filling background drawing
        if w < 0.05 * page.rect.width or h < 0.05 * page.rect.height:
            continue
        if any(box_iou(r, t) > 0.3 or (r[0] >= t[0] and r[1] >= t[1] and r[2] <= t[2]
                                       and r[3] <= t[3]) for t in tables):
            continue
        hints.append(("figure", r))
    return [(cls, [v * scale for v in box]) for cls, box in hints]


def extract_document(pipeline: ExtractPipeline, doc, *, classes=TARGETS, min_score: float = MIN_SCORE,
                     timings: Timings | None = None,
                     deadline: Deadline | None = None,
                     orient: bool = orientation.ORIENT) -> list[tuple[object, ExtractPage]]:
    """Run ``pipeline`` on every page of an :class:`api.inputs.Document` (``orient``: see
    :class:`ExtractPipeline`).

    A PDF is opened once for the hints of all its pages. Returns ``(Page, ExtractPage)`` pairs
    in page order.
    """
    import contextlib

    import pymupdf

    timings, deadline = tracking(timings, deadline)
    results = []
    with contextlib.ExitStack() as stack:
        pdf = (stack.enter_context(pymupdf.open(stream=doc.data, filetype="pdf"))
               if doc.kind == "pdf" else None)
        for page in doc.pages:
            deadline.check()
            hints = None
            if pdf is not None:
                with timings.stage("pdf_objects"):
                    hints = page_hints(pdf.load_page(page.page - 1), page.dpi)
            results.append((page, pipeline(page.image, page=page.page, classes=classes,
                                           min_score=min_score, hints=hints, timings=timings,
                                           deadline=deadline, orient=orient)))
    return results
