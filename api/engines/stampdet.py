"""Stamp detection: YOLOX-Nano fine-tuned on real stamped pages (one class, ``stamp``).

Models: ``stamps/stamp_det.onnx`` and ``stamps/stamp_det_added.onnx`` (the same recipe with
the stamps the pool's labels miss), run on each page and fused (:class:`StampEnsemble`,
figures in ``models/stamps/ensemble.json``); each trained by ``training/train_stamps.py``
(``make train-stamps``, ``make train-stamps-added``) from Megvii's COCO YOLOX-Nano weights
(``cut/yolox_nano.onnx``, Apache-2.0; Ge et al., "YOLOX: Exceeding YOLO Series in 2021") on
the real train split of the stamp pool (``../shared/data/train/stamps``) plus synthetic
pages from ``training/synth/``. Each one's card (config, seed, valid-split and real-scan
recall/precision) is the ``.json`` of the same name beside it.

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
from ..vision import box_iou, clip_boxes, letterbox, nms
from .onnx import OnnxEngine
from .yolox import decode_boxes, grids

MODEL = "stamps/stamp_det.onnx"
#: The second member: the same recipe and seed trained with the stamps the pool's labels
#: miss (``training/stamps_added.json``); card ``models/stamps/stamp_det_added.json``.
MODEL_ADDED = "stamps/stamp_det_added.onnx"
MEMBERS = (MODEL, MODEL_ADDED)
#: Boxes of different members overlapping at least this (IoU) are one stamp when fused.
FUSE_IOU = 0.55
#: Each member's boxes are decoded down to this score before fusion (a stamp one member
#: scores 0.25 and the other 0.5 fuses to 0.375).
FUSE_FLOOR = 0.1
INPUT_SIZE = 512  # pixels: the shipped model's letterbox side (others are read from the model)
PAD_VALUE = 114  # YOLOX's letterbox grey
MIN_SIDE = 4  # pixels: boxes thinner than this after clipping are dropped
NMS_IOU = 0.45
MAX_DET = 50
#: Default score threshold of the fused scores: the best-F1 threshold on the valid split,
#: from ``models/stamps/ensemble.json`` (``min_score``).
MIN_SCORE = 0.35


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


def fuse(results: list[tuple[np.ndarray, np.ndarray]], iou: float = FUSE_IOU
         ) -> tuple[np.ndarray, np.ndarray]:
    """Fuse the detections of ``M`` models, as weighted boxes fusion does (Solovyev et al.,
    2021): boxes ``(N_m, 4)`` xyxy with scores ``(N_m,)`` per model. Best first, a box joins
    the first cluster whose first box it overlaps at least ``iou`` and that holds no box of
    its model yet, else starts one. A cluster's box is the score-weighted mean of its boxes,
    its score the sum of their scores / ``M`` (a stamp only one model sees scores half).
    Returns boxes ``(K, 4)`` float32 and scores ``(K,)`` float32 after NMS, best first."""
    items = sorted(((float(s), m, b) for m, (boxes, scores) in enumerate(results)
                    for b, s in zip(boxes, scores)), key=lambda x: -x[0])
    clusters: list[list[tuple[float, int, np.ndarray]]] = []
    for item in items:
        for cluster in clusters:
            if (item[1] not in {m for _, m, _ in cluster}
                    and box_iou(cluster[0][2].tolist(), item[2].tolist()) >= iou):
                cluster.append(item)
                break
        else:
            clusters.append([item])
    if not clusters:
        return np.zeros((0, 4), np.float32), np.zeros((0,), np.float32)
    weights = [np.array([s for s, _, _ in c]) for c in clusters]
    boxes = np.array([(np.stack([b for _, _, b in c]) * w[:, None]).sum(0) / w.sum()
                      for c, w in zip(clusters, weights)], np.float32)
    scores = np.array([w.sum() / len(results) for w in weights], np.float32)
    keep = nms(boxes, scores, NMS_IOU)[:MAX_DET]
    return boxes[keep], scores[keep]


class StampEnsemble:
    """The members' detectors (:data:`MEMBERS`, each a :class:`StampDetector`), run on the
    same page and fused (:func:`fuse`). On the pool's valid split the pair beats either
    member (``models/stamps/ensemble.json``, docs/jobs/stamps.md). ``paths`` the ONNX files,
    ``threads`` ORT intra-op threads each."""

    def __init__(self, paths: list[Path | bytes], threads: int):
        self.members = [StampDetector(p, threads) for p in paths]

    def __call__(self, image: np.ndarray, min_score: float = MIN_SCORE):
        """Stamps in an RGB ``(H, W, 3)`` uint8 page: boxes ``(N, 4)`` float32 xyxy pixels and
        fused scores ``(N,)`` ≥ ``min_score``, best first."""
        floor = min(FUSE_FLOOR, min_score)
        boxes, scores = fuse([member(image, floor) for member in self.members])
        keep = scores >= min_score
        return boxes[keep], scores[keep]


SPEC = ModelSpec(
    name="stamp-det",
    task="stamps",
    summary="Prism's stamp/seal detector: two YOLOX-Nano models fine-tuned on real stamped "
            "pages, fused",
    files=MEMBERS,
    licence="Apache-2.0 weights base (Megvii YOLOX-Nano); fine-tuned by this project on "
            "CC BY 4.0 and MIT data (../shared/data/train/SOURCES.md)",
    source="training/train_stamps.py from cut/yolox_nano.onnx; committed in models/stamps/",
    factory=lambda paths, settings: StampEnsemble([paths[m] for m in MEMBERS],
                                                  settings.intra_op_threads),
    labels=("stamp",),
    input_size="512×512, page letterboxed",
    memory_mb=60,
    accuracy="see models/stamps/ensemble.json (recall/precision on the valid split and real "
             "scans; each member's card beside it)",
)
