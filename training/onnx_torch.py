"""ONNX weights Prism installs → trainable PyTorch modules, with ``onnx2torch`` (1.5.15).

Prism fine-tunes pretrained ONNX models (PP-OCRv6 tiny for Korean, YOLOX-Nano for stamps)
instead of training from random weights: :func:`convert` turns an ``onnx.ModelProto`` into a
``torch.fx.GraphModule`` whose initialisers are ``nn.Parameter`` s.
"""

from __future__ import annotations

import sys
import types

from torch import nn


def torchvision_stand_in() -> None:
    """onnx2torch imports torchvision for its NMS and RoIAlign converters only; the registry's
    torchvision wheel cannot load beside the CPU torch, and Prism's models use neither op."""
    if "torchvision" in sys.modules:
        return
    tv, ops = types.ModuleType("torchvision"), types.ModuleType("torchvision.ops")

    def missing(*_a, **_k):
        raise RuntimeError("torchvision ops are not available in Prism's training environment")

    ops.nms = ops.batched_nms = ops.roi_align = missing
    tv.ops = ops
    sys.modules.update({"torchvision": tv, "torchvision.ops": ops})


def convert(model) -> nn.Module:
    """``onnx.ModelProto`` → ``torch.fx.GraphModule`` (onnx2torch) with every floating-point
    initialiser of 16 or more values trainable: onnx2torch keeps some (MatMul weights) as
    buffers."""
    torchvision_stand_in()
    from onnx2torch import convert as onnx2torch_convert

    graph = onnx2torch_convert(model)
    init = getattr(graph, "initializers", None)
    if init is not None:
        for name, buf in list(init.named_buffers(recurse=False)):
            if buf.is_floating_point() and buf.numel() >= 16:
                delattr(init, name)
                init.register_parameter(name, nn.Parameter(buf.clone()))
    return graph
