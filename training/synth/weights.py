"""The sampling weights of Prism's synthetic pages, from ``training/synth.json``.

Which script a text run is in, what a page holds (blocks, signatures, logos, photos,
barcodes), how many stamps and of which kind, their ink colours, and how often each scan
degradation applies. Geometry (sizes, angles, line widths) stays with the code that draws.
"""

from __future__ import annotations

import json
import random
from functools import lru_cache
from pathlib import Path

CONFIG = Path(__file__).resolve().parents[1] / "synth.json"


@lru_cache(maxsize=None)
def config() -> dict:
    """``training/synth.json`` as a dict (read once)."""
    return json.loads(CONFIG.read_text(encoding="utf-8"))


def choose(rng: random.Random, weights: dict) -> str:
    """One key of ``weights`` (key → relative weight), drawn with ``rng.choices``."""
    return rng.choices(list(weights), list(weights.values()))[0]


def inks() -> dict[str, tuple[int, int, int]]:
    """Stamp ink colours: name → RGB."""
    return {name: tuple(ink["rgb"]) for name, ink in config()["inks"].items()}


def ink_weights() -> dict[str, float]:
    """Stamp ink colours: name → relative weight."""
    return {name: ink["weight"] for name, ink in config()["inks"].items()}
