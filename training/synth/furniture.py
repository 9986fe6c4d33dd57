"""What a page holds besides stamps: paper, text blocks, tables, ruled forms, titles, and the
hard negatives — pen signatures, printed logos and seals, photos, barcodes."""

from __future__ import annotations

import math
import random

import cv2
import numpy as np
from PIL import Image, ImageDraw

from .material import seed_images
from .stamps import emblem, ring_text
from .text import font_files, line_text, load_font, pick_font, random_text
from .weights import choose, config


def paper(rng: random.Random, h: int, w: int) -> np.ndarray:
    """``(h, w, 3)`` uint8 paper: a real clean scan (``paper_scan`` of pages) or a tint."""
    if rng.random() < config()["paper_scan"] and seed_images("backgrounds"):
        scan = rng.choice(seed_images("backgrounds"))
        page = cv2.resize(scan, (w, h), interpolation=cv2.INTER_AREA)
        return np.repeat(page[..., None], 3, 2).copy()
    tint = np.array([rng.randint(232, 255) for _ in range(3)], np.uint8)
    return np.broadcast_to(tint, (h, w, 3)).copy()


def draw_text_block(rng, draw: ImageDraw.ImageDraw, x, y, w, h, colour) -> None:
    size = rng.randint(9, 22)
    yy = y
    while yy + size < y + h:
        text = line_text(rng)
        font = pick_font(rng, text, size)
        draw.text((x, yy), text, fill=colour, font=font)
        yy += int(size * rng.uniform(1.2, 1.8))


def draw_table(rng, draw, x, y, w, h) -> None:
    rows, cols = rng.randint(2, 8), rng.randint(2, 6)
    colour = tuple([rng.randint(0, 90)] * 3)
    width = rng.choice([1, 1, 2])
    xs = sorted([x] + [x + int(w * rng.uniform(0.1, 0.9)) for _ in range(cols - 1)] + [x + w])
    ys = [y + int(h * i / rows) for i in range(rows + 1)]
    for xx in xs:
        draw.line([(xx, y), (xx, y + h)], fill=colour, width=width)
    for yy in ys:
        draw.line([(x, yy), (x + w, yy)], fill=colour, width=width)
    size = max(8, min(18, int(h / rows * 0.5)))
    for r in range(rows):
        for c in range(len(xs) - 1):
            if rng.random() < 0.8:
                text = random_text(rng, words=1)
                draw.text((xs[c] + 3, ys[r] + 2), text[:12], fill=colour,
                          font=pick_font(rng, text, size))


