"""Evidence-based refinement of layout boxes (see :mod:`api.pipelines.extract`), one named
step per fix, every threshold named in :class:`RefineParams`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from ...vision import box_iou
from ..base import Deadline, Detection
from .geometry import drop_contained, ink_box, long_lines, split_gutters

#: ``text_mask(box) -> (H, W) bool``: text lines (PP-OCR detector) inside a box, page-sized.
TextMask = Callable[[list[float]], np.ndarray]


@dataclass(frozen=True)
class RefineParams:
    """The refinement's thresholds (shares are of the page side or area unless noted;
    measured on ImgExtract's patent samples and the extract eval pages)."""

    #: A figure covering at least this share of the page area is a mis-detected page.
    page_sized: float = 0.5
    #: Figures scored below this must show non-text graphics to be kept.
    weak_figure: float = 0.7
    #: Share of a box's pixels that must be non-text, non-rule ink to count as graphics.
    min_graphics: float = 0.01
    #: A graphic region inside a page-sized figure: at least this share of the page width
    #: and height, at most this ink density (denser clusters are emblems, seals, photos).
    region_min_w: float = 0.08
    region_min_h: float = 0.05
    region_max_density: float = 0.25
    #: Dilation joining a region's strokes: this share of the longer page side (≥ 3 px).
    region_join: float = 0.01
    #: A figure and a table overlapping at least this IoU are one region to decide.
    same_region_iou: float = 0.6
    #: At least this many page-wide horizontal rules make the region a table.
    table_rules: int = 3
    #: Empty bands at least this share of the page height (≥ 8 px) split a figure.
    gutter: float = 0.03
    #: An equation's band: its height grown by this share above and below; strokes joined
    #: sideways by this share of the page width (≥ 3 px).
    equation_band: float = 0.1
    equation_join: float = 0.012
    #: Tight boxes are grown by this share of the longer page side (≥ 2 px).
    pad: float = 0.002
    #: A PDF hint confirms the detection it overlaps at least this IoU; hinted items score
    #: at least this.
    hint_iou: float = 0.3
    hint_score: float = 0.9


def graphics(ink: np.ndarray, box: list[float], text_mask: TextMask) -> np.ndarray:
    """Ink inside ``box`` that is neither text nor a straight rule, ``(h, w)`` bool."""
    x1, y1, x2, y2 = (int(v) for v in box)
    rules, _ = long_lines(ink, box)
    text = text_mask(box)[y1:y2, x1:x2]
    return ink[y1:y2, x1:x2] & ~rules & ~text


