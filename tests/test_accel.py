"""training.accel: the learning-rate schedule both trainers share, bf16 autocast and the
compiled training step (switches both trainers' configs may set)."""

from __future__ import annotations

import math
import time

import pytest
import torch
from torch import nn

from training import accel


def _lrs(sched, opt, steps: int) -> list[float]:
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def test_warm_up_then_cosine_down_to_the_floor_over_the_steps():
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    lrs = _lrs(accel.warmup_cosine(opt, steps=100, warmup=10, time_limit_s=1e9, floor=0.05),
               opt, 101)
    assert lrs[0] == pytest.approx(0.1)  # (0 + 1) / 10 of the base
    assert lrs[9] == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.09)) * 0.95 + 0.05)
    assert max(lrs) <= 1.0 and lrs[10:] == sorted(lrs[10:], reverse=True)
    assert lrs[50] == pytest.approx(0.05 + 0.95 * 0.5)
    assert lrs[100] == pytest.approx(0.05)


def test_the_time_limit_anneals_the_schedule_before_the_steps_run_out():
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = accel.warmup_cosine(opt, steps=10 ** 6, warmup=1, time_limit_s=1.0)
    time.sleep(1.1)  # past the limit: progress is 1 whatever the step count says
    sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)


def test_switched_off_the_helpers_change_nothing():
    net = nn.Linear(3, 2)
    assert accel.compiled(net, False) is net
    with accel.autocast("cpu", False):
        assert net(torch.ones(1, 3)).dtype == torch.float32


def test_bf16_falls_back_to_float32_where_the_cpu_has_no_bf16(monkeypatch):
    """Emulated bf16 is many times slower than float32 (an AVX2-only CPU), so there the
    switch runs float32 and says so; where the CPU has it, autocast is bf16."""
    net = nn.Linear(3, 2)
    monkeypatch.setattr(accel, "native_bf16", lambda device_type: False)
    with pytest.warns(RuntimeWarning, match="float32"), accel.autocast("cpu", True):
        assert net(torch.ones(1, 3)).dtype == torch.float32
    monkeypatch.setattr(accel, "native_bf16", lambda device_type: True)
    with accel.autocast("cpu", True):
        assert net(torch.ones(1, 3)).dtype == torch.bfloat16
    assert accel.native_bf16("cuda") is True


def test_a_compiled_bf16_step_gives_the_eager_float32_gradients(monkeypatch):
    """The compiled module shares the eager one's parameters, and its gradients under bf16
    autocast are the float32 ones to within bf16 rounding (8-bit mantissa; batch norm
    amplifies it to a few per cent). bf16 is forced on, so a CPU without native bf16 runs
    the same (emulated, slower) arithmetic."""
    monkeypatch.setattr(accel, "native_bf16", lambda device_type: True)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 5))
    x, y = torch.randn(4, 3, 16, 24), torch.tensor([0, 1, 2, 3])
    loss = nn.functional.cross_entropy(net(x), y)
    eager = torch.autograd.grad(loss, list(net.parameters()))
    fast = accel.compiled(net, True)
    assert set(map(id, fast.parameters())) == set(map(id, net.parameters()))
    with accel.autocast("cpu", True):
        raw = fast(x)
    assert raw.dtype == torch.bfloat16
    loss = nn.functional.cross_entropy(raw.float(), y)
    quick = torch.autograd.grad(loss, list(net.parameters()))
    for a, b in zip(eager, quick):  # measured: at most 3 % apart (the convolution's weights)
        assert float((a - b).norm() / a.norm()) < 0.1