def draw_form_lines(rng, draw, x, y, w, h) -> None:
    colour = tuple([rng.randint(0, 80)] * 3)
    yy = y
    while yy < y + h:
        label = random_text(rng, words=rng.randint(1, 2)) + ":"
        size = rng.randint(10, 18)
        draw.text((x, yy - size), label, fill=colour, font=pick_font(rng, label, size))
        draw.line([(x + size * len(label) // 2, yy), (x + w, yy)], fill=colour, width=1)
        yy += rng.randint(28, 50)


def bezier(points: np.ndarray, n: int = 60) -> np.ndarray:
    t = np.linspace(0, 1, n)[:, None]
    out = []
    for i in range(0, len(points) - 3, 3):
        p0, p1, p2, p3 = points[i:i + 4]
        out.append((1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t ** 2 * p2 + t ** 3 * p3)
    return np.concatenate(out)


def draw_signature(rng, canvas: np.ndarray, x, y, w, h) -> None:
    """A pen signature (a hard negative: blue ink, like many stamps): either chained cubic
    Béziers, or a handwritten-looking name in an italic font, sheared, with a flourish."""
    colour = rng.choice([(20, 40, 150), (25, 25, 30), (40, 60, 180), (60, 30, 120)])
    if rng.random() < 0.5:
        italics = [f for f in font_files()["latin"] if "Italic" in f or "Oblique" in f]
        text = random_text(rng, rng.choice(["latin", "latin", "cyrillic"]), rng.randint(1, 2)).capitalize()
        size = max(14, int(h * rng.uniform(0.5, 0.9)))
        font = load_font(rng.choice(italics or font_files()["latin"]), size)
        tile = Image.new("L", (max(8, int(w * 1.5)), max(8, int(h * 1.5))), 0)
        ImageDraw.Draw(tile).text((4, 2), text, fill=255, font=font)
        mask = np.asarray(tile)
        shear = np.float32([[1, rng.uniform(-0.4, 0.1), 0], [0, 1, 0]])
        mask = cv2.warpAffine(mask, shear, (mask.shape[1], mask.shape[0]))
        mh, mw = min(mask.shape[0], canvas.shape[0] - y), min(mask.shape[1], canvas.shape[1] - x)
        if mh > 0 and mw > 0:
            a = mask[:mh, :mw, None].astype(np.float32) / 255.0
            region = canvas[y:y + mh, x:x + mw].astype(np.float32)
            canvas[y:y + mh, x:x + mw] = (region * (1 - a) + np.array(colour) * a).astype(np.uint8)
        pts = np.array([[x + rng.uniform(0, w), y + h * rng.uniform(0.6, 1.0)] for _ in range(4)])
        cv2.polylines(canvas, [bezier(pts).astype(np.int32)], False, colour, rng.randint(1, 2),
                      cv2.LINE_AA)
        return
    n = 3 * rng.randint(2, 6) + 1
    pts = np.array([[x + rng.uniform(0, w) if i % 3 else x + w * i / n, y + rng.uniform(0, h)]
                    for i in range(n)])
    curve = bezier(pts).astype(np.int32)
    cv2.polylines(canvas, [curve], False, colour, rng.randint(1, 3), cv2.LINE_AA)


def draw_logo(rng, canvas: np.ndarray, x, y, size) -> None:
    """Printed logos: solid discs, polygons, colour blocks with text; crisp, flat colour."""
    img = Image.fromarray(canvas)
    draw = ImageDraw.Draw(img)
    colour = tuple(rng.randint(0, 220) for _ in range(3))
    second = tuple(rng.randint(0, 255) for _ in range(3))
    kind = rng.choice(["disc", "ringtext", "emblem", "poly", "block", "cross"])
    if kind == "disc":
        draw.ellipse([x, y, x + size, y + size], fill=colour)
        draw.ellipse([x + size // 4, y + size // 4, x + 3 * size // 4, y + 3 * size // 4], fill=second)
    elif kind == "ringtext":  # a printed circular seal in flat black or colour: not a stamp
        r = size // 2
        draw.ellipse([x, y, x + size, y + size], outline=colour, width=max(2, size // 25))
        draw.ellipse([x + size // 5, y + size // 5, x + 4 * size // 5, y + 4 * size // 5], fill=second)
        ring_text(rng, img, (x + r, y + r), r * 0.8, random_text(rng, words=3).upper(), colour, size // 9)
    elif kind == "emblem":  # institute-style printed seal: filled coloured rings, text, centre art
        r = size // 2
        draw.ellipse([x, y, x + size, y + size], fill=colour)
        t = size // 6
        draw.ellipse([x + t, y + t, x + size - t, y + size - t], fill=second)
        draw.ellipse([x + 2 * t, y + 2 * t, x + size - 2 * t, y + size - 2 * t],
                     fill=(255, 255, 255) if rng.random() < 0.5 else colour)
        ring_text(rng, img, (x + r, y + r), r - t / 2, random_text(rng, words=3).upper(),
                   (255, 255, 255), max(7, t - 2))
        emblem(rng, draw, x + r, y + r, r - 2 * t - 2, ink=tuple(rng.randint(0, 200) for _ in range(3)))
    elif kind == "poly":
        k = rng.randint(3, 8)
        pts = [(x + size / 2 + size / 2 * math.cos(2 * math.pi * i / k + 0.3),
                y + size / 2 + size / 2 * math.sin(2 * math.pi * i / k + 0.3)) for i in range(k)]
        draw.polygon(pts, fill=colour)
    elif kind == "block":
        draw.rectangle([x, y, x + size * 1.6, y + size * 0.6], fill=colour)
        text = random_text(rng, words=1).upper()
        draw.text((x + 5, y + size * 0.1), text, fill=(255, 255, 255),
                  font=pick_font(rng, text, int(size * 0.35)))
    else:
        t = size // 3
        draw.rectangle([x + t, y, x + 2 * t, y + size], fill=colour)
        draw.rectangle([x, y + t, x + size, y + 2 * t], fill=colour)
    if rng.random() < 0.6:
        text = random_text(rng, words=rng.randint(1, 3))
        draw.text((x, y + size + 4), text, fill=colour, font=pick_font(rng, text, rng.randint(12, 24)))
    canvas[:] = np.asarray(img)


def paste_photo(rng, canvas: np.ndarray, x, y, w, h) -> None:
    photos = seed_images("photos")
    if photos:
        photo = cv2.resize(rng.choice(photos), (w, h), interpolation=cv2.INTER_AREA)
    else:
        photo = np.zeros((h, w, 3), np.uint8)
        photo[:] = np.linspace(40, 220, w)[None, :, None].astype(np.uint8)
    canvas[y:y + h, x:x + w] = photo[:canvas.shape[0] - y, :canvas.shape[1] - x]


def layout_page(rng: random.Random, h: int, w: int) -> np.ndarray:
    """A stamp-free ``(h, w, 3)`` uint8 RGB page: blocks of text, tables, forms and titles
    down the page, then signatures, logos, sometimes a photo or a barcode (the config's
    weights)."""
    canvas = paper(rng, h, w)
    img = Image.fromarray(canvas)
    draw = ImageDraw.Draw(img)
    ink = tuple([rng.randint(0, 60)] * 3)
    margin = int(w * rng.uniform(0.05, 0.12))
    y = int(h * rng.uniform(0.03, 0.08))
    while y < h * 0.93:
        kind = choose(rng, config()["blocks"])
        block_h = int(h * rng.uniform(0.05, 0.2))
        block_h = min(block_h, int(h * 0.95) - y)
        if block_h < 20:
            break
        if kind == "text":
            cols = rng.choice([1, 1, 2])
            cw = (w - 2 * margin) // cols
            for c in range(cols):
                draw_text_block(rng, draw, margin + c * cw, y, cw - 10, block_h, ink)
        elif kind == "table":
            draw_table(rng, draw, margin, y, w - 2 * margin, block_h)
        elif kind == "form":
            draw_form_lines(rng, draw, margin, y + 20, w - 2 * margin, block_h)
        elif kind == "title":
            text = line_text(rng)[:30]
            draw.text((margin, y), text, fill=ink, font=pick_font(rng, text, rng.randint(24, 40)))
            block_h = 50
        y += block_h + rng.randint(5, 40)
    canvas = np.asarray(img).copy()
    for _ in range(int(choose(rng, config()["signatures_per_page"]))):
        sw, sh = rng.randint(60, 260), rng.randint(25, 90)
        draw_signature(rng, canvas, rng.randint(0, w - sw), rng.randint(0, h - sh), sw, sh)
    for _ in range(int(choose(rng, config()["logos_per_page"]))):
        size = rng.randint(40, 150)
        draw_logo(rng, canvas, rng.randint(0, w - 2 * size), rng.randint(0, h - 2 * size), size)
    if rng.random() < config()["photo"]:
        pw, ph = rng.randint(80, w // 2), rng.randint(60, h // 4)
        paste_photo(rng, canvas, rng.randint(0, w - pw), rng.randint(0, h - ph), pw, ph)
    if rng.random() < config()["barcode"]:
        bx, by = rng.randint(0, w - 200), rng.randint(0, h - 60)
        for i in range(rng.randint(30, 60)):
            if rng.random() < 0.5:
                canvas[by:by + 50, bx + 3 * i:bx + 3 * i + rng.randint(1, 3)] = 0
    return canvas
