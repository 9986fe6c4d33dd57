"""Stamp shapes as ink masks: round, oval, rectangular, triangular, word and frameless text
stamps drawn procedurally (single or double rings, text along the ring, an emblem or text
inside), or Stamp2vec's real templates."""

from __future__ import annotations

import math
import random

import cv2
import numpy as np
from PIL import Image, ImageDraw

from .material import seed_images
from .text import pick_font, random_text
from .weights import choose, config


def ring_text(rng, img: Image.Image, centre, radius: float, text: str, colour, size: int,
               start: float | None = None, ry: float | None = None) -> None:
    """Draw ``text`` clockwise along an ellipse (``radius`` × ``ry``), letters facing out."""
    if not text:
        return
    ry = radius if ry is None else ry
    font = pick_font(rng, text, max(7, size))
    span = min(2 * math.pi * 0.95, len(text) * size * 0.75 / max(radius, 1))
    start = -math.pi / 2 - span / 2 if start is None else start
    for i, ch in enumerate(text):
        angle = start + span * (i + 0.5) / len(text)
        tile = Image.new("L", (size * 2, size * 2), 0)
        ImageDraw.Draw(tile).text((size // 2, size // 3), ch, fill=255, font=font)
        tile = tile.rotate(-math.degrees(angle) - 90, resample=Image.BILINEAR)
        px = centre[0] + radius * math.cos(angle) - size
        py = centre[1] + ry * math.sin(angle) - size
        solid = Image.new("RGB" if img.mode == "RGB" else "L", tile.size, colour)
        img.paste(solid, (int(px), int(py)), tile)


def emblem(rng, draw: ImageDraw.ImageDraw, cx, cy, r, ink=255) -> None:
    """A star, polygon, cross, dots or short text of radius ``r`` around ``(cx, cy)``."""
    kind = rng.choice(["star", "poly", "text", "cross", "dots"])
    if kind == "star":
        k = rng.randint(5, 8)
        pts = []
        for i in range(2 * k):
            rr = r if i % 2 == 0 else r * 0.45
            a = math.pi * i / k - math.pi / 2
            pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
        draw.polygon(pts, fill=ink if rng.random() < 0.6 else None, outline=ink)
    elif kind == "poly":
        k = rng.randint(3, 9)
        pts = [(cx + r * rng.uniform(0.5, 1) * math.cos(2 * math.pi * i / k),
                cy + r * rng.uniform(0.5, 1) * math.sin(2 * math.pi * i / k)) for i in range(k)]
        draw.polygon(pts, outline=ink, width=max(1, int(r / 12)))
    elif kind == "cross":
        t = r / 3
        draw.rectangle([cx - t / 2, cy - r, cx + t / 2, cy + r], outline=ink, width=2)
        draw.rectangle([cx - r, cy - t / 2, cx + r, cy + t / 2], outline=ink, width=2)
    elif kind == "dots":
        for _ in range(rng.randint(8, 30)):
            a, d = rng.uniform(0, 2 * math.pi), rng.uniform(0, r)
            s = rng.uniform(1, r / 6)
            x, y = cx + d * math.cos(a), cy + d * math.sin(a)
            draw.ellipse([x - s, y - s, x + s, y + s], fill=ink)
    else:
        lines = rng.randint(1, 3)
        size = max(7, int(r * 1.4 / lines / 1.3))
        for i in range(lines):
            text = random_text(rng, words=1)[:8]
            font = pick_font(rng, text, size)
            tw = draw.textlength(text, font=font)
            draw.text((cx - tw / 2, cy - r * 0.7 + i * size * 1.3), text, fill=ink, font=font)


def stamp_round(rng, size: int, oval: bool) -> np.ndarray:
    w = size if not oval else int(size * rng.uniform(1.3, 1.8))
    h = size
    img = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(img)
    line = max(2, int(size * rng.uniform(0.015, 0.04)))
    draw.ellipse([line, line, w - line, h - line], outline=255, width=line)
    inner = rng.uniform(0.68, 0.8)
    if rng.random() < 0.75:
        ix, iy = w * (1 - inner) / 2, h * (1 - inner) / 2
        draw.ellipse([ix, iy, w - ix, h - iy], outline=255, width=max(1, line // 2))
    if rng.random() < 0.3:
        draw.ellipse([line * 3, line * 3, w - line * 3, h - line * 3], outline=255, width=1)
    text = random_text(rng, words=rng.randint(2, 5)).upper()
    ts = max(7, int(size * rng.uniform(0.07, 0.11)))
    ring_text(rng, img, (w / 2, h / 2), w / 2 * (1 + inner) / 2 - ts * 0.3, text, 255, ts,
               ry=h / 2 * (1 + inner) / 2 - ts * 0.3)
    emblem(rng, draw, w / 2, h / 2, min(w, h) / 2 * inner * 0.75)
    return np.asarray(img)


def stamp_rect(rng, size: int) -> np.ndarray:
    w, h = int(size * rng.uniform(1.2, 2.6)), size
    img = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(img)
    line = max(2, int(size * rng.uniform(0.02, 0.05)))
    radius = rng.choice([0, 0, size // 8])
    draw.rounded_rectangle([line, line, w - line, h - line], radius=radius, outline=255, width=line)
    if rng.random() < 0.4:
        g = line * 3
        draw.rounded_rectangle([g, g, w - g, h - g], radius=radius, outline=255, width=max(1, line // 2))
    lines = rng.randint(2, 6)
    ts = max(7, int((h - 6 * line) / lines / 1.35))
    for i in range(lines):
        text = random_text(rng, words=rng.randint(1, 4))
        font = pick_font(rng, text, ts if i else int(ts * 1.2))
        draw.text((4 * line, 3 * line + i * ts * 1.3), text, fill=255, font=font)
    if rng.random() < 0.3:  # a form grid inside (registry stamps)
        y = h // 2
        draw.line([(line, y), (w - line, y)], fill=255, width=max(1, line // 2))
        draw.line([(w // 2, y), (w // 2, h - line)], fill=255, width=max(1, line // 2))
    return np.asarray(img)


def stamp_triangle(rng, size: int) -> np.ndarray:
    img = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(img)
    line = max(2, int(size * 0.03))
    pts = [(size / 2, line), (size - line, size - line), (line, size - line)]
    draw.polygon(pts, outline=255, width=line)
    inner = [(size / 2, size * 0.3), (size * 0.75, size * 0.8), (size * 0.25, size * 0.8)]
    if rng.random() < 0.6:
        draw.polygon(inner, outline=255, width=max(1, line // 2))
    text = random_text(rng, words=1)[:6].upper()
    font = pick_font(rng, text, int(size * 0.12))
    tw = draw.textlength(text, font=font)
    draw.text((size / 2 - tw / 2, size * 0.62), text, fill=255, font=font)
    return np.asarray(img)


def stamp_word(rng, size: int) -> np.ndarray:
    words = tuple(config()["stamp_words"])
    text = rng.choice(words) if rng.random() < 0.7 else random_text(rng, words=1).upper()
    font = pick_font(rng, text, size)
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    tw = int(probe.textlength(text, font=font))
    w, h = tw + size, int(size * 1.7)
    img = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(img)
    draw.text((size // 2, size // 4), text, fill=255, font=font)
    if rng.random() < 0.8:
        line = max(2, size // 10)
        draw.rounded_rectangle([line, line, w - line, h - line], radius=rng.choice([0, size // 3]),
                               outline=255, width=line)
    return np.asarray(img)


def stamp_textonly(rng, size: int) -> np.ndarray:
    """A frameless address stamp: 2–5 lines of text (company name, address, ID numbers)."""
    lines = rng.randint(2, 5)
    ts = max(8, size // (lines + 1))
    texts = [random_text(rng, words=rng.randint(2, 5)) for _ in range(lines)]
    fonts = [pick_font(rng, t, ts if i else int(ts * 1.25)) for i, t in enumerate(texts)]
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    w = int(max(probe.textlength(t, font=f) for t, f in zip(texts, fonts))) + ts
    h = int(lines * ts * 1.35 + ts)
    img = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(img)
    for i, (t, f) in enumerate(zip(texts, fonts)):
        tw = draw.textlength(t, font=f)
        draw.text(((w - tw) / 2, ts * 0.3 + i * ts * 1.35), t, fill=255, font=f)
    return np.asarray(img)


def stamp_template(rng, size: int) -> np.ndarray:
    stamps = seed_images("stamps")
    ink = rng.choice(stamps)
    scale = size / max(ink.shape[:2])
    return cv2.resize(ink, (max(8, int(ink.shape[1] * scale)), max(8, int(ink.shape[0] * scale))),
                      interpolation=cv2.INTER_AREA)


def make_stamp(rng: random.Random, size: int) -> np.ndarray:
    """One stamp's ink as a uint8 ``(h, w)`` mask (0 none, 255 full ink), about ``size`` px."""
    kind = choose(rng, config()["stamp_kinds"])
    if kind == "template" and seed_images("stamps"):
        return stamp_template(rng, size)
    if kind in ("round", "oval", "template"):
        return stamp_round(rng, size, kind == "oval")
    if kind == "rect":
        return stamp_rect(rng, size)
    if kind == "triangle":
        return stamp_triangle(rng, size)
    if kind == "word":
        return stamp_word(rng, max(12, size // 3))
    return stamp_textonly(rng, size)
