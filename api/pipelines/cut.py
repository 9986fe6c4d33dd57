"""Cut named COCO objects out of a photo: detect (YOLOX-Nano) → matte each box (ISNet) → RGBA.

For every requested object the detector's box is padded by 10 % and matted with ISNet (when
ISNet's salient object is something else — it covers < 5 % of the box — GrabCut seeded with
the box takes over); the matte is kept only inside the object's own box (so a salient neighbour
outside it never
leaks in) and the object's alpha is the union over its instances and classes. The output
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
from .base import Deadline, Detection, Timings

#: Detector score from which an object is cut out (the job default, ObjectCut's 0.25).
MIN_SCORE = 0.25
BOX_PAD = 0.10
#: A matte covering less of its object's box than this is replaced by GrabCut.
MIN_MATTE_SHARE = 0.05


def grabcut(crop: np.ndarray, box: tuple[int, int, int, int], iterations: int = 4) -> np.ndarray:
    """Foreground of ``crop`` inside ``box`` (xyxy in crop pixels) by OpenCV GrabCut
    (Rother et al. 2004) seeded with the rectangle. Returns float32 ``(h, w)`` 0–1, edges
    softened by a 3-px blur."""
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
    """``alpha`` float32 ``(H, W)`` 0–1 over the input image; ``objects`` the instances cut."""

    alpha: np.ndarray
    objects: list[Detection] = field(default_factory=list)

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


class CutPipeline:
    """Args: ``registry`` with ``detect-yolox-nano`` and ``matte-isnet``.
    Raises 400 for unknown classes, 422 when none is found (naming what was seen), 503/504."""

    def __init__(self, registry: Registry):
        self.registry = registry

    def __call__(self, image: np.ndarray, objects: list[str], *, min_score: float = MIN_SCORE,
                 timings: Timings | None = None, deadline: Deadline | None = None) -> CutResult:
        """Cut ``objects`` (COCO names) out of ``image`` ``(H, W, 3)`` uint8 RGB."""
        timings = timings or Timings()
        deadline = deadline or Deadline(None)
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
        alpha = np.zeros((h, w), np.float32)
        matte = self.registry.get(isnet.SPEC)
        result = CutResult(alpha=alpha)
        for box, score, cls in zip(boxes, scores, found):
            deadline.check()
            x1, y1, x2, y2 = box
            px, py = BOX_PAD * (x2 - x1), BOX_PAD * (y2 - y1)
            cx1, cy1 = int(max(0, x1 - px)), int(max(0, y1 - py))
            cx2, cy2 = int(min(w, np.ceil(x2 + px))), int(min(h, np.ceil(y2 + py)))
            if cx2 - cx1 < 2 or cy2 - cy1 < 2:
                continue
            with timings.stage("matte"):
                soft = matte(image[cy1:cy2, cx1:cx2])
            inside = np.zeros_like(soft)
            bx1, by1 = int(max(0, x1 - cx1)), int(max(0, y1 - cy1))
            bx2, by2 = int(np.ceil(x2 - cx1)), int(np.ceil(y2 - cy1))
            inside[by1:by2, bx1:bx2] = 1.0
            if (soft[by1:by2, bx1:bx2] > 0.5).mean() < MIN_MATTE_SHARE:
                # ISNet matted something else (or nothing) in this crop: fall back to GrabCut
                with timings.stage("grabcut"):
                    soft = grabcut(image[cy1:cy2, cx1:cx2], (bx1, by1, bx2, by2))
            region = alpha[cy1:cy2, cx1:cx2]
            np.maximum(region, soft * inside, out=region)
            result.objects.append(Detection(COCO_CLASSES[int(cls)], float(score),
                                            [float(v) for v in box]))
        return result


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
    if max_side and max(out.shape[:2]) > max_side:
        scale = max_side / max(out.shape[:2])
        out = cv2.resize(out, (max(1, round(out.shape[1] * scale)),
                               max(1, round(out.shape[0] * scale))), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(out)
