"""The extract pipeline on one page: layout model → refinement → PDF hints → sorted items."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ... import orientation
from ...engines import layout, ppocr
from ...engines.layout import CLASSES
from ...registry import Registry
from ...vision import ink_mask
from ..base import Deadline, Detection, Timings, tracking
from .refine import RefineParams, apply_hints, refine

TARGETS = ("figure", "table", "equation")
#: Layout score from which a region is reported (the job default).
MIN_SCORE = 0.5


@dataclass
class ExtractPage:
    """Items found on one page (``page`` 1-based; width/height pixels); each item's ``cls``
    is one of :data:`TARGETS`; ``turns`` the quarter turns clockwise the page was found
    scanned with and read turned back from (:func:`api.orientation.page_turns`; the items'
    boxes are in the page as sent either way)."""

    page: int
    width: int
    height: int
    items: list[Detection] = field(default_factory=list)
    turns: int = 0

    def as_dict(self) -> dict:
        """``{"page", "width", "height", "rotation", "items": [Detection.as_dict()]}``
        (``rotation``: :func:`api.orientation.rotation` of ``turns``)."""
        return {"page": self.page, "width": self.width, "height": self.height,
                "rotation": orientation.rotation(self.turns),
                "items": [item.as_dict() for item in self.items]}


class ExtractPipeline:
    """Find figures, tables and equations on one RGB page.

    Args: ``registry`` provides ``layout-cdla`` and (for graphics evidence) ``ocr-ppocrv6``;
    ``params`` the refinement's thresholds. Raises :class:`~api.problems.ModelUnavailable`
    (503) and :class:`~api.problems.GatewayTimeout` (504).
    """

    def __init__(self, registry: Registry, params: RefineParams = RefineParams()):
        self.registry = registry
        self.params = params

    def _text_mask(self, image: np.ndarray):
        """``box -> (H, W) bool``: filled text-line quads (PP-OCR detector) inside ``box``."""
        def mask_of(box: list[float]) -> np.ndarray:
            x1, y1, x2, y2 = (int(v) for v in box)
            crop = np.ascontiguousarray(image[y1:y2, x1:x2, ::-1])
            quads, _ = self.registry.get(ppocr.SPEC).detect(crop, max_side=1280)
            mask = np.zeros(image.shape[:2], np.uint8)
            for q in quads:
                cv2.fillPoly(mask, [np.round(q + [x1, y1]).astype(np.int32)], 1)
            return mask.astype(bool)
        return mask_of

    def __call__(self, image: np.ndarray, *, page: int = 1, classes=TARGETS,
                 min_score: float = MIN_SCORE, hints: list[tuple[str, list[float]]] | None = None,
                 timings: Timings | None = None,
                 deadline: Deadline | None = None,
                 orient: bool = orientation.ORIENT) -> ExtractPage:
        """Extract items from ``image`` (``(H, W, 3)`` uint8 RGB).

        ``hints`` are ``(class, xyxy pixels)`` boxes known from a born-digital PDF. With
        ``orient`` a page without hints that was scanned sideways or upside down
        (:func:`api.orientation.page_turns`) is read turned upright, and its boxes are
        given back in ``image``. Returns items of the requested ``classes`` sorted
        top-to-bottom, left-to-right (of the upright page).
        """
        timings, deadline = tracking(timings, deadline)
        h, w = image.shape[:2]
        if orient and not hints:
            with timings.stage("orient"):
                turns = orientation.page_turns(image, self.registry.get(ppocr.SPEC))
            if turns:
                found = self(orientation.upright(image, turns), page=page, classes=classes,
                             min_score=min_score, timings=timings, deadline=deadline,
                             orient=False)
                for item in found.items:
                    item.box = [float(v) for v in
                                orientation.boxes_back([item.box], turns, image.shape)[0]]
                return ExtractPage(page=page, width=w, height=h, items=found.items, turns=turns)
        with timings.stage("layout"):
            boxes, scores, ids = self.registry.get(layout.SPEC)(image, min_score=min_score)
        items = [Detection(CLASSES[c], float(s), [float(v) for v in b])
                 for b, s, c in zip(boxes, scores, ids) if CLASSES[c] in TARGETS]
        deadline.check()
        with timings.stage("refine"):
            ink = ink_mask(image)
            items = refine(items, ink, self._text_mask(image), self.params, deadline)
            items = apply_hints(items, hints or [], ink, self.params)
        items = [i for i in items if i.cls in classes]
        items.sort(key=lambda i: (round(i.box[1] / max(1, 0.02 * h)), i.box[0]))
        return ExtractPage(page=page, width=w, height=h, items=items)
