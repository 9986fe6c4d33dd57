"""Stamps: detect ink stamps/seals on pages, embed each crop, compare by cosine similarity.

Stages (timed): ``document`` (whether the page is a document at all:
:meth:`api.engines.stampembed.StampEmbedder.document_score` at least :data:`MIN_DOCUMENT` or
:func:`api.inkmask.paper_share` at least :data:`PHOTO_MAX_PAPER`; a photo gets no stamps),
``orient`` (a page scanned sideways or upside down is searched turned upright:
:func:`api.orientation.page_turns`; boxes and masks come back in the page as sent),
``detect`` (letterbox → :mod:`api.engines.stampdet` → YOLOX decode + NMS),
``refine`` (each box → :func:`api.inkmask.refine`: the stamp's whole impression and its ink
mask), ``verify`` (each box scoring below :data:`VERIFY_BELOW` → :mod:`api.engines.sealtext`;
those without text are dropped),
``embed`` (crops → :mod:`api.engines.stampembed`, 1280-d unit vectors) and ``compare``
(dot products). No Flask here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from .. import inkmask, orientation
from ..engines import ppocr, sealtext, stampdet, stampembed
from ..inputs import Page
from ..registry import Registry
from ..vision import box_iou, crop_box
from .base import Deadline, Timings, tracking

#: Cosine similarity above which two crops are reported as the same stamp (``match``).
#: Measured on the hand-labelled eval crops: one physical stamp on StaVer's five scans gives
#: 0.85–0.96, different stamps of the eval set at most 0.70; see docs/jobs/stamps.md.
MATCH_THRESHOLD = 0.8
#: Whether the seal text check runs by default (``verify_text``); see :meth:`StampsPipeline.verify`.
VERIFY_TEXT = True
#: Detector score (0–1) from which a box is kept without the text check: confident boxes
#: are stamps so often that checking them loses more true stamps than false ones. Chosen on
#: the pool's valid split (fused detector, refined boxes, labels with the added stamps; 587
#: boxes at ``min_score`` 0.35): checking only boxes below 0.6 (76 of them) gives recall
#: 0.868 / precision 0.910, against 0.851 / 0.916 checking every box and 0.869 / 0.896
#: checking none (below 0.5: 0.868 / 0.904; 0.7: 0.866 / 0.911; 0.8: 0.860 / 0.914).
VERIFY_BELOW = 0.6
#: Margin around a box, as a fraction of its longer side, for the text check: ring text
#: runs to the box edge.
VERIFY_MARGIN = 0.1
#: Detections whose detector boxes overlap less than this (IoU) are two stamps even when
#: their refined boxes merge (touching stamps of one ink, whose rings join into one blob):
#: the weaker keeps its detector box. On the pool's valid split (with the added labels,
#: service defaults) recall 0.868 → 0.873 at the same precision (0.910); real scans unchanged.
SEPARATE_IOU = 0.2
#: Whether pages are checked to be documents before detection by default (``document_check``).
DOCUMENT_CHECK = True
#: Document score (0–1, :meth:`api.engines.stampembed.StampEmbedder.document_score`) below
#: which a page is a photo and gets no stamps: a third of the lowest stamped page of the
#: pool's train split (0.063); the development photos score at most 0.05, most under 0.01,
#: and the detector boxes their cats and pizzas. See training/experiments.md.
MIN_DOCUMENT = 0.02
#: ... unless at least this share of it is paper (:func:`api.inkmask.paper_share`): an almost
#: blank letter with one small stamp and a page scanned turned 90° score 0.015–0.018 as
#: documents but are mostly paper; photos are 0.03–0.40 paper.
PHOTO_MAX_PAPER = 0.5


@dataclass
class Stamp:
    """One detected stamp: ``page`` 1-based, ``box`` xyxy pixels of that page, ``score`` 0–1,
    ``ink`` its impression (:class:`api.inkmask.Ink`, ``None`` when not refined or too faint
    to tell), ``embedding`` float32 ``(1280,)`` unit vector (``None`` when not computed)."""

    page: int
    box: list[float]
    score: float
    ink: inkmask.Ink | None = None
    embedding: np.ndarray | None = None

    def as_dict(self, with_embedding: bool = False, with_mask: bool = False) -> dict:
        """JSON form; the embedding is rounded to 6 decimals when included; ``mask`` is the
        ink mask as a base64 PNG of the box's size (``null`` when there is none)."""
        out = {"page": self.page, "box": [round(float(v), 1) for v in self.box],
               "score": round(float(self.score), 4)}
        if with_mask:
            out["mask"] = self.ink.mask_png() if self.ink is not None else None
        if with_embedding and self.embedding is not None:
            out["embedding"] = [round(float(v), 6) for v in self.embedding]
        return out


