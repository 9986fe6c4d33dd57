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

    def __call__(self, image: np.ndarray, min_score: float = 0.3, iou: float = 0.45,
                 class_ids: list[int] | None = None):
        """Detect objects in an RGB photo ``(H, W, 3)`` uint8.

        Each cell votes for its best class; with ``class_ids`` it votes for each of those
        classes instead (score = objectness × that class), so an object the nano model ranks
        "sheep" 0.71 can still be found as the "dog" asked for, at its own dog score.
        Returns ``boxes`` float32 ``(N, 4)`` xyxy pixels of ``image``, ``scores`` ``(N,)``
        0–1 and ``class_ids`` int ``(N,)`` indexing :data:`COCO_CLASSES`, best first.
        """
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
        cells, ids, best = cells[keep], ids[keep], best[keep]
        boxes = boxes[cells]
        # class-aware NMS: offset each class far apart so boxes of different classes never meet
        offsets = ids[:, None].astype(np.float32) * (max(h, w) + 1)
        order = nms(boxes + offsets, best, iou)
        return boxes[order].astype(np.float32), best[order].astype(np.float32), ids[order]


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
