"""Stamp detection: YOLOX-Nano fine-tuned on real stamped pages (one class, ``stamp``).

Model: ``stamps/stamp_det.onnx``, trained by ``training/train_stamps.py`` (``make
train-stamps``) from Megvii's COCO YOLOX-Nano weights (``cut/yolox_nano.onnx``, Apache-2.0;
Ge et al., "YOLOX: Exceeding YOLO Series in 2021") on the real train split of the stamp
pool (``../shared/data/train/stamps``) plus synthetic pages from ``training/synth/``. Its
card (config, seed, valid-split and real-scan recall/precision) is
``models/stamps/stamp_det.json`` beside it.

Input ``images`` float32 ``[1, 3, S, S]``: the page letterboxed (longer side S, padded
right/bottom with 114), **BGR 0–255** as the COCO weights were trained; S is read from the
model (:data:`INPUT_SIZE` = 512 for the shipped one). Output ``output`` float32
``[1, A, 6]`` over strides 8/16/32 (A = 5376 for 512): box regression ``(x, y, w, h)``
decoded as in :func:`api.engines.yolox.decode_boxes`, objectness 0–1 and the stamp class
probability 0–1; score = objectness × class probability.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from ..registry import ModelSpec
from ..vision import clip_boxes, letterbox, nms
from .onnx import OnnxEngine
from .yolox import decode_boxes, grids

MODEL = "stamps/stamp_det.onnx"
INPUT_SIZE = 512  # pixels: the shipped model's letterbox side (others are read from the model)
PAD_VALUE = 114  # YOLOX's letterbox grey
MIN_SIDE = 4  # pixels: boxes thinner than this after clipping are dropped
NMS_IOU = 0.45
MAX_DET = 50
#: Default score threshold: the best-F1 threshold on the valid split, from the model card
#: ``models/stamps/stamp_det.json`` (``min_score``).
MIN_SCORE = 0.3


def preprocess(image: np.ndarray, size: int = INPUT_SIZE) -> tuple[np.ndarray, float]:
    """``(H, W, 3)`` uint8 RGB → (``[1, 3, size, size]`` float32 BGR 0–255 tensor, scale).

    Pages shrink with area averaging (bilinear aliases the thin strokes of a 300 dpi scan
    reduced 7×). ``scale`` is network pixels per image pixel (divide network boxes by it).
    """
    canvas, scale = letterbox(image[:, :, ::-1], size, PAD_VALUE, area=True)
    x = canvas.astype(np.float32).transpose(2, 0, 1)[None]
    return np.ascontiguousarray(x), scale


def decode(out: np.ndarray, scale: float, width: int, height: int, min_score: float,
           iou: float = NMS_IOU, max_det: int = MAX_DET) -> tuple[np.ndarray, np.ndarray]:
    """Turn one ``[A, 6]`` output of an ``S``² input (A = (S/8)² + (S/16)² + (S/32)²) into
    boxes: score = objectness × class ≥ ``min_score``, clipped to the ``width`` × ``height``
    image, boxes under :data:`MIN_SIDE` pixels dropped, then NMS at ``iou``. Returns
    ``boxes`` float32 ``(N, 4)`` xyxy pixels and ``scores`` float32 ``(N,)`` 0–1, best first.

    Raises ``ValueError`` when ``A`` fits no square input.
    """
    size = _side(len(out))
    grid, stride = _grids(size)
    scores = out[:, 4] * out[:, 5]
    keep = scores >= min_score
    if not keep.any():
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
    boxes = decode_boxes(out[keep], grid[keep], stride[keep], scale)
    scores = scores[keep]
    clip_boxes(boxes, width, height)
    sized = ((boxes[:, 2] - boxes[:, 0]) >= MIN_SIDE) & ((boxes[:, 3] - boxes[:, 1]) >= MIN_SIDE)
    boxes, scores = boxes[sized].astype(np.float32), scores[sized].astype(np.float32)
    order = nms(boxes, scores, iou)[:max_det]
    return boxes[order], scores[order]


@lru_cache(maxsize=4)
def _grids(size: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`api.engines.yolox.grids`, built once per input size (read-only arrays)."""
    grid, stride = grids(size)
    grid.flags.writeable = stride.flags.writeable = False
    return grid, stride


def _side(anchors: int) -> int:
    """Input side S of a YOLOX output with ``anchors`` rows (S a multiple of 32)."""
    cells = round((anchors / (1 + 1 / 4 + 1 / 16)) ** 0.5)
    if cells * cells * 21 != anchors * 16 or cells % 4:
        raise ValueError(f"{anchors} anchors do not come from a square YOLOX input")
    return cells * 8


class StampDetector(OnnxEngine):
    """ONNX Runtime wrapper of the stamp detector. Args: ``path`` model; ``threads`` ORT
    intra-op threads. One lock serialises ``run`` on the shared session. ``input_size`` is
    the model's letterbox side in pixels, read from its ``images`` input."""

    def __init__(self, path: Path | bytes, threads: int):
        super().__init__(path, threads)
        side = self.session.get_inputs()[0].shape[-1]
        self.input_size = side if isinstance(side, int) else INPUT_SIZE

    def infer(self, tensor: np.ndarray) -> np.ndarray:
        """``[1, 3, S, S]`` float32 → ``[A, 6]`` float32 (see the module docstring)."""
        return self.run(tensor)[0][0]

    def __call__(self, image: np.ndarray, min_score: float = MIN_SCORE):
        """Detect stamps in an RGB ``(H, W, 3)`` uint8 page; see :func:`decode`."""
        tensor, scale = preprocess(image, self.input_size)
        return decode(self.infer(tensor), scale, image.shape[1], image.shape[0], min_score)


SPEC = ModelSpec(
    name="stamp-det",
    task="stamps",
    summary="Prism's stamp/seal detector (YOLOX-Nano fine-tuned on real stamped pages)",
    files=(MODEL,),
    licence="Apache-2.0 weights base (Megvii YOLOX-Nano); fine-tuned by this project on "
            "CC BY 4.0 and MIT data (../shared/data/train/SOURCES.md)",
    source="training/train_stamps.py from cut/yolox_nano.onnx; committed in models/stamps/",
    factory=lambda paths, settings: StampDetector(paths[MODEL], settings.intra_op_threads),
    labels=("stamp",),
    input_size="512×512, page letterboxed",
    memory_mb=30,
    accuracy="see models/stamps/stamp_det.json (recall/precision on the valid split and real scans)",
)