@dataclass
class StampsResult:
    """All stamps of the pages, ``similarity`` ``(N, N)`` float32 cosine matrix, and each
    page's ``(page, width, height, document, turns)``: ``document`` its document score (0–1,
    ``None`` when not checked), ``turns`` the quarter turns clockwise it was found scanned
    with and searched turned back from (:func:`api.orientation.page_turns`)."""

    stamps: list[Stamp]
    similarity: np.ndarray
    pages: list[tuple[int, int, int, float | None, int]] = field(default_factory=list)

    def as_dict(self, with_embedding: bool = False, with_mask: bool = False) -> dict:
        """JSON form: ``stamps``, ``similarity`` (rounded to 4 decimals) and ``pages``
        (``rotation``: :func:`api.orientation.rotation` of the page's turns)."""
        return {
            "stamps": [s.as_dict(with_embedding, with_mask) for s in self.stamps],
            "similarity": [[round(float(v), 4) for v in row] for row in self.similarity],
            "pages": [{"page": p, "width": w, "height": h,
                       "document": None if d is None else round(float(d), 4),
                       "rotation": orientation.rotation(t)}
                      for p, w, h, d, t in self.pages],
        }


class Found(NamedTuple):
    """The stamps :meth:`StampsPipeline.find` finds on one RGB page: ``boxes`` ``(N, 4)``
    float32 xyxy pixels of the page as sent, ``scores`` ``(N,)`` 0–1, ``inks`` their
    impressions (``None`` where not refined), best first, and ``turns`` the quarter turns
    clockwise the page was found scanned with (0 when upright or not checked)."""

    boxes: np.ndarray
    scores: np.ndarray
    inks: list[inkmask.Ink | None]
    turns: int = 0


def cosine_matrix(embeddings: np.ndarray) -> np.ndarray:
    """``(N, D)`` unit vectors → ``(N, N)`` cosine similarities clipped to −1…1."""
    if len(embeddings) == 0:
        return np.zeros((0, 0), np.float32)
    return np.clip(embeddings @ embeddings.T, -1.0, 1.0).astype(np.float32)


