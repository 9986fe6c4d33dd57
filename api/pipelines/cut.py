"""Cut named COCO objects out of a photo: detect (YOLOX-Nano) → matte each box (ISNet) → RGBA.

For every requested object the detector's box is padded by 10 % and matted with ISNet (when
ISNet's salient object is something else — it covers < 5 % of the box — GrabCut seeded with
the box takes over); the matte is kept only inside the object's own box (so a salient neighbour
outside it never
leaks in) and the object's alpha is the union over its instances and classes. Where the
kept matte runs into the crop's edge inside the image (the box ended at the knees), the crop
is grown on those sides and matted again, within ``PRISM_MAX_MATTES``. The output
keeps the input's size and its pixels: white inside an object stays opaque.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ..engines import isnet, yolox
from ..engines.yolox import COCO_CLASSES
from ..problems import BadRequest, Unprocessable
from ..registry import Registry
from ..vision import fit_within
from .base import Deadline, Detection, Timings, tracking

#: Detector score from which an object is cut out (the job default, ObjectCut's 0.25).
MIN_SCORE = 0.25
BOX_PAD = 0.10
#: A matte covering less than this share of its object's own part of the box (the box less
#: the other detections' boxes) is replaced by GrabCut: ISNet matted something else there.
MIN_MATTE_SHARE = 0.05
#: ... and this share when other detections cover at least :data:`OCCLUDED_SHARE` of the
#: box: in a bus's crop ISNet's salient objects are the people in front of it, and the bus
#: came back as a translucent, holed ghost.
OCCLUDED_MATTE_SHARE = 0.5
OCCLUDED_SHARE = 0.1
#: Padded crops overlapping by this share of the smaller one, and of comparable size (the
#: smaller at least :data:`MERGE_SIZE_RATIO` of the larger), are matted together. A person
#: in front of a bus is not merged into it: in the bus's crop ISNet's salient object is the
#: person, so the bus needs its own.
MERGE_OVERLAP = 0.5
MERGE_SIZE_RATIO = 0.33
#: GrabCut runs on the crop scaled to this longer side at most (it is iterative and slow).
GRABCUT_SIDE = 240
#: An object's kept matte running into its crop's edge (where that edge is not the image's)
#: along at least this share of the side means the object goes on past the crop (legs below
#: a box that ends at the knees): the crop is grown and matted again (:func:`grown_region`).
GROW_TOUCH = 0.15
#: ... by this share of the box's size on each side the matte touches.
GROW_PAD = 0.4
#: The regrown alpha replaces the first only when it adds at most this share of the first
#: one's area: a limb past the box is a fraction of the object, while a matte that doubles
#: has run into a neighbour or the ground.
GROW_MAX_GAIN = 0.6


def grabcut(crop: np.ndarray, box: tuple[int, int, int, int], iterations: int = 4) -> np.ndarray:
    """Foreground of ``crop`` inside ``box`` (xyxy in crop pixels) by OpenCV GrabCut
    (Rother et al. 2004) seeded with the rectangle, run at :data:`GRABCUT_SIDE` px at most.
    Returns float32 ``(h, w)`` 0–1, edges softened by a 3-px blur."""
    h, w = crop.shape[:2]
    scale = min(1.0, GRABCUT_SIDE / max(h, w))
    if scale < 1.0:  # iterative: run it small, return it full size
        small = cv2.resize(crop, (max(1, round(w * scale)), max(1, round(h * scale))),
                           interpolation=cv2.INTER_AREA)
        fg = grabcut(small, tuple(int(v * scale) for v in box), iterations)
        return cv2.resize(fg, (w, h), interpolation=cv2.INTER_LINEAR)
    x1, y1, x2, y2 = box
    mask = np.zeros(crop.shape[:2], np.uint8)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    rect = (x1, y1, max(1, x2 - x1), max(1, y2 - y1))
    cv2.grabCut(np.ascontiguousarray(crop[:, :, ::-1]), mask, rect, bgd, fgd, iterations,
                cv2.GC_INIT_WITH_RECT)
    fg = np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.float32)
    return cv2.GaussianBlur(fg, (3, 3), 0)


@dataclass
class CutResult:
    """``alpha`` float32 ``(H, W)`` 0–1 over the input image; ``objects`` the instances cut;
    ``mattes`` the ISNet calls made; ``capped`` True when some objects shared a whole-image
    matte because the request passed ``PRISM_MAX_MATTES``."""

    alpha: np.ndarray
    objects: list[Detection] = field(default_factory=list)
    mattes: int = 0
    capped: bool = False

    def union_box(self) -> list[int]:
        """xyxy pixel box enclosing every cut object."""
        boxes = np.array([o.box for o in self.objects])
        return [int(boxes[:, 0].min()), int(boxes[:, 1].min()),
                int(np.ceil(boxes[:, 2].max())), int(np.ceil(boxes[:, 3].max()))]


def class_ids(names: list[str]) -> list[int]:
    """COCO class ids for ``names`` (case-insensitive). Raises 400 listing the valid names."""
    lookup = {name: i for i, name in enumerate(COCO_CLASSES)}
    wanted = [n.strip().lower() for n in names if n and n.strip()]
    unknown = [n for n in wanted if n not in lookup]
    if unknown or not wanted:
        raise BadRequest(f"Unknown object class(es) {unknown or names}; valid COCO classes: "
                         + ", ".join(COCO_CLASSES) + ".")
    return sorted({lookup[n] for n in wanted})


@dataclass(frozen=True)
class MattePlan:
    """One ISNet call: ``crop`` xyxy integer pixels of the image, ``members`` indices of the
    detections it serves, ``whole`` whether it is the whole-image matte."""

    crop: tuple[int, int, int, int]
    members: tuple[int, ...]
    whole: bool = False


def _padded(box, w: int, h: int, pad: float | tuple[float, float, float, float] = BOX_PAD
            ) -> tuple[int, int, int, int]:
    """``box`` (xyxy pixels) padded by ``pad`` of its size (one share, or one per side: left,
    top, right, bottom), clipped to the ``w × h`` image, as integer pixels."""
    x1, y1, x2, y2 = box
    left, top, right, bottom = pad if isinstance(pad, tuple) else (pad,) * 4
    bw, bh = x2 - x1, y2 - y1
    return (int(max(0, x1 - left * bw)), int(max(0, y1 - top * bh)),
            int(min(w, np.ceil(x2 + right * bw))), int(min(h, np.ceil(y2 + bottom * bh))))


def _area(b) -> float:
    return max(0, b[2] - b[0]) * max(0, b[3] - b[1])


def _union(a, b) -> tuple[int, int, int, int]:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def plan_mattes(boxes: np.ndarray, w: int, h: int, max_mattes: int) -> list[MattePlan]:
    """How to matte ``boxes`` (``(N, 4)`` xyxy pixels) of a ``w × h`` image in at most
    ``max_mattes`` ISNet calls.

    - Each box's padded crop is matted; crops of comparable size that overlap by at least
      :data:`MERGE_OVERLAP` of the smaller one are merged into their union crop (one matte
      for two people side by side, for a rider and a horse).
    - Past ``max_mattes`` crops, the largest ``max_mattes − 1`` keep theirs and the rest
      share one whole-image matte (a cheaper, coarser mask: :attr:`CutResult.capped`).
    Returns the plans, largest crop first.
    """
    if len(boxes) == 0:
        return []
    if max_mattes <= 1:
        return [MattePlan((0, 0, w, h), tuple(range(len(boxes))), whole=True)]
    groups = [(_padded(b, w, h), [i]) for i, b in enumerate(boxes)]
    merged = True
    while merged:
        merged = False
        groups.sort(key=lambda g: -_area(g[0]))
        for a in range(len(groups)):
            for b in range(a + 1, len(groups)):
                ca, cb = groups[a][0], groups[b][0]
                inter = _area((max(ca[0], cb[0]), max(ca[1], cb[1]),
                               min(ca[2], cb[2]), min(ca[3], cb[3])))
                small, large = sorted((_area(ca), _area(cb)))
                if inter >= MERGE_OVERLAP * small and small >= MERGE_SIZE_RATIO * large:
                    groups[a] = (_union(ca, cb), groups[a][1] + groups[b][1])
                    del groups[b]
                    merged = True
                    break
            if merged:
                break
    plans = [MattePlan(crop, tuple(sorted(members))) for crop, members in groups]
    if len(plans) > max_mattes:
        rest = tuple(sorted(i for p in plans[max_mattes - 1:] for i in p.members))
        plans = plans[:max_mattes - 1] + [MattePlan((0, 0, w, h), rest, whole=True)]
    return plans


def object_alpha(soft: np.ndarray, box: tuple[int, int, int, int],
                 region: tuple[int, int, int, int]) -> np.ndarray:
    """One object's alpha from a crop's soft matte ``soft`` ``(h, w)`` float32 0–1: the
    matte inside ``region`` (the object's padded box, crop pixels), limited to the
    connected parts of the foreground (matte > 0.5) that reach into ``box`` (its detector
    box) and a 4-px feather around them, so a salient neighbour in the margin never leaks
    in while a leg or a wheel the box cut off stays. Holes the matte left inside the
    object (translucent panels, low-contrast bodies) are filled opaque. Returns float32
    ``(h, w)`` 0–1, zero outside ``region``."""
    rx1, ry1, rx2, ry2 = region
    part = soft[ry1:ry2, rx1:rx2]
    fg = (part > 0.5).astype(np.uint8)
    out = np.zeros_like(soft)
    if not fg.any():
        return out
    _, labels = cv2.connectedComponents(fg, connectivity=8)
    bx1, by1 = max(0, box[0] - rx1), max(0, box[1] - ry1)
    bx2, by2 = max(bx1 + 1, box[2] - rx1), max(by1 + 1, box[3] - ry1)
    touching = np.unique(labels[by1:by2, bx1:bx2])
    keep = np.isin(labels, touching[touching > 0]).astype(np.uint8)
    # fill holes: what the outside cannot reach through the background is object
    flood = np.pad(1 - keep, 1, constant_values=1)
    cv2.floodFill(flood, None, (0, 0), 2)
    keep = np.maximum(keep, (flood[1:-1, 1:-1] == 1).astype(np.uint8))
    near = cv2.dilate(keep, np.ones((9, 9), np.uint8))
    out[ry1:ry2, rx1:rx2] = np.where(keep > 0, np.maximum(part, 1.0 * keep), part * near)
    return out


def touched_sides(alpha: np.ndarray, region: tuple[int, int, int, int],
                  open_sides: tuple[bool, bool, bool, bool]) -> tuple[bool, bool, bool, bool]:
    """Which sides (left, top, right, bottom) of ``region`` (xyxy in ``alpha``'s pixels) the
    object's matte (``alpha`` > 0.5) runs into along at least :data:`GROW_TOUCH` of their
    length; only sides marked in ``open_sides`` (not the image border) count."""
    x1, y1, x2, y2 = region
    fg = alpha[y1:y2, x1:x2] > 0.5
    if fg.size == 0:
        return (False, False, False, False)
    edges = (fg[:, 0], fg[0, :], fg[:, -1], fg[-1, :])
    return tuple(bool(o and e.mean() >= GROW_TOUCH) for o, e in zip(open_sides, edges))


def grown_region(box, sides: tuple[bool, bool, bool, bool], w: int, h: int
                 ) -> tuple[int, int, int, int]:
    """``box`` (xyxy pixels) padded by :data:`BOX_PAD`, and by :data:`GROW_PAD` of its size
    on each of ``sides`` (left, top, right, bottom), clipped to the ``w × h`` image."""
    return _padded(box, w, h, tuple(GROW_PAD if s else BOX_PAD for s in sides))


class CutPipeline:
    """Args: ``registry`` with ``detect-yolox-nano`` and ``matte-isnet``; ``max_mattes``
    ISNet calls per request at most (``PRISM_MAX_MATTES``; past it objects share a
    whole-image matte and the result says ``capped``).
    Raises 400 for unknown classes, 422 when none is found (naming what was seen), 503/504."""

    def __init__(self, registry: Registry, max_mattes: int | None = None):
        self.registry = registry
        self.max_mattes = max_mattes or registry.settings.max_mattes

    def _matte(self, image: np.ndarray, crop: tuple[int, int, int, int],
               timings: Timings) -> np.ndarray:
        """ISNet's soft matte of ``image``'s ``crop`` (xyxy integer pixels), timed as
        ``matte``; float32 ``(h, w)`` 0–1 of the crop's size."""
        x1, y1, x2, y2 = crop
        with timings.stage("matte"):
            return self.registry.get(isnet.SPEC)(image[y1:y2, x1:x2])

    def __call__(self, image: np.ndarray, objects: list[str], *, min_score: float = MIN_SCORE,
                 timings: Timings | None = None, deadline: Deadline | None = None) -> CutResult:
        """Cut ``objects`` (COCO names) out of ``image`` ``(H, W, 3)`` uint8 RGB:
        :func:`plan_mattes` groups the detections into at most ``max_mattes`` ISNet calls,
        each matted at the size its crop needs; :func:`object_alpha` keeps each object's
        part of its crop's matte."""
        timings, deadline = tracking(timings, deadline)
        ids = class_ids(objects)
        detector = self.registry.get(yolox.SPEC)
        with timings.stage("detect"):
            boxes, scores, found = detector(image, min_score=min_score, class_ids=ids)
        if len(boxes) == 0:
            _, _, seen = detector(image, min_score=min_score)
            names = sorted({COCO_CLASSES[i] for i in seen})
            raise Unprocessable(
                f"None of {', '.join(COCO_CLASSES[i] for i in ids)} found at min_score "
                f"{min_score:g}; the photo shows: {', '.join(names) if names else 'nothing known'}.",
                ext={"seen": names})
        h, w = image.shape[:2]
        plans = plan_mattes(boxes, w, h, self.max_mattes)
        result = CutResult(alpha=np.zeros((h, w), np.float32),
                           capped=any(p.whole for p in plans))  # only the cap makes one
        for k, plan in enumerate(plans):
            deadline.check()
            soft = self._matte(image, plan.crop, timings)
            result.mattes += 1
            later = len(plans) - k - 1  # mattes still planned: a regrown crop must leave room
            for i in plan.members:
                # smaller detections overlapping this one are what may stand in front of it
                others = [boxes[j] for j in range(len(boxes))
                          if j != i and _area(boxes[j]) < _area(boxes[i])]
                self._place(result, image, soft, plan, boxes[i], scores[i], found[i],
                            timings, others=others, later=later)
        return result

    def _regrow(self, result: CutResult, image, alpha, plan: MattePlan, box, region,
                timings: Timings):
        """When ``alpha`` (the object's alpha in ``plan``'s crop) runs into its ``region``'s
        edge inside the image, matte the :func:`grown_region` crop again and return
        ``(crop xyxy, alpha there)`` if it adds at most :data:`GROW_MAX_GAIN` of the area;
        else ``None``."""
        h, w = result.alpha.shape
        cx1, cy1, _, _ = plan.crop
        rx1, ry1, rx2, ry2 = region
        open_sides = (cx1 + rx1 > 0, cy1 + ry1 > 0, cx1 + rx2 < w, cy1 + ry2 < h)
        sides = touched_sides(alpha, region, open_sides)
        if not any(sides):
            return None
        crop = grown_region(box, sides, w, h)
        gx1, gy1, gx2, gy2 = crop
        soft = self._matte(image, crop, timings)
        result.mattes += 1
        galpha = object_alpha(soft, _shift(box, crop), (0, 0, gx2 - gx1, gy2 - gy1))
        before, after = float((alpha > 0.5).sum()), float((galpha > 0.5).sum())
        if before < after <= (1 + GROW_MAX_GAIN) * before:
            return crop, galpha
        return None

    def _place(self, result: CutResult, image, soft, plan: MattePlan, box, score, cls,
               timings: Timings, others, later: int = 0) -> None:
        """Add one detection's alpha (from its plan's matte ``soft``) to ``result``;
        ``others`` the smaller detections' boxes (their area does not count for
        :data:`MIN_MATTE_SHARE`); ``later`` the mattes still planned after this one (a
        regrown crop, :meth:`_regrow`, is matted only within ``max_mattes``)."""
        h, w = result.alpha.shape
        cx1, cy1, cx2, cy2 = plan.crop
        region = _shift(_padded(box, w, h), plan.crop)
        inner = _shift(box, plan.crop)
        alpha = object_alpha(soft, inner, region)
        bx1, by1, bx2, by2 = (int(v) for v in inner)
        if bx2 - bx1 < 2 or by2 - by1 < 2:
            return
        own = np.ones((by2 - by1, bx2 - bx1), bool)
        for other in others:
            ox1, oy1, ox2, oy2 = _shift(other, plan.crop)
            own[max(0, oy1 - by1):max(0, oy2 - by1), max(0, ox1 - bx1):max(0, ox2 - bx1)] = False
        occluded = 1.0 - own.mean()
        if not own.any():
            own[:] = True
        need = OCCLUDED_MATTE_SHARE if occluded >= OCCLUDED_SHARE else MIN_MATTE_SHARE
        if (alpha[by1:by2, bx1:bx2][own] > 0.5).mean() < need:
            # ISNet matted something else (or nothing) here: GrabCut seeded with the box
            rx1, ry1, rx2, ry2 = region
            with timings.stage("grabcut"):
                cut = grabcut(image[cy1 + ry1:cy1 + ry2, cx1 + rx1:cx1 + rx2],
                              (bx1 - rx1, by1 - ry1, bx2 - rx1, by2 - ry1))
            alpha = np.zeros_like(soft)
            alpha[ry1:ry2, rx1:rx2] = cut
        elif result.mattes + later < self.max_mattes:
            grown = self._regrow(result, image, alpha, plan, box, region, timings)
            if grown is not None:
                (gx1, gy1, gx2, gy2), galpha = grown
                target = result.alpha[gy1:gy2, gx1:gx2]
                np.maximum(target, galpha, out=target)
        target = result.alpha[cy1:cy2, cx1:cx2]
        np.maximum(target, alpha, out=target)
        result.objects.append(Detection(COCO_CLASSES[int(cls)], float(score),
                                        [float(v) for v in box]))


def _shift(box, crop) -> tuple[int, int, int, int]:
    """xyxy ``box`` in image pixels → integer pixels of ``crop`` (clipped to it)."""
    cx1, cy1, cx2, cy2 = crop
    return (int(max(0, box[0] - cx1)), int(max(0, box[1] - cy1)),
            int(min(cx2 - cx1, np.ceil(box[2] - cx1))), int(min(cy2 - cy1, np.ceil(box[3] - cy1))))


def compose(image: np.ndarray, result: CutResult, *, white_bg: bool = False,
            crop: bool = False, max_side: int | None = None) -> np.ndarray:
    """The cut-out as RGBA uint8 (soft alpha) or, with ``white_bg``, RGB over white.

    ``crop`` trims to the objects' union box; ``max_side`` scales down so the longer side is
    at most that many pixels.
    """
    alpha = result.alpha
    if white_bg:
        a = alpha[..., None]
        out = (image.astype(np.float32) * a + 255.0 * (1 - a)).round().astype(np.uint8)
    else:
        out = np.dstack([image, (alpha * 255).round().astype(np.uint8)])
    if crop and result.objects:
        x1, y1, x2, y2 = result.union_box()
        out = out[y1:y2, x1:x2]
    if max_side:
        out = fit_within(out, max_side)
    return np.ascontiguousarray(out)
