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
Run ``python -m training.synth --out DIR --count N`` to write a preview set.
"""

from __future__ import annotations

import argparse
import json
import math
import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
SEEDS = SHARED / "data" / "seeds" / "stamp2vec" / "dataset_generation" / "images"
PHOTOS = (SHARED / "data" / "seeds" / "objectcut" / "examples",)
FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation2",
             "/usr/share/fonts/truetype/freefont", "/usr/share/fonts/truetype/nanum")

LATIN = "abcdefghijklmnopqrstuvwxyzáčďéíľňóôŕšťúýž"
CYRILLIC = "абвгдежзийклмнопрстуфхцчшщыэюя"
HANGUL = "가나다라마바사아자차카타파하국민은행서울특별시주식회사대표이사인감증명"
DIGITS = "0123456789"
INK = {  # RGB of common stamp inks; weights below
    "blue": (30, 60, 170), "violet": (95, 45, 150), "red": (200, 35, 55),
    "black": (35, 35, 40), "green": (30, 120, 60),
}
INK_WEIGHTS = {"blue": 0.42, "violet": 0.18, "red": 0.2, "black": 0.15, "green": 0.05}
STAMP_WORDS = ("PAID", "COPY", "APPROVED", "RECEIVED", "ZAPLATENÉ", "KÓPIA", "ORIGINAL",
               "КОПИЯ", "ОПЛАЧЕНО", "ПОЛУЧЕНО", "ARCHIV", "사본", "확인", "VERIFIED", "URGENT")


@dataclass
class Page:
    """A synthetic page: ``image`` uint8 ``(H, W, 3)`` RGB, ``boxes`` float32 ``(N, 4)`` xyxy
    pixels of every stamp."""

    image: np.ndarray
    boxes: np.ndarray


@lru_cache(maxsize=None)
def font_files() -> dict[str, list[str]]:
    """Installed TrueType fonts by script: ``latin`` (Latin + Cyrillic) and ``hangul``."""
    files: dict[str, list[str]] = {"latin": [], "hangul": []}
    for folder in FONT_DIRS:
        for path in sorted(Path(folder).glob("*.ttf")):
            name = path.name.lower()
            if "nanum" in name:
                files["hangul"].append(str(path))
            elif "math" not in name and "extralight" not in name:
                files["latin"].append(str(path))
    if not files["latin"]:
        raise FileNotFoundError("no fonts found: install fonts-dejavu-core (make system)")
    return files


@lru_cache(maxsize=512)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, max(6, int(size)))


@lru_cache(maxsize=None)
def _seed_images(kind: str) -> list[np.ndarray]:
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


def _text(rng: random.Random, script: str | None = None, words: int | None = None) -> str:
    script = script or rng.choices(["latin", "cyrillic", "hangul", "digits"], [5, 3, 2, 1])[0]
    alphabet = {"latin": LATIN, "cyrillic": CYRILLIC, "hangul": HANGUL, "digits": DIGITS}[script]
    n = words or rng.randint(1, 6)
    parts = []
    for _ in range(n):
        w = "".join(rng.choice(alphabet) for _ in range(rng.randint(2, 9)))
        parts.append(w.capitalize() if rng.random() < 0.3 else w)
    if rng.random() < 0.3:
        parts.append("".join(rng.choice(DIGITS) for _ in range(rng.randint(2, 8))))
    return " ".join(parts)


def _pick_font(rng: random.Random, text: str, size: int) -> ImageFont.FreeTypeFont:
    fonts = font_files()
    hangul = any("\uac00" <= ch <= "\ud7a3" for ch in text)
    pool = fonts["hangul"] if hangul and fonts["hangul"] else fonts["latin"]
    return _font(rng.choice(pool), size)


def _line_text(rng: random.Random) -> str:
    script = rng.choices(["latin", "cyrillic", "hangul"], [6, 3, 2])[0]
    return _text(rng, script, rng.randint(2, 10))


# ----------------------------------------------------------------------------- page content

def _paper(rng: random.Random, h: int, w: int) -> np.ndarray:
    if rng.random() < 0.25 and _seed_images("backgrounds"):
        scan = rng.choice(_seed_images("backgrounds"))
        page = cv2.resize(scan, (w, h), interpolation=cv2.INTER_AREA)
        return np.repeat(page[..., None], 3, 2).copy()
    tint = np.array([rng.randint(232, 255) for _ in range(3)], np.uint8)
    return np.broadcast_to(tint, (h, w, 3)).copy()


def _draw_text_block(rng, draw: ImageDraw.ImageDraw, x, y, w, h, colour) -> None:
    size = rng.randint(9, 22)
    yy = y
    while yy + size < y + h:
        text = _line_text(rng)
        font = _pick_font(rng, text, size)
        draw.text((x, yy), text, fill=colour, font=font)
        yy += int(size * rng.uniform(1.2, 1.8))


def _draw_table(rng, draw, x, y, w, h) -> None:
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
                text = _text(rng, words=1)
                draw.text((xs[c] + 3, ys[r] + 2), text[:12], fill=colour,
                          font=_pick_font(rng, text, size))


def _draw_form_lines(rng, draw, x, y, w, h) -> None:
    colour = tuple([rng.randint(0, 80)] * 3)
    yy = y
    while yy < y + h:
        label = _text(rng, words=rng.randint(1, 2)) + ":"
        size = rng.randint(10, 18)
        draw.text((x, yy - size), label, fill=colour, font=_pick_font(rng, label, size))
        draw.line([(x + size * len(label) // 2, yy), (x + w, yy)], fill=colour, width=1)
        yy += rng.randint(28, 50)


def _bezier(points: np.ndarray, n: int = 60) -> np.ndarray:
    t = np.linspace(0, 1, n)[:, None]
    out = []
    for i in range(0, len(points) - 3, 3):
        p0, p1, p2, p3 = points[i:i + 4]
        out.append((1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t ** 2 * p2 + t ** 3 * p3)
    return np.concatenate(out)


def _draw_signature(rng, canvas: np.ndarray, x, y, w, h) -> None:
    """A pen signature (a hard negative: blue ink, like many stamps): either chained cubic
    Béziers, or a handwritten-looking name in an italic font, sheared, with a flourish."""
    colour = rng.choice([(20, 40, 150), (25, 25, 30), (40, 60, 180), (60, 30, 120)])
    if rng.random() < 0.5:
        italics = [f for f in font_files()["latin"] if "Italic" in f or "Oblique" in f]
        text = _text(rng, rng.choice(["latin", "latin", "cyrillic"]), rng.randint(1, 2)).capitalize()
        size = max(14, int(h * rng.uniform(0.5, 0.9)))
        font = _font(rng.choice(italics or font_files()["latin"]), size)
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
        cv2.polylines(canvas, [_bezier(pts).astype(np.int32)], False, colour, rng.randint(1, 2),
                      cv2.LINE_AA)
        return
    n = 3 * rng.randint(2, 6) + 1
    pts = np.array([[x + rng.uniform(0, w) if i % 3 else x + w * i / n, y + rng.uniform(0, h)]
                    for i in range(n)])
    curve = _bezier(pts).astype(np.int32)
    cv2.polylines(canvas, [curve], False, colour, rng.randint(1, 3), cv2.LINE_AA)


def _draw_logo(rng, canvas: np.ndarray, x, y, size) -> None:
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
        _ring_text(rng, img, (x + r, y + r), r * 0.8, _text(rng, words=3).upper(), colour, size // 9)
    elif kind == "emblem":  # institute-style printed seal: filled coloured rings, text, centre art
        r = size // 2
        draw.ellipse([x, y, x + size, y + size], fill=colour)
        t = size // 6
        draw.ellipse([x + t, y + t, x + size - t, y + size - t], fill=second)
        draw.ellipse([x + 2 * t, y + 2 * t, x + size - 2 * t, y + size - 2 * t],
                     fill=(255, 255, 255) if rng.random() < 0.5 else colour)
        _ring_text(rng, img, (x + r, y + r), r - t / 2, _text(rng, words=3).upper(),
                   (255, 255, 255), max(7, t - 2))
        _emblem(rng, draw, x + r, y + r, r - 2 * t - 2, ink=tuple(rng.randint(0, 200) for _ in range(3)))
    elif kind == "poly":
        k = rng.randint(3, 8)
        pts = [(x + size / 2 + size / 2 * math.cos(2 * math.pi * i / k + 0.3),
                y + size / 2 + size / 2 * math.sin(2 * math.pi * i / k + 0.3)) for i in range(k)]
        draw.polygon(pts, fill=colour)
    elif kind == "block":
        draw.rectangle([x, y, x + size * 1.6, y + size * 0.6], fill=colour)
        text = _text(rng, words=1).upper()
        draw.text((x + 5, y + size * 0.1), text, fill=(255, 255, 255),
                  font=_pick_font(rng, text, int(size * 0.35)))
    else:
        t = size // 3
        draw.rectangle([x + t, y, x + 2 * t, y + size], fill=colour)
        draw.rectangle([x, y + t, x + size, y + 2 * t], fill=colour)
    if rng.random() < 0.6:
        text = _text(rng, words=rng.randint(1, 3))
        draw.text((x, y + size + 4), text, fill=colour, font=_pick_font(rng, text, rng.randint(12, 24)))
    canvas[:] = np.asarray(img)


def _paste_photo(rng, canvas: np.ndarray, x, y, w, h) -> None:
    photos = _seed_images("photos")
    if photos:
        photo = cv2.resize(rng.choice(photos), (w, h), interpolation=cv2.INTER_AREA)
    else:
        photo = np.zeros((h, w, 3), np.uint8)
        photo[:] = np.linspace(40, 220, w)[None, :, None].astype(np.uint8)
    canvas[y:y + h, x:x + w] = photo[:canvas.shape[0] - y, :canvas.shape[1] - x]


def _layout_page(rng: random.Random, h: int, w: int) -> np.ndarray:
    canvas = _paper(rng, h, w)
    img = Image.fromarray(canvas)
    draw = ImageDraw.Draw(img)
    ink = tuple([rng.randint(0, 60)] * 3)
    margin = int(w * rng.uniform(0.05, 0.12))
    y = int(h * rng.uniform(0.03, 0.08))
    while y < h * 0.93:
        kind = rng.choices(["text", "table", "form", "gap", "title"], [5, 2, 2, 1, 1])[0]
        block_h = int(h * rng.uniform(0.05, 0.2))
        block_h = min(block_h, int(h * 0.95) - y)
        if block_h < 20:
            break
        if kind == "text":
            cols = rng.choice([1, 1, 2])
            cw = (w - 2 * margin) // cols
            for c in range(cols):
                _draw_text_block(rng, draw, margin + c * cw, y, cw - 10, block_h, ink)
        elif kind == "table":
            _draw_table(rng, draw, margin, y, w - 2 * margin, block_h)
        elif kind == "form":
            _draw_form_lines(rng, draw, margin, y + 20, w - 2 * margin, block_h)
        elif kind == "title":
            text = _line_text(rng)[:30]
            draw.text((margin, y), text, fill=ink, font=_pick_font(rng, text, rng.randint(24, 40)))
            block_h = 50
        y += block_h + rng.randint(5, 40)
    canvas = np.asarray(img).copy()
    for _ in range(rng.choices([0, 1, 2, 3], [2, 4, 3, 1])[0]):  # signatures
        sw, sh = rng.randint(60, 260), rng.randint(25, 90)
        _draw_signature(rng, canvas, rng.randint(0, w - sw), rng.randint(0, h - sh), sw, sh)
    for _ in range(rng.choices([0, 1, 2], [4, 5, 1])[0]):  # logos
        size = rng.randint(40, 150)
        _draw_logo(rng, canvas, rng.randint(0, w - 2 * size), rng.randint(0, h - 2 * size), size)
    if rng.random() < 0.12:  # photos
        pw, ph = rng.randint(80, w // 2), rng.randint(60, h // 4)
        _paste_photo(rng, canvas, rng.randint(0, w - pw), rng.randint(0, h - ph), pw, ph)
    if rng.random() < 0.1:  # barcode
        bx, by = rng.randint(0, w - 200), rng.randint(0, h - 60)
        for i in range(rng.randint(30, 60)):
            if rng.random() < 0.5:
                canvas[by:by + 50, bx + 3 * i:bx + 3 * i + rng.randint(1, 3)] = 0
    return canvas


# ----------------------------------------------------------------------------- stamps

def _ring_text(rng, img: Image.Image, centre, radius: float, text: str, colour, size: int,
               start: float | None = None, ry: float | None = None) -> None:
    """Draw ``text`` clockwise along an ellipse (``radius`` × ``ry``), letters facing out."""
    if not text:
        return
    ry = radius if ry is None else ry
    font = _pick_font(rng, text, max(7, size))
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


def _emblem(rng, draw: ImageDraw.ImageDraw, cx, cy, r, ink=255) -> None:
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
            text = _text(rng, words=1)[:8]
            font = _pick_font(rng, text, size)
            tw = draw.textlength(text, font=font)
            draw.text((cx - tw / 2, cy - r * 0.7 + i * size * 1.3), text, fill=ink, font=font)


def _stamp_round(rng, size: int, oval: bool) -> np.ndarray:
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
    text = _text(rng, words=rng.randint(2, 5)).upper()
    ts = max(7, int(size * rng.uniform(0.07, 0.11)))
    _ring_text(rng, img, (w / 2, h / 2), w / 2 * (1 + inner) / 2 - ts * 0.3, text, 255, ts,
               ry=h / 2 * (1 + inner) / 2 - ts * 0.3)
    _emblem(rng, draw, w / 2, h / 2, min(w, h) / 2 * inner * 0.75)
    return np.asarray(img)


def _stamp_rect(rng, size: int) -> np.ndarray:
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
        text = _text(rng, words=rng.randint(1, 4))
        font = _pick_font(rng, text, ts if i else int(ts * 1.2))
        draw.text((4 * line, 3 * line + i * ts * 1.3), text, fill=255, font=font)
    if rng.random() < 0.3:  # a form grid inside (registry stamps)
        y = h // 2
        draw.line([(line, y), (w - line, y)], fill=255, width=max(1, line // 2))
        draw.line([(w // 2, y), (w // 2, h - line)], fill=255, width=max(1, line // 2))
    return np.asarray(img)


def _stamp_triangle(rng, size: int) -> np.ndarray:
    img = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(img)
    line = max(2, int(size * 0.03))
    pts = [(size / 2, line), (size - line, size - line), (line, size - line)]
    draw.polygon(pts, outline=255, width=line)
    inner = [(size / 2, size * 0.3), (size * 0.75, size * 0.8), (size * 0.25, size * 0.8)]
    if rng.random() < 0.6:
        draw.polygon(inner, outline=255, width=max(1, line // 2))
    text = _text(rng, words=1)[:6].upper()
    font = _pick_font(rng, text, int(size * 0.12))
    tw = draw.textlength(text, font=font)
    draw.text((size / 2 - tw / 2, size * 0.62), text, fill=255, font=font)
    return np.asarray(img)


def _stamp_word(rng, size: int) -> np.ndarray:
    text = rng.choice(STAMP_WORDS) if rng.random() < 0.7 else _text(rng, words=1).upper()
    font = _pick_font(rng, text, size)
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


def _stamp_textonly(rng, size: int) -> np.ndarray:
    """A frameless address stamp: 2–5 lines of text (company name, address, ID numbers)."""
    lines = rng.randint(2, 5)
    ts = max(8, size // (lines + 1))
    texts = [_text(rng, words=rng.randint(2, 5)) for _ in range(lines)]
    fonts = [_pick_font(rng, t, ts if i else int(ts * 1.25)) for i, t in enumerate(texts)]
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    w = int(max(probe.textlength(t, font=f) for t, f in zip(texts, fonts))) + ts
    h = int(lines * ts * 1.35 + ts)
    img = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(img)
    for i, (t, f) in enumerate(zip(texts, fonts)):
        tw = draw.textlength(t, font=f)
        draw.text(((w - tw) / 2, ts * 0.3 + i * ts * 1.35), t, fill=255, font=f)
    return np.asarray(img)


def _stamp_template(rng, size: int) -> np.ndarray:
    stamps = _seed_images("stamps")
    ink = rng.choice(stamps)
    scale = size / max(ink.shape[:2])
    return cv2.resize(ink, (max(8, int(ink.shape[1] * scale)), max(8, int(ink.shape[0] * scale))),
                      interpolation=cv2.INTER_AREA)


def make_stamp(rng: random.Random, size: int) -> np.ndarray:
    """One stamp's ink as a uint8 ``(h, w)`` mask (0 none, 255 full ink), about ``size`` px."""
    kind = rng.choices(["round", "oval", "rect", "triangle", "word", "text", "template"],
                       [30, 10, 18, 5, 9, 8, 20])[0]
    if kind == "template" and _seed_images("stamps"):
        return _stamp_template(rng, size)
    if kind in ("round", "oval", "template"):
        return _stamp_round(rng, size, kind == "oval")
    if kind == "rect":
        return _stamp_rect(rng, size)
    if kind == "triangle":
        return _stamp_triangle(rng, size)
    if kind == "word":
        return _stamp_word(rng, max(12, size // 3))
    return _stamp_textonly(rng, size)


def _smooth_noise(rng: random.Random, h: int, w: int, cell: int) -> np.ndarray:
    nr = np.random.default_rng(rng.getrandbits(32))
    small = nr.random((max(2, h // cell + 2), max(2, w // cell + 2))).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def _ink_texture(rng: random.Random, mask: np.ndarray) -> np.ndarray:
    """Partial ink: fade, uneven pressure, speckle; returns float32 alpha 0–1."""
    h, w = mask.shape
    alpha = mask.astype(np.float32) / 255.0
    if rng.random() < 0.6:  # uneven pressure / partially inked
        field = _smooth_noise(rng, h, w, rng.randint(8, 40))
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


def _rotate(mask: np.ndarray, angle: float) -> np.ndarray:
    h, w = mask.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos) + 2, int(h * cos + w * sin) + 2
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(mask, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=0)


def _place_stamp(rng, canvas: np.ndarray, placed: list[list[float]]) -> list[float] | None:
    h, w = canvas.shape[:2]
    size = int(h * rng.uniform(0.05, 0.2))
    mask = make_stamp(rng, size)
    angle = rng.uniform(-30, 30) if rng.random() < 0.7 else rng.uniform(-180, 180)
    mask = _rotate(mask, angle)
    mh, mw = mask.shape
    if mh >= h or mw >= w:
        return None
    x, y = rng.randint(0, w - mw), rng.randint(min(int(h * 0.1), h - mh), h - mh)
    if placed and rng.random() < 0.15:  # overlap another stamp on purpose
        ox1, oy1, ox2, oy2 = rng.choice(placed)
        x = int(np.clip(ox1 + rng.uniform(-0.5, 0.5) * mw, 0, w - mw))
        y = int(np.clip(oy1 + rng.uniform(-0.5, 0.5) * mh, 0, h - mh))
    alpha = _ink_texture(rng, mask)
    ys, xs = np.nonzero(alpha > 0.12)
    if len(xs) < 20:
        return None
    colour_name = rng.choices(list(INK_WEIGHTS), list(INK_WEIGHTS.values()))[0]
    colour = np.array(INK[colour_name], np.float32) + np.array(
        [rng.uniform(-25, 25) for _ in range(3)], np.float32)
    region = canvas[y:y + mh, x:x + mw].astype(np.float32)
    tint = np.clip(colour, 0, 255) / 255.0
    # multiply blending: ink darkens what is below it, text stays visible through it
    blended = region * (1 - alpha[..., None] + alpha[..., None] * tint)
    canvas[y:y + mh, x:x + mw] = blended.clip(0, 255).astype(np.uint8)
    return [float(x + xs.min()), float(y + ys.min()), float(x + xs.max() + 1), float(y + ys.max() + 1)]


# ----------------------------------------------------------------------------- scanning

def _scan(rng: random.Random, page: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    h, w = page.shape[:2]
    if rng.random() < 0.5:  # skew
        angle = rng.uniform(-2.5, 2.5)
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        page = cv2.warpAffine(page, m, (w, h), borderValue=(250, 250, 250))
        if len(boxes):
            corners = np.stack([boxes[:, [0, 1]], boxes[:, [2, 1]], boxes[:, [0, 3]], boxes[:, [2, 3]]], 1)
            moved = corners @ m[:, :2].T + m[:, 2]
            boxes = np.concatenate([moved.min(1), moved.max(1)], 1).astype(np.float32)
            # the rotated corners overestimate the ink box a little; shrink back by half of it
            pad = (boxes[:, 2:] - boxes[:, :2]) * abs(math.sin(math.radians(angle))) * 0.5
            boxes[:, :2] += pad
            boxes[:, 2:] -= pad
    if rng.random() < 0.4:
        page = cv2.GaussianBlur(page, (0, 0), rng.uniform(0.3, 1.3))
    if rng.random() < 0.5:
        noise = np.random.default_rng(rng.getrandbits(32)).normal(0, rng.uniform(2, 10), page.shape)
        page = (page.astype(np.float32) + noise).clip(0, 255).astype(np.uint8)
    if rng.random() < 0.3:  # contrast / exposure
        a, b = rng.uniform(0.8, 1.2), rng.uniform(-20, 20)
        page = (page.astype(np.float32) * a + b).clip(0, 255).astype(np.uint8)
    if rng.random() < 0.22:
        grey = cv2.cvtColor(page, cv2.COLOR_RGB2GRAY)
        page = np.repeat(grey[..., None], 3, 2)
    if rng.random() < 0.6:
        ok, buf = cv2.imencode(".jpg", page[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, rng.randint(30, 92)])
        page = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]
    return np.ascontiguousarray(page), boxes


def page(seed: int, out_size: int = 512, height: int = 1100) -> Page:
    """Draw synthetic page ``seed``; returned image has its longer side = ``out_size`` px.

    About 12 % of pages carry no stamp; about a third are a zoomed window of a page (the
    stamp then fills more of the picture, as in a photo or a cropped scan).
    """
    rng = random.Random(seed)
    h = height
    w = int(h * rng.uniform(0.68, 0.78)) if rng.random() < 0.85 else int(h * rng.uniform(0.9, 1.4))
    canvas = _layout_page(rng, h, w)
    placed: list[list[float]] = []
    count = rng.choices([0, 1, 2, 3, 4], [12, 45, 28, 10, 5])[0]
    for _ in range(count):
        box = _place_stamp(rng, canvas, placed)
        if box:
            placed.append(box)
    boxes = np.array(placed, np.float32).reshape(-1, 4)
    if placed and rng.random() < 0.35:  # zoom on a window around one stamp
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
    canvas, boxes = _scan(rng, canvas, boxes)
    ch, cw = canvas.shape[:2]
    scale = out_size / max(ch, cw)
    image = cv2.resize(canvas, (max(1, round(cw * scale)), max(1, round(ch * scale))),
                       interpolation=cv2.INTER_AREA)
    return Page(image=image, boxes=(boxes * scale).astype(np.float32))


def main() -> None:
    """Write ``--count`` preview pages with their boxes drawn to ``--out``."""
    parser = argparse.ArgumentParser(prog="python -m training.synth")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--count", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    labels = {}
    for i in range(args.count):
        p = page(args.seed + i)
        img = p.image.copy()
        for b in p.boxes.astype(int):
            cv2.rectangle(img, (b[0], b[1]), (b[2], b[3]), (0, 200, 0), 1)
        Image.fromarray(img).save(args.out / f"page_{i:03d}.png")
        labels[f"page_{i:03d}.png"] = p.boxes.round(1).tolist()
    (args.out / "boxes.json").write_text(json.dumps(labels, indent=1))


if __name__ == "__main__":
    main()