class StampsPipeline:
    """Detector, text check and embedder from the registry (``stamp-det``, ``seal-text``,
    ``stamp-embed``), loaded lazily."""

    def __init__(self, registry: Registry):
        self.registry = registry

    def document_score(self, image: np.ndarray) -> float:
        """How much an RGB page looks like a document (0–1; see
        :meth:`api.engines.stampembed.StampEmbedder.document_score`)."""
        return self.registry.get(stampembed.SPEC).document_score(image)

    def _timed_document_score(self, image: np.ndarray, timings: Timings) -> float:
        with timings.stage("document"):
            return self.document_score(image)

    def detect(self, image: np.ndarray, min_score: float) -> tuple[np.ndarray, np.ndarray]:
        """Boxes ``(N, 4)`` xyxy pixels and scores ``(N,)`` of the stamps in an RGB page."""
        detector = self.registry.get(stampdet.SPEC)
        return detector(image, min_score=min_score)

    def verify(self, image: np.ndarray, boxes: np.ndarray, scores: np.ndarray | None = None,
               deadline: Deadline | None = None) -> np.ndarray:
        """Which boxes to keep: ``(N,)`` bool for ``(N, 4)`` xyxy pixel boxes of an RGB page.

        A box whose detector score (``scores``, ``(N,)`` 0–1) is at least
        :data:`VERIFY_BELOW` is kept unchecked; every other box (all of them when ``scores``
        is ``None``), widened by :data:`VERIFY_MARGIN`, goes through the seal text detector
        (``seal-text``, 70–100 ms a box on 2 cores), and one without any text region is not
        a stamp (a signature, a scribble, a bare emblem logo). Measured on real scans, see
        docs/jobs/stamps.md. ``deadline`` is checked before each checked box.
        """
        _, deadline = tracking(None, deadline)
        keep = np.zeros(len(boxes), bool) if scores is None else scores >= VERIFY_BELOW
        if keep.all():
            return keep
        checker = self.registry.get(sealtext.SPEC)
        for i, box in enumerate(boxes):
            if keep[i]:
                continue
            deadline.check()
            pad = int(VERIFY_MARGIN * max(box[2] - box[0], box[3] - box[1]))
            keep[i] = checker.text_regions(crop_box(image, box.tolist(), pad)) > 0
        return keep

    @staticmethod
    def refine(image: np.ndarray, boxes: np.ndarray, scores: np.ndarray,
               deadline: Deadline | None = None
               ) -> tuple[np.ndarray, np.ndarray, list[inkmask.Ink | None]]:
        """Each detected box → the stamp's whole impression (:func:`api.inkmask.refine`);
        a box too faint to tell stays as detected, with ink ``None``. Refined boxes that now
        cover the same stamp are merged by greedy NMS (IoU above ``stampdet.NMS_IOU``),
        unless their detector boxes were apart (IoU below :data:`SEPARATE_IOU`): then the
        weaker is a second stamp whose ink touches the first, and it keeps its detector box
        (ink ``None``). Returns boxes ``(M, 4)``, scores ``(M,)`` and inks, best first."""
        _, deadline = tracking(None, deadline)
        inks: list[inkmask.Ink | None] = []
        refined = boxes.copy()
        for i, box in enumerate(boxes):
            deadline.check()
            ink = inkmask.refine(image, box)
            inks.append(ink)
            if ink is not None:
                refined[i] = ink.box
        kept: list[int] = []
        for i in np.argsort(-scores, kind="stable").tolist():
            clash = [j for j in kept if box_iou(refined[i].tolist(), refined[j].tolist())
                     > stampdet.NMS_IOU]
            if clash and all(box_iou(boxes[i].tolist(), boxes[j].tolist()) < SEPARATE_IOU
                             for j in clash):
                refined[i], inks[i] = boxes[i], None
                clash = [j for j in kept if box_iou(refined[i].tolist(), refined[j].tolist())
                         > stampdet.NMS_IOU]
            if not clash:
                kept.append(i)
        return refined[kept], scores[kept], [inks[i] for i in kept]

    def find(self, image: np.ndarray, min_score: float, verify: bool = VERIFY_TEXT,
             refine: bool = True, timings: Timings | None = None,
             deadline: Deadline | None = None, document_check: bool = DOCUMENT_CHECK,
             document: float | None = None, orient: bool = orientation.ORIENT) -> Found:
        """With ``document_check``, nothing on a photo: a page whose document score
        (``document``, computed by :meth:`document_score` when ``None``) is below
        :data:`MIN_DOCUMENT` and whose paper share is below :data:`PHOTO_MAX_PAPER`; with
        ``orient``, a page scanned sideways or upside down
        (:func:`api.orientation.page_turns`) searched turned upright; then :meth:`detect`,
        :meth:`refine` when ``refine``, and :meth:`verify` when ``verify``: the stamps of an
        RGB page (:class:`Found`; inks all ``None`` without ``refine``)."""
        timings, deadline = tracking(timings, deadline)
        if document_check:
            if document is None:
                document = self._timed_document_score(image, timings)
            if document < MIN_DOCUMENT and inkmask.paper_share(image) < PHOTO_MAX_PAPER:
                return Found(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), [])
        if orient:
            with timings.stage("orient"):
                turns = orientation.page_turns(image, self.registry.get(ppocr.SPEC))
            if turns:
                boxes, scores, inks, _ = self.find(orientation.upright(image, turns), min_score,
                                                   verify, refine, timings, deadline,
                                                   document_check=False, orient=False)
                back = orientation.boxes_back(boxes, turns, image.shape)
                for box, ink in zip(back, inks):
                    if ink is not None:
                        ink.box = box.copy()
                        ink.mask = orientation.mask_back(ink.mask, turns)
                return Found(back, scores, inks, turns)
        with timings.stage("detect"):
            boxes, scores = self.detect(image, min_score)
        inks: list[inkmask.Ink | None] = [None] * len(boxes)
        if refine and len(boxes):
            with timings.stage("refine"):
                boxes, scores, inks = self.refine(image, boxes, scores, deadline)
        if verify and len(boxes):
            with timings.stage("verify"):
                keep = self.verify(image, boxes, scores, deadline)
            boxes, scores = boxes[keep], scores[keep]
            inks = [ink for ink, k in zip(inks, keep) if k]
        return Found(boxes, scores, inks)

    def embed(self, crops: list[np.ndarray]) -> np.ndarray:
        """RGB crops → ``(N, 1280)`` float32 unit embeddings (see :mod:`api.engines.stampembed`)."""
        embedder = self.registry.get(stampembed.SPEC)
        return embedder.embed(crops)

    def __call__(self, pages: list[Page], min_score: float = stampdet.MIN_SCORE,
                 embed: bool = True, verify: bool = VERIFY_TEXT, refine: bool = True,
                 timings: Timings | None = None,
                 deadline: Deadline | None = None,
                 document_check: bool = DOCUMENT_CHECK,
                 orient: bool = orientation.ORIENT) -> StampsResult:
        """Find the stamps of every page (:meth:`find`; each page's document score is
        reported when ``document_check``), then embed all crops in one batch when
        ``embed``."""
        timings, deadline = tracking(timings, deadline)
        stamps: list[Stamp] = []
        crops: list[np.ndarray] = []
        sizes = []
        for page in pages:
            deadline.check()
            document = self._timed_document_score(page.image, timings) if document_check else None
            boxes, scores, inks, turns = self.find(page.image, min_score, verify, refine,
                                                   timings, deadline, document_check, document,
                                                   orient)
            sizes.append((page.page, page.image.shape[1], page.image.shape[0], document, turns))
            for box, score, ink in zip(boxes, scores, inks):
                stamps.append(Stamp(page.page, box.tolist(), float(score), ink))
                crops.append(crop_box(page.image, box.tolist()))
        similarity = np.zeros((0, 0), np.float32)
        if embed and stamps:
            deadline.check()
            with timings.stage("embed"):
                vectors = self.embed(crops)
            for stamp, vector in zip(stamps, vectors):
                stamp.embedding = vector
            with timings.stage("compare"):
                similarity = cosine_matrix(vectors)
        return StampsResult(stamps, similarity, sizes)

    def compare(self, pages: list[Page], reference: np.ndarray,
                min_score: float = stampdet.MIN_SCORE, verify: bool = VERIFY_TEXT,
                timings: Timings | None = None,
                deadline: Deadline | None = None,
                document_check: bool = DOCUMENT_CHECK,
                orient: bool = orientation.ORIENT) -> tuple[StampsResult, np.ndarray]:
        """Detect and embed the stamps of ``pages`` and score each against a reference stamp
        crop (RGB; never document-checked: it is a crop). Returns the result and ``(N,)``
        float32 cosine similarities to it."""
        timings, deadline = tracking(timings, deadline)
        result = self(pages, min_score=min_score, embed=True, verify=verify, timings=timings,
                      deadline=deadline, document_check=document_check, orient=orient)
        with timings.stage("embed"):
            ref = self.embed([reference])[0]
        with timings.stage("compare"):
            if not result.stamps:
                return result, np.zeros(0, np.float32)
            vectors = np.stack([s.embedding for s in result.stamps])
            return result, np.clip(vectors @ ref, -1.0, 1.0).astype(np.float32)


def remove_stamps(image: np.ndarray, stamps: list[Stamp]) -> np.ndarray:
    """The RGB page with the ink of ``stamps`` (those with an ``ink``) replaced by paper
    colour (:func:`api.inkmask.remove`): seal removal before OCR. ``(H, W, 3)`` uint8."""
    return inkmask.remove(image, [s.ink for s in stamps if s.ink is not None])