def graphic_regions(ink: np.ndarray, box: list[float], text_mask: TextMask,
                    p: RefineParams) -> list[list[float]]:
    """Line-drawing clusters of non-text, non-rule ink inside ``box`` (xyxy pixels)."""
    h, w = ink.shape
    art = graphics(ink, box, text_mask).astype(np.uint8)
    k = max(3, int(p.region_join * max(h, w)))
    merged = cv2.dilate(art, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    count, _, stats, _ = cv2.connectedComponentsWithStats(merged)
    out = []
    for i in range(1, count):
        x, y, bw, bh, _ = stats[i]
        density = art[y:y + bh, x:x + bw].mean() if bw and bh else 1.0
        if bw >= p.region_min_w * w and bh >= p.region_min_h * h \
                and density <= p.region_max_density:
            out.append([float(box[0] + x), float(box[1] + y),
                        float(box[0] + x + bw), float(box[1] + y + bh)])
    return out


def extend_equation(ink: np.ndarray, box: list[float], p: RefineParams) -> list[float]:
    """Grow an equation box sideways over ink connected to it (same text band)."""
    h, w = ink.shape
    bh = box[3] - box[1]
    y1 = int(max(0, box[1] - p.equation_band * bh))
    y2 = int(min(h, box[3] + p.equation_band * bh))
    band = ink[y1:y2].astype(np.uint8)
    k = max(3, int(p.equation_join * w))
    joined = cv2.dilate(band, cv2.getStructuringElement(cv2.MORPH_RECT, (k, 3)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(joined)
    inside = labels[:, int(box[0]):int(np.ceil(box[2]))]
    ids = [i for i in np.unique(inside) if i > 0 and stats[i, 4] > 0]
    if not ids:
        return box
    x_lo = min(stats[i, 0] for i in ids)
    x_hi = max(stats[i, 0] + stats[i, 2] for i in ids)
    return [float(min(box[0], x_lo)), box[1], float(max(box[2], x_hi)), box[3]]


def split_page_sized_figures(items: list[Detection], ink: np.ndarray, text_mask: TextMask,
                             p: RefineParams, deadline: Deadline) -> list[Detection]:
    """Step 1: a figure covering the page is replaced by the graphic regions inside it."""
    h, w = ink.shape
    out: list[Detection] = []
    for item in items:
        b = item.box
        if item.cls == "figure" and (b[2] - b[0]) * (b[3] - b[1]) >= p.page_sized * h * w:
            out += [Detection("figure", item.score, r)
                    for r in graphic_regions(ink, b, text_mask, p)]
            deadline.check()
        else:
            out.append(item)
    return out


def resolve_figure_tables(items: list[Detection], ink: np.ndarray, text_mask: TextMask,
                          p: RefineParams, deadline: Deadline) -> list[Detection]:
    """Step 2: a figure and a table on the same region are decided by evidence: ruling lines
    → table; non-text graphics → figure; neither → both dropped."""
    figures = [i for i in items if i.cls == "figure"]
    tables = [i for i in items if i.cls == "table"]
    dropped: set[int] = set()
    for f in figures:
        for t in tables:
            if box_iou(f.box, t.box) < p.same_region_iou:
                continue
            _, ruled = long_lines(ink, t.box)
            if ruled >= p.table_rules:
                dropped.add(id(f))
            else:
                dropped.add(id(t))
                if graphics(ink, f.box, text_mask).mean() < p.min_graphics:
                    dropped.add(id(f))
            deadline.check()
    return [i for i in items if id(i) not in dropped]


def split_extend_tighten(items: list[Detection], ink: np.ndarray, text_mask: TextMask,
                         p: RefineParams, deadline: Deadline) -> list[Detection]:
    """Steps 3–5: figures split at gutters, equations extended along their band, every box
    tightened to its ink; weak figures with no graphics and boxes inside a larger one of
    their class are dropped."""
    h, w = ink.shape
    pad = max(2, int(p.pad * max(h, w)))
    min_gap = max(8, int(p.gutter * h))
    refined: list[Detection] = []
    for item in items:
        parts = split_gutters(ink, item.box, min_gap) if item.cls == "figure" else [item.box]
        for part in parts:
            if item.cls == "equation":
                part = extend_equation(ink, part, p)
            tight = ink_box(ink, part, pad)
            if tight is None:
                continue
            if (item.cls == "figure" and item.score < p.weak_figure
                    and graphics(ink, tight, text_mask).mean() < p.min_graphics):
                continue  # a weak "figure" that is all text and rules
            refined.append(Detection(item.cls, item.score, tight))
        deadline.check()
    return drop_contained(refined)


def refine(items: list[Detection], ink: np.ndarray, text_mask: TextMask, p: RefineParams,
           deadline: Deadline) -> list[Detection]:
    """Steps 1–5 in order on the layout model's ``items``."""
    for step in (split_page_sized_figures, resolve_figure_tables, split_extend_tighten):
        items = step(items, ink, text_mask, p, deadline)
    return items


def apply_hints(items: list[Detection], hints: list[tuple[str, list[float]]],
                ink: np.ndarray, p: RefineParams) -> list[Detection]:
    """Confirm, tighten or add items from born-digital PDF boxes (``(class, xyxy px)``)."""
    h, w = ink.shape
    pad = max(2, int(p.pad * max(h, w)))
    for cls, box in hints:
        match = max((i for i in items if i.cls == cls), default=None,
                    key=lambda i: box_iou(i.box, box))
        tight = ink_box(ink, box, pad) or box
        if match is not None and box_iou(match.box, box) >= p.hint_iou:
            match.box = tight
            match.score = max(match.score, p.hint_score)
        elif cls in ("table", "figure"):
            items.append(Detection(cls, p.hint_score, tight))
    return items
