"""Stamp detection: Prism's own small CenterNet-style detector, trained on synthetic pages.

Model: ``stamps/stamp_det.onnx``, trained by ``training/train_stamps.py`` (``make
train-stamps``) on pages from ``training/synth.py``; its card (config, seed, measured
accuracy) is ``models/stamps/stamp_det.json`` beside it. Design: a plain conv-BN-ReLU
backbone to stride 32, a top-down FPN fused at stride 8, and a CenterNet head (Zhou et al.,
"Objects as Points", 2019): per stride-8 cell a centre heat map (sigmoid), log box size and
sub-cell offset. Input ``image`` float32 ``[1, 3, S, S]``: the page letterboxed (longer
side S, padded right/bottom with white), RGB scaled to 0–1; S is read from the model
(:data:`INPUT_SIZE` = 512 for the shipped one). Output ``maps`` float32 ``[1, 5, S/8, S/8]``:
channel 0 centre score 0–1, 1–2 ``log(w / 8)``, ``log(h / 8)``, 3–4 the centre offset
within the cell (cells).
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np

from ..registry import ModelSpec
from ..vision import clip_boxes, letterbox, nms
from .onnx import cpu_session

MODEL = "stamps/stamp_det.onnx"
INPUT_SIZE = 512  # pixels: the shipped model's letterbox side (others are read from the model)
STRIDE = 8
PAD_VALUE = 255
MIN_SIDE = 4  # pixels: boxes thinner than this after clipping are dropped


def preprocess(image: np.ndarray, size: int = INPUT_SIZE) -> tuple[np.ndarray, float]:
    """``(H, W, 3)`` uint8 RGB → (``[1, 3, size, size]`` float32 0–1 tensor, scale).

    Pages shrink with area averaging, as the training pages did (bilinear aliases the thin
    strokes of a 300 dpi scan reduced 7×).

    ``scale`` is network pixels per image pixel (letterbox; divide network boxes by it).
    """
    canvas, scale = letterbox(image, size, PAD_VALUE, area=True)
    x = canvas.astype(np.float32).transpose(2, 0, 1)[None] / 255.0
    return np.ascontiguousarray(x), scale


def decode(maps: np.ndarray, scale: float, width: int, height: int, min_score: float,
           iou: float = 0.4, max_det: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Turn one ``[5, S/8, S/8]`` output into boxes.

    Peaks are cells whose score is the maximum of their 3×3 neighbourhood and ≥
    ``min_score``; boxes under :data:`MIN_SIDE` pixels once clipped are dropped; overlapping peaks are then suppressed with NMS at ``iou``. Returns
    ``boxes`` float32 ``(N, 4)`` xyxy pixels of the original image (``width`` × ``height``)
    and ``scores`` float32 ``(N,)`` 0–1, best first.
    """
    heat = np.ascontiguousarray(maps[0], np.float32)
    hmax = cv2.dilate(heat, np.ones((3, 3), np.uint8))  # 3×3 max filter (CenterNet's max-pool)
    ys, xs = np.nonzero((heat >= hmax) & (heat >= min_score))
    if len(ys) == 0:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
    scores = heat[ys, xs]
    order = np.argsort(-scores)[:max_det * 4]
    ys, xs, scores = ys[order], xs[order], scores[order]
    w = np.exp(np.clip(maps[1, ys, xs], -4, 6)) * STRIDE
    h = np.exp(np.clip(maps[2, ys, xs], -4, 6)) * STRIDE
    cx = (xs + maps[3, ys, xs]) * STRIDE
    cy = (ys + maps[4, ys, xs]) * STRIDE
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1) / scale
    clip_boxes(boxes, width, height)
    sized = ((boxes[:, 2] - boxes[:, 0]) >= MIN_SIDE) & ((boxes[:, 3] - boxes[:, 1]) >= MIN_SIDE)
    boxes, scores = boxes[sized], scores[sized]
    keep = nms(boxes.astype(np.float32), scores.astype(np.float32), iou)[:max_det]
    return boxes[keep].astype(np.float32), scores[keep].astype(np.float32)


class StampDetector:
    """ONNX Runtime wrapper of the stamp detector. Args: ``path`` model; ``threads`` ORT
    intra-op threads. One lock serialises ``run`` on the shared session. ``input_size`` is
    the model's letterbox side in pixels, read from its ``image`` input."""

    def __init__(self, path: Path | bytes, threads: int):
        self.session = cpu_session(path, threads)
        self._lock = threading.Lock()
        side = self.session.get_inputs()[0].shape[-1]
        self.input_size = side if isinstance(side, int) else INPUT_SIZE

    def infer(self, tensor: np.ndarray) -> np.ndarray:
        """``[1, 3, S, S]`` float32 → ``[5, S/8, S/8]`` float32 maps."""
        with self._lock:
            return self.session.run(["maps"], {"image": tensor})[0][0]

    def __call__(self, image: np.ndarray, min_score: float = 0.35):
        """Detect stamps in an RGB ``(H, W, 3)`` uint8 page; see :func:`decode`."""
        tensor, scale = preprocess(image, self.input_size)
        return decode(self.infer(tensor), scale, image.shape[1], image.shape[0], min_score)


SPEC = ModelSpec(
    name="stamp-det",
    task="stamps",
    summary="Prism's stamp/seal detector (CenterNet-style, trained on synthetic pages)",
    files=(MODEL,),
    licence="AGPL-3.0 (trained by this project)",
    source="training/train_stamps.py on training/synth.py pages; committed in models/stamps/",
    factory=lambda paths, settings: StampDetector(paths[MODEL], settings.intra_op_threads),
    labels=("stamp",),
    input_size="512×512, page letterboxed",
    memory_mb=20,
    accuracy="see models/stamps/stamp_det.json (recall/precision on real scans)",
)
