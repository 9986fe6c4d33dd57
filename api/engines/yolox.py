"""COCO-80 object detection with YOLOX-Nano (Megvii, Apache-2.0), ONNX.

Input ``images`` float32 ``[1, 3, 416, 416]``: the photo letterboxed (pad 114), BGR, 0–255,
not normalised. Output ``[1, 3549, 85]`` over strides 8/16/32: per cell ``(x, y, w, h)``
decoded as ``xy = (p + grid) · s``, ``wh = exp(p) · s``, then objectness and 80 class
probabilities; score = objectness × class probability, class-wise NMS (YOLOX demo rule).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..registry import ModelSpec
from ..vision import clip_boxes, letterbox, nms
from .onnx import OnnxEngine

MODEL = "cut/yolox_nano.onnx"
INPUT = 416
#: Photos with a longer side from this many pixels are also detected in tiles
#: (:func:`tile_boxes`): at 416² a 1080-px street photo's distant people are 10 px tall.
TILE_FROM = 832
TILE_OVERLAP = 0.15
#: A tile's detection is kept only when its longer side is under this share of the tile's,
#: and less than :data:`TILE_INSIDE` of it lies inside a whole-image detection.
TILE_MAX_OBJECT = 0.4
TILE_INSIDE = 0.5
#: Class-aware NMS IoU: the middle of the 0.45–0.6 plateau where ``scripts/eval_cut_counts.py``
#: counts right on 16 of 20 photos, 18 with :data:`MIRROR_MISSING` (0.4 merges two overlapping
#: horses; 0.65 doubles a sink).
NMS_IOU = 0.5
#: A requested class the first pass does not find is looked for again in the mirrored photo
#: (horizontal flip, the test-time augmentation of YOLOv5's ``augment``): YOLOX-Nano scores
#: ObjectCut's spoon 0.09 but its mirror image 0.30, and the sheep-like dog 0.02 but 0.30.
#: Only missing classes are looked for, so objects already found get no second, shifted box.
MIRROR_MISSING = True
COCO_CLASSES = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog",
    "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella",
    "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite",
    "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
    "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich",
    "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote",
    "keyboard", "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book",
    "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush")


def grids(size: int) -> tuple[np.ndarray, np.ndarray]:
    """YOLOX anchor points of a ``size``² input: ``grid`` float32 ``(A, 2)`` cell (x, y) and
    ``stride`` float32 ``(A, 1)`` pixels, strides 8, 16, 32 in the model's output order
    (A = 3549 for 416)."""
    cells, strides = [], []
    for stride in (8, 16, 32):
        n = size // stride
        ys, xs = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        cells.append(np.stack([xs.ravel(), ys.ravel()], 1))
        strides.append(np.full((n * n, 1), stride))
    return np.concatenate(cells).astype(np.float32), np.concatenate(strides).astype(np.float32)


def decode_boxes(out: np.ndarray, grid: np.ndarray, stride: np.ndarray,
                 scale: float) -> np.ndarray:
    """YOLOX box regression ``out[:, :4]`` ``(A, ≥4)`` → xyxy pixels of the original image:
    ``xy = (p + grid) · s``, ``wh = exp(p) · s``, divided by the letterbox ``scale``."""
    xy = (out[:, :2] + grid) * stride
    wh = np.exp(np.clip(out[:, 2:4], -10, 10)) * stride
    return np.concatenate([xy - wh / 2, xy + wh / 2], 1) / scale


class YoloxEngine(OnnxEngine):
    """YOLOX-Nano. Args: ``path`` model file; ``threads`` ORT threads."""

    def __init__(self, path: Path, threads: int):
        super().__init__(path, threads)
        self._grid, self._stride = grids(INPUT)

    def _candidates(self, image: np.ndarray, min_score: float, class_ids):
        """One 416² pass over ``image``: unsuppressed ``(boxes, scores, ids)`` in its pixels."""
        canvas, scale = letterbox(image[:, :, ::-1], INPUT)  # the model takes BGR
        x = np.ascontiguousarray(canvas.transpose(2, 0, 1)[None], dtype=np.float32)
        out = self.run(x)[0][0]
        boxes = decode_boxes(out, self._grid, self._stride, scale)
        h, w = image.shape[:2]
        clip_boxes(boxes, w, h)
        scores = out[:, 4:5] * out[:, 5:]
        if class_ids is None:
            cells = np.arange(len(scores))
            ids = scores.argmax(1)
        else:
            cells = np.repeat(np.arange(len(scores)), len(class_ids))
            ids = np.tile(np.asarray(class_ids, int), len(scores))
        best = scores[cells, ids]
        keep = best >= min_score
        return boxes[cells[keep]], best[keep], ids[keep]

    def __call__(self, image: np.ndarray, min_score: float = 0.3, iou: float = NMS_IOU,
                 class_ids: list[int] | None = None, tiles: bool = True,
                 mirror: bool = MIRROR_MISSING):
        """Detect objects in an RGB photo ``(H, W, 3)`` uint8.

        Each cell votes for its best class; with ``class_ids`` it votes for each of those
        classes instead (score = objectness × that class), so an object the nano model ranks
        "sheep" 0.71 can still be found as the "dog" asked for, at its own dog score.
        With ``tiles`` and a photo whose longer side is at least :data:`TILE_FROM`, the
        2 × 2 overlapping tiles of :func:`tile_boxes` are detected too (small objects get
        up to twice the pixels) and merged with the whole-image pass. A tile's box is
        dropped when it touches the tile's inner edge (the object is cut there), when it is
        large (the whole-image pass sees those; in a tile they are parts of bigger things),
        or when :data:`TILE_INSIDE` of it lies in a whole-image box (a part of a found
        object: a person's head, a raven's wing read as a dog); the rest go through the
        same class-aware NMS. With ``mirror`` and ``class_ids``, the classes that are still
        not found are looked for once more in the horizontally mirrored photo (same tiles
        rule), and those boxes are mirrored back (:data:`MIRROR_MISSING`).
        Returns ``boxes`` float32 ``(N, 4)`` xyxy pixels of ``image``, ``scores`` ``(N,)``
        0–1 and ``class_ids`` int ``(N,)`` indexing :data:`COCO_CLASSES`, best first.
        """
        boxes, best, ids = self._detect(image, min_score, iou, class_ids, tiles)
        missing = [c for c in class_ids or () if not (ids == c).any()]
        if not (mirror and missing):
            return boxes, best, ids
        w = image.shape[1]
        more, more_best, more_ids = self._detect(np.ascontiguousarray(image[:, ::-1]),
                                                 min_score, iou, missing, tiles)
        more = np.stack([w - more[:, 2], more[:, 1], w - more[:, 0], more[:, 3]], 1)
        boxes = np.concatenate([boxes, more])
        best = np.concatenate([best, more_best])
        ids = np.concatenate([ids, more_ids])
        order = np.argsort(-best, kind="stable")
        return boxes[order], best[order], ids[order]

    def _detect(self, image: np.ndarray, min_score: float, iou: float, class_ids, tiles: bool):
        """The whole-image pass, the tiles' passes and class-aware NMS of :meth:`__call__`."""
        h, w = image.shape[:2]
        parts = [self._candidates(image, min_score, class_ids)]
        if tiles and max(h, w) >= TILE_FROM:
            for x1, y1, x2, y2 in tile_boxes(w, h):
                boxes, best, ids = self._candidates(image[y1:y2, x1:x2], min_score, class_ids)
                boxes = boxes + np.array([x1, y1, x1, y1], np.float32)
                edge = 2.0
                cut = (((boxes[:, 0] <= x1 + edge) & (x1 > 0))
                       | ((boxes[:, 1] <= y1 + edge) & (y1 > 0))
                       | ((boxes[:, 2] >= x2 - edge) & (x2 < w))
                       | ((boxes[:, 3] >= y2 - edge) & (y2 < h)))
                big = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) \
                    >= TILE_MAX_OBJECT * max(x2 - x1, y2 - y1)
                keep = ~cut & ~big & ~_inside_any(boxes, parts[0][0], TILE_INSIDE)
                parts.append((boxes[keep], best[keep], ids[keep]))
        boxes = np.concatenate([p[0] for p in parts]).reshape(-1, 4)
        best = np.concatenate([p[1] for p in parts])
        ids = np.concatenate([p[2] for p in parts]).astype(int)
        # class-aware NMS: offset each class far apart so boxes of different classes never meet
        offsets = ids[:, None].astype(np.float32) * (max(h, w) + 1)
        order = nms(boxes + offsets, best, iou)
        return boxes[order].astype(np.float32), best[order].astype(np.float32), ids[order]


