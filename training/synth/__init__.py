"""Synthetic stamped document pages for training Prism's stamp detector.

Every page is drawn from a seeded :class:`random.Random`, so ``page(seed)`` is reproducible.
A page is paper (tinted, or one of Stamp2vec's real clean scans) with text in several scripts
and sizes (Debian fonts: DejaVu, Liberation, FreeFont, Nanum for Hangul), tables, ruled
form lines, signatures and scribbles, logos and photos (hard negatives: solid round logos,
printed crisp ring-text seals, blue signatures), then stamps — procedurally drawn (round,
oval, rectangular, triangular, word and frameless text stamps; single or double rings; text
along the ring; emblem or text inside) or taken from Stamp2vec's real templates — inked in
blue, violet, red or black with partial ink, fading, rotation, multiply blending over the
text and overlaps, and finally scanned: skew, blur, noise, JPEG artefacts, grey conversion.

Boxes are the axis-aligned xyxy pixel bounds of each stamp's ink, in the returned image.
The sampling weights are in ``training/synth.json`` (:mod:`.weights`); the modules are
:mod:`.text`, :mod:`.material`, :mod:`.furniture`, :mod:`.stamps`, :mod:`.ink` and
:mod:`.scan`. Run ``python -m training.synth --out DIR --count N`` to write a preview set.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import cv2
import numpy as np

from .furniture import draw_signature, layout_page
from .ink import ink_texture, place_stamp, rotate
from .material import SEEDS
from .scan import scan
from .stamps import make_stamp
from .text import font_files
from .weights import choose, config, ink_weights, inks

__all__ = ["Page", "page", "make_stamp", "layout_page", "draw_signature", "ink_texture",
           "rotate", "inks", "ink_weights", "font_files", "SEEDS"]


@dataclass
class Page:
    """A synthetic page: ``image`` uint8 ``(H, W, 3)`` RGB, ``boxes`` float32 ``(N, 4)`` xyxy
    pixels of every stamp."""

    image: np.ndarray
    boxes: np.ndarray


def page(seed: int, out_size: int = 512, height: int = 1100) -> Page:
    """Draw synthetic page ``seed``; returned image has its longer side = ``out_size`` px.

    About 12 % of pages carry no stamp; about a third are a zoomed window of a page (the
    stamp then fills more of the picture, as in a photo or a cropped scan).
    """
    rng = random.Random(seed)
    h = height
    w = int(h * rng.uniform(0.68, 0.78)) if rng.random() < 0.85 else int(h * rng.uniform(0.9, 1.4))
    canvas = layout_page(rng, h, w)
    placed: list[list[float]] = []
    count = int(choose(rng, config()["stamps_per_page"]))
    for _ in range(count):
        box = place_stamp(rng, canvas, placed)
        if box:
            placed.append(box)
    boxes = np.array(placed, np.float32).reshape(-1, 4)
    if placed and rng.random() < config()["zoom"]:  # a window around one stamp
        x1, y1, x2, y2 = rng.choice(placed)
        win = int(max(x2 - x1, y2 - y1) * rng.uniform(1.6, 5.0))
        win = min(win, w, h)
        cx = rng.uniform(x2 - win, x1) if x2 - x1 < win else x1
        cy = rng.uniform(y2 - win, y1) if y2 - y1 < win else y1
        cx, cy = int(np.clip(cx, 0, w - win)), int(np.clip(cy, 0, h - win))
        ww = min(w - cx, int(win * rng.uniform(1.0, 1.4)))
        canvas = canvas[cy:cy + win, cx:cx + ww]
        boxes = boxes - np.array([cx, cy, cx, cy], np.float32)
        ch, cw = canvas.shape[:2]
        clipped = boxes.copy()
        clipped[:, [0, 2]] = clipped[:, [0, 2]].clip(0, cw)
        clipped[:, [1, 3]] = clipped[:, [1, 3]].clip(0, ch)
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        kept = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])
        boxes = clipped[kept > 0.6 * area]
    canvas, boxes = scan(rng, canvas, boxes)
    ch, cw = canvas.shape[:2]
    scale = out_size / max(ch, cw)
    image = cv2.resize(canvas, (max(1, round(cw * scale)), max(1, round(ch * scale))),
                       interpolation=cv2.INTER_AREA)
    return Page(image=image, boxes=(boxes * scale).astype(np.float32))
