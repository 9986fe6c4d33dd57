"""ONNX Runtime sessions with an explicit CPU provider and thread count (shared by engines)."""

from __future__ import annotations

from pathlib import Path

import onnxruntime as ort


def cpu_session(path: Path | bytes, threads: int) -> ort.InferenceSession:
    """Open ``path`` (or serialised model bytes) on ``CPUExecutionProvider`` with ``threads`` intra-op threads, one
    inter-op thread and full graph optimisation. Raises ONNX Runtime errors for bad files."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, int(threads))
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    source = path if isinstance(path, bytes) else str(path)
    return ort.InferenceSession(source, sess_options=options,
                                providers=["CPUExecutionProvider"])
