"""ONNX Runtime sessions with an explicit CPU provider and thread count, and the base class
every ONNX engine shares (session, threads, lock)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import onnxruntime as ort


def cpu_session(path: Path | bytes, threads: int) -> ort.InferenceSession:
    """Open ``path`` (or serialised model bytes) on ``CPUExecutionProvider`` with ``threads``
    intra-op threads, one
    inter-op thread and full graph optimisation. Raises ONNX Runtime errors for bad files."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, int(threads))
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    source = path if isinstance(path, bytes) else str(path)
    return ort.InferenceSession(source, sess_options=options,
                                providers=["CPUExecutionProvider"])


class OnnxEngine:
    """One ONNX Runtime session shared by a worker's threads. Engines subclass it and build
    ``preprocess → infer → postprocess`` around :meth:`run`.

    Args: ``model`` path (or serialised bytes) of the ONNX graph; ``threads`` intra-op
    threads. Raises ONNX Runtime errors for a bad file. ``input_names`` lists the graph's
    inputs in order; one lock serialises runs on the session.
    """

    def __init__(self, model: Path | bytes, threads: int):
        self.session = cpu_session(model, threads)
        self.input_names = [i.name for i in self.session.get_inputs()]
        self._lock = threading.Lock()

    def run(self, *inputs: np.ndarray, outputs: list[str] | None = None) -> list[np.ndarray]:
        """Run the graph on ``inputs`` (in :attr:`input_names` order); returns every output
        (or those named in ``outputs``) as NumPy arrays."""
        with self._lock:
            return self.session.run(outputs, dict(zip(self.input_names, inputs)))
