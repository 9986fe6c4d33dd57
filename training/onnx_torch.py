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


def source_map(model, graph: nn.Module) -> dict[str, tuple[str, bool]]:
    """Where each tensor of ``graph`` (:func:`convert` of ``model``) came from:
    ``{qualified parameter or buffer name: (ONNX initialiser name, transposed)}``.

    onnx2torch names modules after the graph's nodes (``Conv/2``) and gives loose
    initialisers generated names (``initializers.onnx_initializer_<i>``), so the link is
    made by value: each tensor is matched to the initialiser among its node's inputs (for a
    loose one, among all initialisers) holding exactly the same values, as stored or
    transposed (``Gemm`` with ``transB``). Call it right after :func:`convert`, before any
    training. Raises ``ValueError`` when a floating-point tensor of 16 or more values has no
    unique source."""
    import numpy as np
    from onnx import numpy_helper
    from onnx2torch.onnx_graph import OnnxGraph

    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    nodes = OnnxGraph(model.graph).nodes
    out: dict[str, tuple[str, bool]] = {}
    for qual, tensor in [*graph.named_parameters(), *graph.named_buffers()]:
        if not tensor.is_floating_point() or tensor.numel() < 16:
            continue
        module = qual.rsplit(".", 1)[0]
        node = nodes.get(module)
        candidates = ([v for v in node.input_values if v in inits] if node is not None
                      else list(inits))
        value = tensor.detach().cpu().numpy()
        found = []
        for name in candidates:
            ref = inits[name]
            if ref.shape == value.shape and np.array_equal(ref, value):
                found.append((name, False))
            elif ref.ndim == 2 and ref.T.shape == value.shape and np.array_equal(ref.T, value):
                found.append((name, True))
        if len({f[0] for f in found}) != 1:
            raise ValueError(f"{qual}: {len(found)} initialisers hold its values")
        out[qual] = found[0]
    return out


def write_back(model, graph: nn.Module, sources: dict[str, tuple[str, bool]]):
    """A copy of ``model`` (``onnx.ModelProto``) with every tensor of ``sources``
    (:func:`source_map`) replaced by ``graph``'s trained value, shapes included (a new
    classifier may have more classes). The graph's own shapes stay symbolic, so the copy
    runs at any input width where a traced export would fix the example's shapes."""
    import copy

    from onnx import numpy_helper

    state = {**dict(graph.named_parameters()), **dict(graph.named_buffers())}
    new = copy.deepcopy(model)
    by_name = {i.name: i for i in new.graph.initializer}
    for qual, (name, transposed) in sources.items():
        value = state[qual].detach().float().cpu().numpy()
        value = value.T if transposed else value
        dtype = numpy_helper.to_array(by_name[name]).dtype
        by_name[name].CopyFrom(numpy_helper.from_array(value.astype(dtype), name))
    # shapes recorded for intermediate values may now be stale (a wider classifier)
    del new.graph.value_info[:]
    for output in new.graph.output:
        output.type.tensor_type.ClearField("shape")
    return new
