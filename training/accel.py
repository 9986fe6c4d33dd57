"""Training speed-ups and the learning-rate schedule shared by Prism's trainers.

- :func:`compiled`: ``torch.compile`` (TorchInductor) with static shapes. The ``onnx2torch``
  graphs Prism fine-tunes do not trace with symbolic shapes (a width-dependent ``Slice``
  fails in sympy), so each input shape compiles once (about 50 s on 2 cores for the Korean
  recogniser's forward and backward) and callers keep the set of shapes small.
- :func:`autocast`: bfloat16 mixed precision (weights and optimiser state stay float32;
  losses are computed in float32 by the caller). On CPUs with AMX or AVX-512 BF16 oneDNN runs
  the convolutions and matrix products in bf16.

Measured on 2 cores of the development machine (a Xeon with AMX), one training step of the
Korean recogniser, 64 crops at width 200: eager float32 0.80 s, eager bf16 0.59 s, compiled
bf16 0.22 s (a whole step with data generation: 0.46 s against 1.0–1.15 s); the stamp
detector's forward and backward, 16 pages at 512 px: 2.07 s, 1.35 s and 1.11 s (graph breaks
at ``onnx2torch``'s ``Slice``). Both are switches in the trainers' configs (``bf16``,
``compile``), off unless set, the same recipe on CPU and CUDA.

On a CPU without native bf16 (2 cores of an AVX2-only AMD EPYC) bf16 is emulated and far
slower: a compiled bf16 Korean run had not reached step 50 after 16 minutes, so
:func:`autocast` runs float32 there and warns. On that machine the Korean step (64 crops at
width 200) takes 1.47 s eager float32 and 0.91 s compiled float32 (first step 75 s).
"""

from __future__ import annotations

import contextlib
import math
import time
import warnings

import torch
from torch import nn

#: The config keys that switch the speed-ups on; both are off unless a config sets them.
SWITCHES = ("bf16", "compile")


def wanted(config: dict, switch: str) -> bool:
    """Whether trainer ``config`` turns ``switch`` (one of :data:`SWITCHES`) on; off when
    the key is absent. Raises ``KeyError`` for an unknown switch."""
    if switch not in SWITCHES:
        raise KeyError(switch)
    return bool(config.get(switch, False))


def compiled(module: nn.Module, enabled: bool, shapes: int = 32) -> nn.Module:
    """``module`` compiled by ``torch.compile`` with static shapes when ``enabled`` (else
    ``module`` itself). ``shapes``: how many input shapes may each get their own compiled
    graph before dynamo falls back to eager. The result shares ``module``'s parameters."""
    if not enabled:
        return module
    import torch._dynamo

    torch._dynamo.config.automatic_dynamic_shapes = False
    torch._dynamo.config.cache_size_limit = max(torch._dynamo.config.cache_size_limit, shapes)
    return torch.compile(module, dynamic=False)


def autocast(device: str, enabled: bool):
    """A bfloat16 ``torch.autocast`` context on ``device`` (``cpu`` or ``cuda[:n]``), or a
    no-op context when not ``enabled`` or when ``device`` is a CPU without native bf16
    (:func:`native_bf16`; then a ``RuntimeWarning`` says so)."""
    if not enabled:
        return contextlib.nullcontext()
    kind = device.split(":")[0]
    if not native_bf16(kind):
        warnings.warn("bf16 asked for, but oneDNN has no bf16 path on this CPU (AVX-512 or "
                      "AMX): running float32", RuntimeWarning, stacklevel=2)
        return contextlib.nullcontext()
    return torch.autocast(device_type=kind, dtype=torch.bfloat16)


def native_bf16(device_type: str) -> bool:
    """Whether ``device_type`` (``cpu`` or ``cuda``) runs bf16 convolutions and matrix
    products natively: always for CUDA; for a CPU, what oneDNN reports
    (``torch.ops.mkldnn._is_mkldnn_bf16_supported``: AVX-512 or AMX)."""
    if device_type != "cpu":
        return True
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def warmup_cosine(opt: torch.optim.Optimizer, steps: int, warmup: int, time_limit_s: float,
                  floor: float = 0.0) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up over ``warmup`` steps, then a cosine from the base learning rate down to
    ``floor`` × base over ``steps`` steps or over ``time_limit_s`` seconds from now, whichever
    ends first — so a run that a slower machine stops at its time limit still ends annealed.
    Call ``step()`` once per optimiser step; ``progress(step)`` on the returned scheduler
    gives the share of the schedule done (0–1), for switches tied to the run's end."""
    start = time.time()
    limit = max(1.0, float(time_limit_s))

    def progress(s: int) -> float:
        return min(1.0, max(s / steps, (time.time() - start) / limit))

    def factor(s: int) -> float:
        return min(1.0, (s + 1) / warmup) * (
            floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress(s))))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
    sched.progress = progress  # share of the schedule done after step s, 0–1
    return sched