def _inside_any(boxes: np.ndarray, outer: np.ndarray, share: float) -> np.ndarray:
    """Per row of ``boxes`` ``(N, 4)``: whether at least ``share`` of its area lies inside
    one of ``outer`` ``(M, 4)`` (xyxy) that is at least twice as large (a larger object it
    is part of; a box of about its own size is the same object, left to NMS)."""
    if len(boxes) == 0 or len(outer) == 0:
        return np.zeros(len(boxes), bool)
    ix = np.clip(np.minimum(boxes[:, None, 2], outer[None, :, 2])
                 - np.maximum(boxes[:, None, 0], outer[None, :, 0]), 0, None)
    iy = np.clip(np.minimum(boxes[:, None, 3], outer[None, :, 3])
                 - np.maximum(boxes[:, None, 1], outer[None, :, 1]), 0, None)
    area = np.maximum(1e-6, (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))
    outer_area = (outer[:, 2] - outer[:, 0]) * (outer[:, 3] - outer[:, 1])
    larger = outer_area[None, :] >= 2 * area[:, None]
    return (((ix * iy) / area[:, None] >= share) & larger).any(1)


def tile_boxes(w: int, h: int, overlap: float = TILE_OVERLAP) -> list[tuple[int, int, int, int]]:
    """The 2 × 2 grid of overlapping tiles (xyxy integer pixels) over a ``w × h`` image:
    each tile is half the image plus ``overlap`` of its side, so an object up to that size
    lies whole in some tile."""
    tw, th = int(np.ceil(w * (0.5 + overlap))), int(np.ceil(h * (0.5 + overlap)))
    return [(x, y, min(w, x + tw), min(h, y + th)) for y in (0, h - th) for x in (0, w - tw)]


SPEC = ModelSpec(
    name="detect-yolox-nano",
    task="cut",
    summary="YOLOX-Nano COCO-80 object detector",
    files=(MODEL,),
    licence="Apache-2.0 (inferred: Megvii's official export)",
    source="Megvii YOLOX-Nano ONNX, from the mirror folder (../shared/models/cut)",
    factory=lambda paths, settings: YoloxEngine(paths[MODEL], settings.intra_op_threads),
    labels=COCO_CLASSES,
    input_size="416×416 letterbox",
    memory_mb=40,
    accuracy="Megvii reports COCO val AP 25.8 for YOLOX-Nano",
)
