"""Real material from ``../shared`` that synthetic pages reuse: Stamp2vec's clean scans and
stamp templates, ObjectCut's example photos. Missing folders give empty lists."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
SEEDS = SHARED / "data" / "seeds" / "stamp2vec" / "dataset_generation" / "images"
PHOTOS = (SHARED / "data" / "seeds" / "objectcut" / "examples",)


@lru_cache(maxsize=None)
def seed_images(kind: str) -> list[np.ndarray]:
    """Stamp2vec's real material: ``backgrounds`` (clean scans, grey), ``stamps`` (ink
    masks, 0–255 ink) and ``photos`` (RGB)."""
    out = []
    if kind == "backgrounds":
        for p in sorted((SEEDS / "input_files").glob("*.png")):
            out.append(np.asarray(Image.open(p).convert("L")))
    elif kind == "stamps":
        for p in sorted((SEEDS / "stamps").glob("*.png")):
            rgba = np.asarray(Image.open(p).convert("RGBA")).astype(np.float32)
            grey = rgba[..., :3].mean(-1)
            ink = rgba[..., 3] * (1.0 - grey / 255.0) if rgba[..., 3].min() < 250 else 255 - grey
            # templates are drawn in one colour: alpha carries the shape, darkness the ink
            ink = np.where(rgba[..., 3] > 40, np.maximum(ink, rgba[..., 3] * 0.9), 0)
            out.append(ink.clip(0, 255).astype(np.uint8))
        for p in sorted((SEEDS / "cropped_stamps").glob("*.png")):
            out.append(255 - np.asarray(Image.open(p).convert("L")))
    elif kind == "photos":
        for folder in PHOTOS:
            for p in sorted(folder.glob("*.jpg")):
                im = Image.open(p).convert("RGB")
                im.thumbnail((400, 400))
                out.append(np.asarray(im))
    return out
