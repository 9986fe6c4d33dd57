"""A stamp's impression: partial ink, rotation, its colour and multiply blending onto the
page."""

from __future__ import annotations

import random

import cv2
import numpy as np

from .stamps import make_stamp
from .weights import config, ink_weights, inks


def smooth_noise(rng: random.Random, h: int, w: int, cell: int) -> np.ndarray:
    nr = np.random.default_rng(rng.getrandbits(32))
    small = nr.random((max(2, h // cell + 2), max(2, w // cell + 2))).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def ink_texture(rng: random.Random, mask: np.ndarray) -> np.ndarray:
    """Partial ink: fade, uneven pressure, speckle; returns float32 alpha 0–1."""
    h, w = mask.shape
    alpha = mask.astype(np.float32) / 255.0
    if rng.random() < 0.6:  # uneven pressure / partially inked
        field = smooth_noise(rng, h, w, rng.randint(8, 40))
        lo = rng.uniform(0.0, 0.5)
        alpha *= np.clip((field - lo) / max(1e-3, 1 - lo) * 1.6, 0.15, 1.0)
    if rng.random() < 0.5:  # grain
        grain = np.random.default_rng(rng.getrandbits(32)).random((h, w)).astype(np.float32)
        alpha *= np.where(grain < rng.uniform(0.05, 0.3), 0.3, 1.0)
    if rng.random() < 0.3:  # soft gradient fade
        ramp = np.linspace(rng.uniform(0.2, 0.7), 1.0, w, dtype=np.float32)[None, :]
        alpha *= ramp if rng.random() < 0.5 else ramp[:, ::-1]
    alpha *= rng.uniform(0.55, 1.0)
    if rng.random() < 0.5:
        alpha = cv2.GaussianBlur(alpha, (3, 3), rng.uniform(0.3, 1.2))
    return alpha


def rotate(mask: np.ndarray, angle: float) -> np.ndarray:
    """``mask`` ``(h, w)`` rotated by ``angle`` degrees on a canvas that holds all of it."""
    h, w = mask.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos) + 2, int(h * cos + w * sin) + 2
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(mask, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=0)


def place_stamp(rng, canvas: np.ndarray, placed: list[list[float]]) -> list[float] | None:
    """Ink a new stamp onto ``canvas`` (in place), sometimes over one of ``placed``; returns
    its ink's xyxy box, or ``None`` when it did not fit or came out blank."""
    h, w = canvas.shape[:2]
    size = int(h * rng.uniform(0.05, 0.2))
    mask = make_stamp(rng, size)
    angle = rng.uniform(-30, 30) if rng.random() < 0.7 else rng.uniform(-180, 180)
    mask = rotate(mask, angle)
    mh, mw = mask.shape
    if mh >= h or mw >= w:
        return None
    x, y = rng.randint(0, w - mw), rng.randint(min(int(h * 0.1), h - mh), h - mh)
    if placed and rng.random() < config()["stamp_overlap"]:  # over another stamp
        ox1, oy1, ox2, oy2 = rng.choice(placed)
        x = int(np.clip(ox1 + rng.uniform(-0.5, 0.5) * mw, 0, w - mw))
        y = int(np.clip(oy1 + rng.uniform(-0.5, 0.5) * mh, 0, h - mh))
    alpha = ink_texture(rng, mask)
    ys, xs = np.nonzero(alpha > 0.12)
    if len(xs) < 20:
        return None
    weights = ink_weights()
    colour_name = rng.choices(list(weights), list(weights.values()))[0]
    colour = np.array(inks()[colour_name], np.float32) + np.array(
        [rng.uniform(-25, 25) for _ in range(3)], np.float32)
    region = canvas[y:y + mh, x:x + mw].astype(np.float32)
    tint = np.clip(colour, 0, 255) / 255.0
    # multiply blending: ink darkens what is below it, text stays visible through it
    blended = region * (1 - alpha[..., None] + alpha[..., None] * tint)
    canvas[y:y + mh, x:x + mw] = blended.clip(0, 255).astype(np.uint8)
    return [float(x + xs.min()), float(y + ys.min()), float(x + xs.max() + 1), float(y + ys.max() + 1)]
