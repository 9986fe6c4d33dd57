"""Pieces every pipeline shares: per-stage timing and a cooperative request deadline."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass

from ..problems import GatewayTimeout


class Deadline:
    """A point in time after which work stops with :class:`GatewayTimeout` (HTTP 504).

    Args: ``seconds`` budget from now; ``None`` or ``<= 0`` means no limit.
    Pipelines call :meth:`check` between stages, pages and batches.
    """

    def __init__(self, seconds: float | None = None):
        self.expires = time.monotonic() + seconds if seconds and seconds > 0 else None
        self.seconds = seconds

    def remaining(self) -> float | None:
        """Seconds left (may be negative), or ``None`` without a limit."""
        return None if self.expires is None else self.expires - time.monotonic()

    def check(self) -> None:
        """Raise :class:`GatewayTimeout` when the deadline has passed."""
        if self.expires is not None and time.monotonic() > self.expires:
            raise GatewayTimeout(f"The request took longer than {self.seconds:g} s.")


def tracking(timings: "Timings | None", deadline: "Deadline | None") -> tuple["Timings", "Deadline"]:
    """The ``timings`` and ``deadline`` a pipeline call was given, or fresh ones (a stage timer
    nobody reads, no deadline) for the arguments left ``None``: every pipeline entry point
    starts with ``timings, deadline = tracking(timings, deadline)``."""
    return timings if timings is not None else Timings(), \
        deadline if deadline is not None else Deadline(None)


class Timings:
    """Accumulates wall time per named stage, in milliseconds (Ultralytics-style profiling)."""

    def __init__(self):
        self.ms: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str):
        """Time the ``with`` block and add it to ``name``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.ms[name] = self.ms.get(name, 0.0) + (time.perf_counter() - start) * 1000.0

    def as_dict(self) -> dict[str, float]:
        """Stage → milliseconds rounded to 0.1, plus ``total``."""
        out = {k: round(v, 1) for k, v in self.ms.items()}
        out["total"] = round(sum(self.ms.values()), 1)
        return out


@dataclass
class Detection:
    """A labelled region: ``cls`` class name, ``score`` 0–1, ``box`` xyxy pixels."""

    cls: str
    score: float
    box: list[float]

    def as_dict(self) -> dict:
        """``{"class", "score", "box"}`` rounded for JSON."""
        return {"class": self.cls, "score": round(float(self.score), 4),
                "box": [round(float(v), 1) for v in self.box]}
