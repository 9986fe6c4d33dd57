"""Figures, tables and equations in document pages: layout model → evidence-based refinement.

The CDLA PicoDet layout model (``layout-cdla``) proposes regions. Patent pages defeat it in
three ways (measured on ImgExtract's own samples), each fixed here with pixel evidence:

- a whole front page called one figure: page-sized figures are replaced by the graphic
  regions inside them — ink left once text lines (PP-OCR detector) and straight rules are
  masked out;
- two neighbouring drawings merged: figures are split at empty gutters, and label-sized parts
  ("Fig. 3B") rejoin their nearest drawing;
- equations cut short: equation boxes grow sideways over the ink connected to them.
A figure and a table on the same region are resolved by evidence (ruling lines → table,
non-text graphics → figure, neither → dropped); every box is finally tightened to its ink.
For born-digital PDF pages, boxes of PDF tables (PyMuPDF ``find_tables``), embedded images and
vector-drawing clusters are passed in as ``hints`` (pixels) and confirm or add items.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ..engines import layout, ppocr
from ..engines.layout import CLASSES
from ..registry import Registry
from ..vision import box_iou, ink_mask
from .base import Deadline, Detection, Timings

TARGETS = ("figure", "table", "equation")
#: Layout score from which a region is reported (the job default).
MIN_SCORE = 0.5
#: A figure covering at least this share of the page is a mis-detected page.
PAGE_SIZED = 0.5
#: Figures scored below this must show non-text graphics to be kept.
WEAK_FIGURE = 0.7


@dataclass
class ExtractPage:
    """Items found on one page (``page`` 1-based; width/height pixels); each item's ``cls``
    is one of :data:`TARGETS`."""

    page: int
    width: int
    height: int
    items: list[Detection] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"page": self.page, "width": self.width, "height": self.height,
                "items": [item.as_dict() for item in self.items]}


def _ink_box(ink: np.ndarray, box: list[float], pad: int) -> list[float] | None:
    """Tight box of the ink inside ``box`` grown by ``pad``; ``None`` when there is no ink."""
    h, w = ink.shape
    x1, y1 = max(0, int(box[0])), max(0, int(box[1]))
    x2, y2 = min(w, int(np.ceil(box[2]))), min(h, int(np.ceil(box[3])))
    region = ink[y1:y2, x1:x2]
    if region.size == 0 or region.sum() < 8:
        return None
    rows, cols = np.flatnonzero(region.any(1)), np.flatnonzero(region.any(0))
    return [float(max(0, x1 + cols[0] - pad)), float(max(0, y1 + rows[0] - pad)),
            float(min(w, x1 + cols[-1] + 1 + pad)), float(min(h, y1 + rows[-1] + 1 + pad))]


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """``[start, end)`` runs of True in a 1-D boolean array."""
    padded = np.concatenate([[False], flags, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(edges[::2], edges[1::2]))


def _split_gutters(ink: np.ndarray, box: list[float], min_gap: int) -> list[list[float]]:
    """Split ``box`` at empty bands (rows, then columns) at least ``min_gap`` px wide.

    Parts whose ink is under 15 % of the largest part's area (labels such as "Fig. 3B")
    are merged into the nearest other part.
    """
    x1, y1, x2, y2 = (int(v) for v in box)
    region = ink[y1:y2, x1:x2]
    parts = []
    for r0, r1 in _runs(region.any(1)):
        band = region[r0:r1]
        for c0, c1 in _runs(band.any(0)):
            parts.append([c0, r0, c1, r1])
    if len(parts) <= 1:
        return [box]

    def merge(groups: list[list[int]], axis: int) -> list[list[int]]:
        groups = sorted(groups, key=lambda g: g[axis])
        merged = [groups[0]]
        for g in groups[1:]:
            last = merged[-1]
            if g[axis] - last[axis + 2] < min_gap:
                merged[-1] = [min(last[0], g[0]), min(last[1], g[1]),
                              max(last[2], g[2]), max(last[3], g[3])]
            else:
                merged.append(g)
        return merged

    # Ink runs closer than min_gap belong together: merge along y, then along x when every
    # part shares one row band; repeat until stable.
    for _ in range(4):
        before = len(parts)
        parts = merge(parts, 1)
        if len(parts) > 1 and all(min(a[3], b[3]) > max(a[1], b[1])
                                  for a in parts for b in parts):
            parts = merge(parts, 0)
        if len(parts) == before:
            break
    areas = [(p[2] - p[0]) * (p[3] - p[1]) for p in parts]
    big = [p for p, a in zip(parts, areas) if a >= 0.15 * max(areas)]
    for p, a in zip(parts, areas):
        if a < 0.15 * max(areas):
            centre = ((p[0] + p[2]) / 2, (p[1] + p[3]) / 2)
            nearest = min(big, key=lambda q: max(0, q[1] - centre[1], centre[1] - q[3])
                          + max(0, q[0] - centre[0], centre[0] - q[2]))
            nearest[:] = [min(nearest[0], p[0]), min(nearest[1], p[1]),
                          max(nearest[2], p[2]), max(nearest[3], p[3])]
    return [[float(x1 + p[0]), float(y1 + p[1]), float(x1 + p[2]), float(y1 + p[3])]
            for p in big]


def _long_lines(ink: np.ndarray, box: list[float]) -> tuple[np.ndarray, int]:
    """Mask of straight horizontal/vertical rules in ``box`` (runs ≥ 1/8 of its shorter side)
    and the number of horizontal rules spanning at least half its width (ruled tables have
    several)."""
    x1, y1, x2, y2 = (int(v) for v in box)
    region = ink[y1:y2, x1:x2].astype(np.uint8)
    h, w = region.shape
    side = max(8, min(h, w) // 8)
    horiz = cv2.morphologyEx(region, cv2.MORPH_OPEN,
                             cv2.getStructuringElement(cv2.MORPH_RECT, (side, 1)))
    vert = cv2.morphologyEx(region, cv2.MORPH_OPEN,
                            cv2.getStructuringElement(cv2.MORPH_RECT, (1, side)))
    wide = cv2.morphologyEx(region, cv2.MORPH_OPEN,
                            cv2.getStructuringElement(cv2.MORPH_RECT, (max(8, w // 2), 1)))
    count = len(_runs(wide.any(1)))
    return (horiz | vert).astype(bool), count


def _drop_contained(items: list[Detection]) -> list[Detection]:
    """Drop an item whose box lies ≥ 80 % inside a larger item of the same class."""
    def area(b):
        return max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])

    keep = []
    for item in items:
        inside = False
        for other in items:
            if other is item or other.cls != item.cls or area(other.box) < area(item.box):
                continue
            ix = max(0.0, min(item.box[2], other.box[2]) - max(item.box[0], other.box[0]))
            iy = max(0.0, min(item.box[3], other.box[3]) - max(item.box[1], other.box[1]))
            if area(item.box) and ix * iy >= 0.8 * area(item.box) and (
                    area(other.box) > area(item.box) or id(other) < id(item)):
                inside = True
                break
        if not inside:
            keep.append(item)
    return keep


class ExtractPipeline:
    """Find figures, tables and equations on one RGB page.

    Args: ``registry`` provides ``layout-cdla`` and (for graphics evidence) ``ocr-ppocrv6``.
    Raises :class:`~api.errors.ModelUnavailable` (503) and
    :class:`~api.errors.GatewayTimeout` (504).
    """

    def __init__(self, registry: Registry):
        self.registry = registry

    def _text_mask(self, image: np.ndarray, box: list[float]) -> np.ndarray:
        """Filled mask of text lines (PP-OCR detector) inside ``box``, page-sized."""
        x1, y1, x2, y2 = (int(v) for v in box)
        crop = np.ascontiguousarray(image[y1:y2, x1:x2, ::-1])
        quads, _ = self.registry.get(ppocr.SPEC).detect(crop, max_side=1280)
        mask = np.zeros(image.shape[:2], np.uint8)
        for q in quads:
            cv2.fillPoly(mask, [np.round(q + [x1, y1]).astype(np.int32)], 1)
        return mask.astype(bool)

    def _graphics(self, image: np.ndarray, ink: np.ndarray, box: list[float]) -> np.ndarray:
        """Ink inside ``box`` that is neither text nor a straight rule."""
        x1, y1, x2, y2 = (int(v) for v in box)
        rules, _ = _long_lines(ink, box)
        text = self._text_mask(image, box)[y1:y2, x1:x2]
        return ink[y1:y2, x1:x2] & ~rules & ~text

    def _graphic_regions(self, image: np.ndarray, ink: np.ndarray,
                         box: list[float]) -> list[list[float]]:
        """Line-drawing clusters of non-text, non-rule ink inside ``box`` (≥ 8 % × 5 % of the
    page, ink density ≤ 25 %)."""
        h, w = ink.shape
        graphics = self._graphics(image, ink, box).astype(np.uint8)
        k = max(3, int(0.01 * max(h, w)))
        merged = cv2.dilate(graphics, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
        count, _, stats, _ = cv2.connectedComponentsWithStats(merged)
        out = []
        for i in range(1, count):
            x, y, bw, bh, _ = stats[i]
            density = graphics[y:y + bh, x:x + bw].mean() if bw and bh else 1.0
            # line art only: dense clusters are emblems, seals or photos of the page furniture
            if bw >= 0.08 * w and bh >= 0.05 * h and density <= 0.25:
                out.append([float(box[0] + x), float(box[1] + y),
                            float(box[0] + x + bw), float(box[1] + y + bh)])
        return out

    def _extend_equation(self, ink: np.ndarray, box: list[float]) -> list[float]:
        """Grow an equation box sideways over ink connected to it (same text band)."""
        h, w = ink.shape
        bh = box[3] - box[1]
        y1, y2 = int(max(0, box[1] - 0.1 * bh)), int(min(h, box[3] + 0.1 * bh))
        band = ink[y1:y2].astype(np.uint8)
        k = max(3, int(0.012 * w))
        joined = cv2.dilate(band, cv2.getStructuringElement(cv2.MORPH_RECT, (k, 3)))
        count, labels, stats, _ = cv2.connectedComponentsWithStats(joined)
        inside = labels[:, int(box[0]):int(np.ceil(box[2]))]
        ids = [i for i in np.unique(inside) if i > 0 and stats[i, 4] > 0]
        if not ids:
            return box
        x_lo = min(stats[i, 0] for i in ids)
        x_hi = max(stats[i, 0] + stats[i, 2] for i in ids)
        return [float(min(box[0], x_lo)), box[1], float(max(box[2], x_hi)), box[3]]

    def __call__(self, image: np.ndarray, *, page: int = 1, classes=TARGETS,
                 min_score: float = MIN_SCORE, hints: list[tuple[str, list[float]]] | None = None,
                 timings: Timings | None = None,
                 deadline: Deadline | None = None) -> ExtractPage:
        """Extract items from ``image`` (``(H, W, 3)`` uint8 RGB).

        ``hints`` are ``(class, xyxy pixels)`` boxes known from a born-digital PDF.
        Returns items of the requested ``classes`` sorted top-to-bottom, left-to-right.
        """
        timings = timings or Timings()
        deadline = deadline or Deadline(None)
        h, w = image.shape[:2]
        with timings.stage("layout"):
            boxes, scores, ids = self.registry.get(layout.SPEC)(image, min_score=min_score)
        items = [Detection(CLASSES[c], float(s), [float(v) for v in b])
                 for b, s, c in zip(boxes, scores, ids) if CLASSES[c] in TARGETS]
        deadline.check()
        with timings.stage("refine"):
            ink = ink_mask(image)
            pad = max(2, int(0.002 * max(h, w)))
            items = self._refine(image, ink, items, pad, deadline)
            items = self._apply_hints(items, hints or [], ink, pad)
        items = [i for i in items if i.cls in classes]
        items.sort(key=lambda i: (round(i.box[1] / max(1, 0.02 * h)), i.box[0]))
        return ExtractPage(page=page, width=w, height=h, items=items)

    def _refine(self, image, ink, items: list[Detection], pad: int, deadline: Deadline) -> list[Detection]:
        h, w = ink.shape
        page_area = float(h * w)
        out: list[Detection] = []
        # 1. page-sized figures → the graphic regions inside them
        for item in items:
            b = item.box
            if item.cls == "figure" and (b[2] - b[0]) * (b[3] - b[1]) >= PAGE_SIZED * page_area:
                out += [Detection("figure", item.score, r) for r in self._graphic_regions(image, ink, b)]
                deadline.check()
            else:
                out.append(item)
        # 2. figure/table on the same region → decide by evidence
        figures = [i for i in out if i.cls == "figure"]
        tables = [i for i in out if i.cls == "table"]
        dropped: set[int] = set()
        for f in figures:
            for t in tables:
                if box_iou(f.box, t.box) < 0.6:
                    continue
                _, ruled = _long_lines(ink, t.box)
                if ruled >= 3:
                    dropped.add(id(f))
                else:
                    graphic = self._graphics(image, ink, f.box).mean()
                    dropped.add(id(t))
                    if graphic < 0.01:
                        dropped.add(id(f))
                deadline.check()
        out = [i for i in out if id(i) not in dropped]
        # 3. split figures at gutters; 4. extend equations; 5. tighten everything to ink
        min_gap = max(8, int(0.03 * h))
        refined: list[Detection] = []
        for item in out:
            parts = _split_gutters(ink, item.box, min_gap) if item.cls == "figure" else [item.box]
            for part in parts:
                if item.cls == "equation":
                    part = self._extend_equation(ink, part)
                tight = _ink_box(ink, part, pad)
                if tight is None:
                    continue
                if (item.cls == "figure" and item.score < WEAK_FIGURE
                        and self._graphics(image, ink, tight).mean() < 0.01):
                    continue  # a weak "figure" that is all text and rules
                refined.append(Detection(item.cls, item.score, tight))
            deadline.check()
        return _drop_contained(refined)

    @staticmethod
    def _apply_hints(items: list[Detection], hints, ink, pad: int) -> list[Detection]:
        """Confirm, tighten or add items from born-digital PDF boxes."""
        for cls, box in hints:
            match = max((i for i in items if i.cls == cls), default=None,
                        key=lambda i: box_iou(i.box, box))
            tight = _ink_box(ink, box, pad) or box
            if match is not None and box_iou(match.box, box) >= 0.3:
                match.box = tight
                match.score = max(match.score, 0.9)
            elif cls in ("table", "figure"):
                items.append(Detection(cls, 0.9, tight))
        return items


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
                     deadline: Deadline | None = None) -> list[tuple[object, ExtractPage]]:
    """Run ``pipeline`` on every page of an :class:`api.inputs.Document`.

    A PDF is opened once for the hints of all its pages. Returns ``(Page, ExtractPage)`` pairs
    in page order.
    """
    import contextlib

    import pymupdf

    timings = timings or Timings()
    deadline = deadline or Deadline(None)
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
                                           deadline=deadline)))
    return results
