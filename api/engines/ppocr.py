"""PP-OCRv6 text detection, orientation and recognition via RapidOCR's ONNX components.

Models: PaddleOCR PP-OCRv6 small detector (DB) and recogniser (Chinese + English, CTC) and the
PP-OCR mobile 0/180° line classifier, as shipped in the ``rapidocr==3.10.0`` wheel (Apache-2.0).
RapidOCR's ``TextDetector``/``TextClassifier``/``TextRecognizer`` do the model-specific pre-
and post-processing; Prism gives them explicit model paths (so they never download) and an
explicit CPU ONNX Runtime thread count. RapidOCR keeps per-call state on these objects
(RapidOCR issue #724), so every call holds the engine's lock.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from ..registry import ModelSpec

DET, REC, CLS = ("ocr/PP-OCRv6_det_small.onnx", "ocr/PP-OCRv6_rec_small.onnx",
                 "ocr/ch_ppocr_mobile_v2.0_cls_mobile.onnx")


class PPOCREngine:
    """Loaded detector + classifier + recogniser.

    Args: ``paths`` ``{manifest path: file}`` for DET, REC, CLS; ``threads`` ONNX Runtime
    intra-op threads. Raises ``onnxruntime`` errors when a file is not a valid model.
    """

    def __init__(self, paths: dict[str, Path], threads: int):
        import logging

        from rapidocr.ch_ppocr_cls import TextClassifier
        from rapidocr.ch_ppocr_det import TextDetector
        from rapidocr.ch_ppocr_rec import TextRecognizer
        from rapidocr.main import DEFAULT_CFG_PATH
        from rapidocr.utils.parse_parameters import ParseParams

        logging.getLogger("RapidOCR").setLevel(logging.WARNING)  # its import resets it to INFO
        cfg = ParseParams.load(DEFAULT_CFG_PATH)
        ort_cfg = cfg.EngineConfig.onnxruntime
        ort_cfg.intra_op_num_threads = threads
        ort_cfg.inter_op_num_threads = 1
        for section, key in ((cfg.Det, DET), (cfg.Rec, REC), (cfg.Cls, CLS)):
            section.engine_cfg = ort_cfg
            section.model_path = str(paths[key])
            section.model_root_dir = str(Path(paths[key]).parent)
        cfg.Rec.font_path = None  # only used by RapidOCR's visualiser
        cfg.Det.limit_type = "max"
        self._lock = threading.Lock()
        self.detector = TextDetector(cfg.Det)
        self.classifier = TextClassifier(cfg.Cls)
        self.recognizer = TextRecognizer(cfg.Rec)

    def detect(self, image_bgr: np.ndarray, max_side: int = 960,
               box_thresh: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
        """Text-line quads in an image.

        Args: ``image_bgr`` ``(H, W, 3)`` uint8 BGR; ``max_side`` the detector's input size
        (longest side, pixels, rounded to a multiple of 32); ``box_thresh`` DB box score cut.
        Returns: ``quads`` float32 ``(N, 4, 2)`` pixels of ``image_bgr``, clockwise from
        top-left; ``scores`` float32 ``(N,)`` in 0–1.
        """
        with self._lock:
            self.detector.limit_side_len = int(max_side)
            self.detector.postprocess_op.box_thresh = float(box_thresh)
            out = self.detector(image_bgr)
        if out.boxes is None or len(out.boxes) == 0:
            return np.zeros((0, 4, 2), np.float32), np.zeros((0,), np.float32)
        return np.asarray(out.boxes, np.float32), np.asarray(out.scores, np.float32)

    def orientation(self, crops_bgr: list[np.ndarray]) -> list[tuple[int, float]]:
        """Per-crop rotation ``(0 or 180, score 0–1)`` from the PP-OCR 0/180 line classifier."""
        if not crops_bgr:
            return []
        with self._lock:
            out = self.classifier(crops_bgr)
        return [(180 if "180" in label else 0, float(score)) for label, score in out.cls_res]

    def recognize(self, crops_bgr: list[np.ndarray]) -> list[tuple[str, float]]:
        """Recognise text-line crops (BGR uint8). Returns ``(text, score 0–1)`` per crop."""
        from rapidocr.ch_ppocr_rec import TextRecInput

        if not crops_bgr:
            return []
        with self._lock:
            out = self.recognizer(TextRecInput(img=crops_bgr))
        return [(t, float(s)) for t, s in zip(out.txts, out.scores)]


SPEC = ModelSpec(
    name="ocr-ppocrv6",
    task="ocr",
    summary="PP-OCRv6 small text detector + Chinese/English recogniser + 0/180° classifier",
    files=(DET, REC, CLS),
    licence="Apache-2.0",
    source="PaddleOCR PP-OCRv6, ONNX from the rapidocr==3.10.0 wheel (PyPI)",
    factory=lambda paths, settings: PPOCREngine(paths, settings.intra_op_threads),
    labels=("en", "zh"),
    input_size="det: longest side 960–1600 px; rec: 48 px high lines",
    memory_mb=250,
    accuracy="PaddleOCR reports PP-OCRv5/v6 server/small Hmean and rec accuracy in its docs; "
             "Prism's measured CER is in docs/jobs/ocr.md",
)
