"""Synthetic Korean/Latin text-line crops for training Prism's Korean recogniser.

Every sample is drawn from a seeded :class:`random.Random`, so ``sample(seed, fonts)`` is
reproducible. Text comes from real word lists (``wordfreq``'s Korean and English lists, words
restricted to :func:`api.engines.korec.charset`), mixed as the places Korean is read need it:
single words and compounds written without spaces (signboards), phrases and document lines,
licence plates, phone numbers, prices and units, Latin words, and uniformly random syllables
(so rare syllables are seen too).

Rendering (Pillow; the Debian Korean fonts of :func:`korean_fonts`, plus for training the
Google Fonts Korean families of ``training/fonts.json``) has two families:

- **document**: dark text on paper-like grey, little distortion;
- **scene**: filled letters in a colour on a flat, gradient or photo background (the photos
  of ``../shared/data/seeds/objectcut``), with optional outline, 3-D extrusion or shadow,
  wide letter spacing (labelled without spaces, as signboards read), thin coloured lines
  across or around the text, loose margins showing surroundings.

Two scene layouts are off unless a recipe asks for them (``arc``, ``cut``: the share of
scene crops): letters set one by one along a circular arc, each turned to the arc's tangent
(round signs, arched shop fronts), and crops whose edge runs through the letters (a
detector's tight or shifted box).

Then `albumentations <https://albumentations.ai>`_ degrades the crop: perspective, rotation
and shear, curvature (grid/optical distortion), blur, noise, JPEG, colour and contrast shifts,
and a random resolution of 14–64 px text height. ``python -m training.text_lines --out DIR``
writes a preview set.
"""

from __future__ import annotations

import argparse
import math
import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from api.engines import korec

REPO_ROOT = Path(__file__).resolve().parents[1]
PHOTO_DIR = REPO_ROOT.parent / "shared" / "data" / "seeds" / "objectcut"
FONT_DIRS = ("/usr/share/fonts/truetype/nanum", "/usr/share/fonts/truetype/unfonts-core",
             "/usr/share/fonts/truetype/unfonts-extra", "/usr/share/fonts/truetype/baekmuk",
             "/usr/share/fonts/opentype/noto")
#: Fonts never used for training: the synthetic validation set is drawn in these only, so
#: its accuracy measures reading an unseen typeface.
HELDOUT_FONTS = ("NanumBarunpenR.ttf", "UnGraphic.ttf", "hline.ttf", "NanumSquareRoundR.ttf",
                 "NotoSerifCJK-Bold.ttc", "NanumMyeongjoExtraBold.ttf")
#: Where :func:`extra_fonts` puts the fonts of a font manifest (git-ignored).
FONT_CACHE = REPO_ROOT / "training" / "cache" / "fonts"
#: Licence-plate syllables (Korean private, commercial and rental plates).
PLATE_SYLLABLES = "가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주아바사자배하허호"
PLATE_REGIONS = ("서울", "경기", "인천", "강원", "충남", "대전", "충북", "부산", "울산", "대구",
                 "경북", "경남", "전남", "광주", "전북", "제주")
UNITS = ("원", "층", "호", "번", "개", "명", "시", "분", "년", "월", "일", "km", "m", "kg", "%")
PUNCT = ".,:;!?()-/&'\"·~"


@dataclass
class Line:
    """One crop: ``image`` uint8 ``(h, w, 3)`` RGB; ``text`` its transcription (NFC, single
    spaces); ``style`` the rendering family (``document`` or ``scene``)."""

    image: np.ndarray
    text: str
    style: str


@lru_cache(maxsize=None)
def korean_fonts(extra: str | None = None) -> dict[str, list[str]]:
    """Installed Hangul fonts (``make system`` installs them) split into ``train`` and
    ``heldout`` (:data:`HELDOUT_FONTS`); ``extra`` (a font manifest such as
    ``training/fonts.json``) adds its fonts to ``train`` only (:func:`extra_fonts`).
    Raises ``FileNotFoundError`` when no Debian Korean font is found."""
    out: dict[str, list[str]] = {"train": [], "heldout": []}
    for folder in FONT_DIRS:
        for path in sorted(Path(folder).glob("*.tt[fc]")):
            name = path.name
            if "YetHangul" in name or "Jamo" in name or "Mono" in name or "UltraLight" in name:
                continue
            if name.endswith(".ttc") and "KR" not in name and "CJK" not in name:
                continue
            out["heldout" if name in HELDOUT_FONTS else "train"].append(str(path))
    if not out["train"]:
        raise FileNotFoundError("no Korean fonts found: install fonts-nanum (make system)")
    if extra:
        out["train"] += extra_fonts(extra)
    return out


def extra_fonts(manifest: str) -> list[str]:
    """Paths of the fonts a manifest (``models/manifest.json``'s form, npm sources) lists,
    fetched into :data:`FONT_CACHE` and verified by sha256 first where missing
    (:func:`api.modelfiles.fetch_file`). Raises ``RuntimeError`` when one cannot be had."""
    from api import modelfiles

    entries = modelfiles.load_manifest(REPO_ROOT / manifest)
    for entry in entries.values():
        modelfiles.fetch_file(entry, FONT_CACHE, FONT_CACHE)
    return [str(FONT_CACHE / path) for path in entries]


@lru_cache(maxsize=None)
def missing_glyphs(font_path: str) -> frozenset[str]:
    """Characters of :func:`api.engines.korec.charset` (spaces aside) that ``font_path``
    draws as its ``.notdef`` box or not at all, so a label is never drawn with boxes for
    letters (many Google Fonts Korean families lack ``※``, ``℃`` or the CJK brackets)."""
    font = _font(font_path, 24)
    notdef = font.getmask("\U0010fffd")
    notdef = (notdef.size, bytes(notdef))
    out = set()
    for c in korec.charset():
        if c.isspace():
            continue
        mask = font.getmask(c)
        if mask.getbbox() is None or (mask.size, bytes(mask)) == notdef:
            out.add(c)
    return frozenset(out)


@lru_cache(maxsize=256)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    # Noto CJK collections: face 1 is the KR design in Debian's NotoSans/SerifCJK .ttc
    return ImageFont.truetype(path, size, index=1 if path.endswith(".ttc") else 0)


@lru_cache(maxsize=1)
def _words() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(Korean words, English words) from wordfreq, restricted to the charset."""
    import wordfreq

    allowed = set(korec.charset())
    ko = tuple(w for w in wordfreq.top_n_list("ko", 30000) if all(c in allowed for c in w))
    en = tuple(w for w in wordfreq.top_n_list("en", 5000)
               if w.isascii() and w.isalpha() and len(w) > 1)
    return ko, en


@lru_cache(maxsize=1)
def _syllables() -> str:
    return "".join(c for c in korec.charset() if "\uac00" <= c <= "\ud7a3")


@lru_cache(maxsize=1)
def photos() -> list[np.ndarray]:
    """The background photos of ``../shared/data/seeds/objectcut``, RGB uint8, each fitted
    within 640 px (cached after the first call)."""
    out = []
    for path in sorted(PHOTO_DIR.rglob("*.jp*g")):
        im = Image.open(path).convert("RGB")
        im.thumbnail((640, 640))
        out.append(np.asarray(im))
    return out


def text(rng: random.Random) -> str:
    """One transcription: see the module docstring for the mix."""
    ko, en = _words()
    kind = rng.choices(["word", "compound", "phrase", "plate", "mixed", "latin", "random",
                        "document"], [22, 16, 14, 10, 12, 7, 9, 10])[0]
    word = lambda: ko[int(rng.random() ** 1.5 * len(ko))]  # noqa: E731 - frequent words more often
    digits = lambda n: "".join(rng.choice("0123456789") for _ in range(n))  # noqa: E731
    if kind == "word":
        return word()
    if kind == "compound":
        return "".join(word() for _ in range(rng.randint(2, 3)))
    if kind == "phrase":
        return " ".join(word() for _ in range(rng.randint(2, 3)))
    if kind == "plate":
        core = f"{digits(rng.choice((2, 3)))}{rng.choice(PLATE_SYLLABLES)}{rng.choice(('', ' '))}{digits(4)}"
        return (rng.choice(PLATE_REGIONS) + core) if rng.random() < 0.25 else core
    if kind == "mixed":
        choice = rng.randint(0, 5)
        if choice == 0:
            return f"{word()} {rng.randint(1, 999)}{rng.choice(UNITS)}"
        if choice == 1:
            return f"{rng.randint(1, 99)},{digits(3)}원"
        if choice == 2:
            prefix = rng.choice(("TEL", "전화", "Tel.", "T."))  # drawn first, as before
            area = rng.randint(2, 70)
            return f"{prefix} 0{area}-{digits(rng.choice((3, 4)))}-{digits(4)}"
        if choice == 3:
            return f"{en[rng.randrange(len(en))].upper()} {word()}"
        if choice == 4:
            return f"{word()}({en[rng.randrange(len(en))].capitalize()})"
        return f"{digits(rng.randint(1, 3))}{rng.choice(UNITS)} {word()}"
    if kind == "latin":
        words = [en[rng.randrange(len(en))] for _ in range(rng.randint(1, 3))]
        out = " ".join(words)
        return out.upper() if rng.random() < 0.4 else out.capitalize()
    if kind == "random":
        return "".join(rng.choice(_syllables()) for _ in range(rng.randint(1, 7)))
    parts = [word() for _ in range(rng.randint(2, 4))]
    if rng.random() < 0.5:
        parts[rng.randrange(len(parts))] += rng.choice(PUNCT)
    return " ".join(parts)


def _colour(rng: random.Random) -> tuple[int, int, int]:
    return tuple(rng.randint(0, 255) for _ in range(3))


def _contrasting(rng: random.Random, bg: tuple[int, int, int]) -> tuple[int, int, int]:
    lum = 0.299 * bg[0] + 0.587 * bg[1] + 0.114 * bg[2]
    for _ in range(20):
        c = _colour(rng)
        if abs(0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2] - lum) > 70:
            return c
    return (0, 0, 0) if lum > 128 else (255, 255, 255)


def _background(rng: random.Random, w: int, h: int, style: str) -> np.ndarray:
    if style == "document":
        g = rng.randint(200, 255)
        tint = [max(0, min(255, g + rng.randint(-12, 12))) for _ in range(3)]
        return np.full((h, w, 3), tint, np.uint8)
    kind = rng.choices(["flat", "gradient", "photo"], [5, 3, 2])[0]
    if kind == "photo" and photos():
        photo = rng.choice(photos())
        ph, pw = photo.shape[:2]
        scale = max(w / pw, h / ph) * rng.uniform(1.0, 2.0)
        big = cv2.resize(photo, (int(pw * scale) + 1, int(ph * scale) + 1))
        y, x = rng.randint(0, big.shape[0] - h), rng.randint(0, big.shape[1] - w)
        return np.ascontiguousarray(big[y:y + h, x:x + w])
    a = np.array(_colour(rng), np.float32)
    if kind == "flat":
        return np.broadcast_to(a, (h, w, 3)).astype(np.uint8).copy()
    b = np.array(_colour(rng), np.float32)
    t = np.linspace(0, 1, w if rng.random() < 0.5 else h, dtype=np.float32)
    ramp = a + (b - a) * t[:, None]
    grid = ramp[None, :, :].repeat(h, 0) if len(t) == w else ramp[:, None, :].repeat(w, 1)
    return grid.astype(np.uint8)


def render(rng: random.Random, label: str, font_path: str, style: str, arc: float = 0.0,
           cut: float = 0.0) -> np.ndarray:
    """Draw ``label`` in ``font_path``; returns a uint8 RGB crop (text height ~48–64 px).

    ``arc`` and ``cut`` (0–1) are the chances that a scene crop is drawn by
    :func:`_render_layered` along an arc or cut through its letters; at 0 (the default) no
    random number is drawn for them, so a recipe without them renders as before."""
    bend = bool(arc) and style == "scene" and rng.random() < arc
    trim = bool(cut) and style == "scene" and rng.random() < cut
    if bend or trim:
        return _render_layered(rng, label, font_path, bend, trim)
    size = rng.randint(36, 56)
    font = _font(font_path, size)
    spacing = 0 if style == "document" or rng.random() < 0.7 else rng.uniform(0.1, 0.8) * size
    glyphs = list(label)
    # character advances; wide tracking replaces spaces (signboards) when spacing is on
    advances = [font.getlength(c) + (spacing if c != " " else 0) for c in glyphs]
    width = int(sum(advances)) + 2
    ascent, descent = font.getmetrics()
    height = ascent + descent
    mx = int(rng.uniform(0.05, 0.6) * size) + 4
    my_top, my_bot = (int(rng.uniform(0.05, 0.5) * size) + 2 for _ in range(2))
    W, H = width + 2 * mx, height + my_top + my_bot
    bg = _background(rng, W, H, style)
    bg_mean = tuple(int(v) for v in bg.reshape(-1, 3).mean(0))
    canvas = Image.fromarray(bg)
    draw = ImageDraw.Draw(canvas)
    if style == "document":
        fill = tuple(rng.randint(0, 70) for _ in range(3))
        effect, stroke = "none", 0
    else:
        fill = _contrasting(rng, bg_mean)
        # text on a busy background is legible only with an edge of its own
        busy = float(bg.std()) > 30
        effect = rng.choices(["none", "outline", "extrude", "shadow"],
                             [1, 6, 2, 3] if busy else [5, 3, 2, 2])[0]
        stroke = rng.randint(1, max(1, size // 14)) if effect == "outline" else 0
    stroke_fill = _contrasting(rng, fill) if stroke else None
    x0, y0 = mx, my_top
    if effect in ("extrude", "shadow"):
        shade = tuple(int(v * rng.uniform(0.2, 0.6)) for v in fill) if effect == "extrude" \
            else _contrasting(rng, fill)
        dx, dy = rng.choice((-1, 1)) * rng.randint(1, 3), rng.randint(1, 3)
        steps = rng.randint(2, max(2, size // 10)) if effect == "extrude" else 1
        for k in range(steps, 0, -1):
            x = x0 + dx * k
            for c, adv in zip(glyphs, advances):
                draw.text((x, y0 + dy * k), c, font=font, fill=shade)
                x += adv
    x = x0
    for c, adv in zip(glyphs, advances):
        draw.text((x, y0), c, font=font, fill=fill, stroke_width=stroke, stroke_fill=stroke_fill)
        x += adv
    if style == "scene" and rng.random() < 0.3:  # thin coloured lines across or around text
        col = _colour(rng)
        lw = rng.randint(1, 3)
        if rng.random() < 0.5:
            draw.rectangle([rng.randint(0, mx), rng.randint(0, my_top),
                            W - 1 - rng.randint(0, mx), H - 1 - rng.randint(0, my_bot)],
                           outline=col, width=lw)
        else:
            y = rng.randint(0, H - 1)
            draw.line([(0, y), (W - 1, y + rng.randint(-H // 3, H // 3))], fill=col, width=lw)
    return np.asarray(canvas)


def _render_layered(rng: random.Random, label: str, font_path: str, bend: bool,
                    trim: bool) -> np.ndarray:
    """A scene crop drawn as an ink layer first: the letters (fill, outline or extrusion)
    in premultiplied colour with their coverage, then, with ``bend``, each letter's cell
    turned to the tangent of a circular arc (sweep 25–110°, arched or sagging) and set
    along it; composited on a background of the result's size and cropped around the ink,
    with ``trim`` by an edge through the letters (8–30 % of the ink's height off the top or
    bottom, or part of the first or last letter). Returns uint8 RGB."""
    size = rng.randint(36, 56)
    font = _font(font_path, size)
    spacing = 0 if rng.random() < 0.6 else rng.uniform(0.1, 0.6) * size
    glyphs = list(label)
    advances = [font.getlength(c) + (spacing if c != " " else 0) for c in glyphs]
    ascent, descent = font.getmetrics()
    height = ascent + descent
    pad = size // 3 + 4
    lw, lh = int(sum(advances)) + 2 * pad, height + 2 * pad
    fill = _colour(rng)
    effect = rng.choices(["none", "outline", "extrude", "shadow"], [4, 4, 2, 2])[0]
    stroke = rng.randint(1, max(1, size // 14)) if effect == "outline" else 0
    stroke_fill = _contrasting(rng, fill) if stroke else None
    ink = Image.new("RGB", (lw, lh))
    cover = Image.new("L", (lw, lh))
    draws = (ImageDraw.Draw(ink), ImageDraw.Draw(cover))

    def line(x0: float, y0: float, colour, stroke_width: int = 0) -> None:
        for draw, c in zip(draws, (colour, 255)):  # the colour layer, then the coverage
            x = x0
            for g, adv in zip(glyphs, advances):
                draw.text((x, y0), g, font=font, fill=c, stroke_width=stroke_width,
                          stroke_fill=c)
                x += adv

    if effect in ("extrude", "shadow"):
        shade = tuple(int(v * rng.uniform(0.2, 0.6)) for v in fill) if effect == "extrude" \
            else _contrasting(rng, fill)
        dx, dy = rng.choice((-1, 1)) * rng.randint(1, 3), rng.randint(1, 3)
        for k in range(rng.randint(2, max(2, size // 10)) if effect == "extrude" else 1, 0, -1):
            line(pad + dx * k, pad + dy * k, shade)
    if stroke:  # the outline under the fill, in its own colour
        line(pad, pad, stroke_fill, stroke_width=stroke)
    line(pad, pad, fill)
    colour = np.asarray(ink, np.float32)
    alpha = np.asarray(cover, np.float32) / 255.0
    premult = colour * alpha[..., None]
    if bend:
        premult, alpha = _bend(rng, premult, alpha, advances, pad)
    ys, xs = np.nonzero(alpha > 0.1)
    if not len(ys):
        ys, xs = np.array([0, alpha.shape[0] - 1]), np.array([0, alpha.shape[1] - 1])
    top, bot, left, right = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    ink_h = min(bot - top, size)  # a letter's height, not the arc's
    margin = lambda lo, hi: int(rng.uniform(lo, hi) * ink_h) + 2  # noqa: E731
    y0, y1, x0, x1 = top - margin(0.05, 0.4), bot + margin(0.05, 0.4), \
        left - margin(0.05, 0.5), right + margin(0.05, 0.5)
    if trim:
        side = rng.choice(("top", "bottom", "left", "right"))
        depth = int(rng.uniform(0.08, 0.3) * ink_h)
        if side == "top":
            y0 = top + depth
        elif side == "bottom":
            y1 = bot - depth
        elif side == "left":
            x0 = left + depth
        else:
            x1 = right - depth
    # pad the layer so the crop window lies inside it, then crop
    grow = max(0, -y0, -x0, y1 - alpha.shape[0], x1 - alpha.shape[1])
    if grow:
        premult = np.pad(premult, ((grow, grow), (grow, grow), (0, 0)))
        alpha = np.pad(alpha, grow)
        y0, y1, x0, x1 = y0 + grow, y1 + grow, x0 + grow, x1 + grow
    premult, alpha = premult[y0:y1, x0:x1], alpha[y0:y1, x0:x1]
    h, w = alpha.shape
    bg = _background(rng, w, h, "scene").astype(np.float32)
    if abs(_luma(bg.reshape(-1, 3).mean(0)) - _luma(fill)) < 60:  # keep the letters legible
        bg = 255.0 - bg
    if effect == "none" and float(bg.std()) > 30:  # a busy background: give letters an edge
        edge = cv2.dilate(alpha, np.ones((3, 3), np.uint8), iterations=max(1, size // 20))
        bg = bg * (1.0 - edge[..., None]) + np.array(_contrasting(rng, fill), np.float32) \
            * edge[..., None]
    out = premult + bg * (1.0 - alpha[..., None])
    image = Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))
    if rng.random() < 0.3:  # thin coloured lines across the text, as on the straight crops
        y = rng.randint(0, h - 1)
        ImageDraw.Draw(image).line([(0, y), (w - 1, y + rng.randint(-h // 3, h // 3))],
                                   fill=_colour(rng), width=rng.randint(1, 3))
    return np.asarray(image)


def _luma(rgb) -> float:
    return 0.299 * float(rgb[0]) + 0.587 * float(rgb[1]) + 0.114 * float(rgb[2])


def _bend(rng: random.Random, premult: np.ndarray, alpha: np.ndarray, advances: list[float],
          pad: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut the straight ink layer into one cell per letter (the first and last keep the
    side padding) and set each, turned to the tangent, along a circular arc whose length is
    the line's: arched (ends low, letters fanning out) or sagging. Returns the new
    ``(premult, alpha)`` layer."""
    total = sum(advances)
    sweep = math.radians(rng.uniform(25, 110))
    radius = total / sweep
    sign = rng.choice((1, -1))  # 1: arched (circle centre below the text), -1: sagging
    h = alpha.shape[0]
    span = int(2 * radius * math.sin(min(sweep, math.pi) / 2) + 4 * h)
    depth = int(radius * (1 - math.cos(sweep / 2)) + 4 * h)
    out_c = np.zeros((depth + 2 * h, span, 3), np.float32)
    out_a = np.zeros((depth + 2 * h, span), np.float32)
    cx, cy = span / 2, h + (0 if sign > 0 else depth)
    x = 0.0
    for i, adv in enumerate(advances):
        x0 = int(round(pad + x)) - (pad if i == 0 else 0)
        x1 = int(round(pad + x + adv)) + (pad if i == len(advances) - 1 else 0)
        s = x + adv / 2 - total / 2  # arc length of the cell's centre from the middle
        x += adv
        if x1 <= x0:
            continue
        theta = s / radius
        angle = -sign * math.degrees(theta)
        cell = np.dstack([premult[:, x0:x1], alpha[:, x0:x1]])
        ch, cw = cell.shape[:2]
        rot = cv2.getRotationMatrix2D((cw / 2, ch / 2), angle, 1.0)
        cos, sin = abs(rot[0, 0]), abs(rot[0, 1])
        nw, nh = int(ch * sin + cw * cos) + 2, int(ch * cos + cw * sin) + 2
        rot[0, 2] += nw / 2 - cw / 2
        rot[1, 2] += nh / 2 - ch / 2
        turned = cv2.warpAffine(cell, rot, (nw, nh), flags=cv2.INTER_LINEAR)
        # the cell's centre on the arc (the straight line's centre row at arc length s)
        px = cx + radius * math.sin(theta) + (x0 + x1) / 2 - (pad + x - adv / 2)
        py = cy + sign * radius * (1 - math.cos(theta))
        ox, oy = int(round(px - nw / 2)), int(round(py - nh / 2))
        ya, yb = max(0, oy), min(out_a.shape[0], oy + nh)
        xa, xb = max(0, ox), min(out_a.shape[1], ox + nw)
        if ya >= yb or xa >= xb:
            continue
        src = turned[ya - oy:yb - oy, xa - ox:xb - ox]
        a = src[..., 3:4]
        out_c[ya:yb, xa:xb] = src[..., :3] + out_c[ya:yb, xa:xb] * (1 - a)
        out_a[ya:yb, xa:xb] = a[..., 0] + out_a[ya:yb, xa:xb] * (1 - a[..., 0])
    return out_c, out_a


@lru_cache(maxsize=2)
def _augment(style: str):
    import albumentations as A

    strong = style == "scene"
    return A.Compose([
        A.Perspective(scale=(0.01, 0.06 if strong else 0.02), fit_output=True,
                      border_mode=cv2.BORDER_REPLICATE, p=0.5 if strong else 0.2),
        A.Affine(rotate=(-4, 4) if strong else (-1.5, 1.5), shear=(-12, 12) if strong else (-3, 3),
                 fit_output=True, border_mode=cv2.BORDER_REPLICATE, p=0.5),
        A.OneOf([A.GridDistortion(num_steps=4, distort_limit=0.2),
                 A.OpticalDistortion(distort_limit=0.3)], p=0.25 if strong else 0.05),
        A.OneOf([A.GaussianBlur(blur_limit=(3, 5)), A.MotionBlur(blur_limit=(3, 7)),
                 A.Defocus(radius=(1, 2))], p=0.25),
        A.GaussNoise(std_range=(0.02, 0.08), p=0.25),
        A.RandomBrightnessContrast(brightness_limit=0.3, contrast_limit=0.4, p=0.5),
        A.HueSaturationValue(p=0.3 if strong else 0.0),
        A.ToGray(p=0.1),
        A.ImageCompression(quality_range=(25, 90), p=0.5),
    ])


def degrade(rng: random.Random, image: np.ndarray, style: str) -> np.ndarray:
    """Random resolution (text ~14–64 px high) and the albumentations pipeline, seeded from
    ``rng`` (albumentations 2 draws from the pipeline's own generators, not the global ones,
    so the pipeline is re-seeded for every crop)."""
    pipeline = _augment(style)
    pipeline.set_random_seed(rng.randrange(2 ** 32))
    h = image.shape[0]
    target = rng.uniform(18, 64) if style == "scene" else rng.uniform(20, 64)
    if target < h:
        scale = target / h
        image = cv2.resize(image, (max(4, int(image.shape[1] * scale)), max(4, int(h * scale))),
                           interpolation=cv2.INTER_AREA)
    return pipeline(image=image)["image"]


def sample(seed: int, fonts: list[str], arc: float = 0.0, cut: float = 0.0) -> Line:
    """The synthetic line for ``seed`` drawn in one of ``fonts`` (deterministic); ``arc``
    and ``cut`` as in :func:`render`."""
    rng = random.Random(seed)
    label = text(rng)
    style = "document" if rng.random() < 0.25 else "scene"
    font = rng.choice(fonts)
    if missing_glyphs(font) & set(label):  # another font that has every letter, if any
        covering = [f for f in fonts if not missing_glyphs(f) & set(label)]
        font = random.Random(seed).choice(covering) if covering else font
    image = render(rng, label, font, style, arc, cut)
    image = degrade(rng, image, style)
    return Line(image=np.ascontiguousarray(image), text=" ".join(label.split()), style=style)


def vertical_sample(seed: int, fonts: list[str]) -> Line:
    """A vertical signboard word for ``seed`` (deterministic): 2–6 Hangul syllables of the
    word list stacked upright in one column of ``fonts``, on a scene panel (flat, gradient or
    photo; filled, 3 in 10 outlined), 0–0.5 em between syllables, scaled to a column 22–64 px
    wide, blurred 3 times in 10 and JPEG-compressed (quality 40–95). ``text`` has no spaces.
    Used to measure vertical writing (``scripts/eval_ocr_vertical.py``), not for training."""
    rng = random.Random(seed)
    ko, _ = _words()
    while True:
        word = "".join(ko[int(rng.random() ** 1.5 * len(ko))] for _ in range(rng.randint(1, 2)))
        if 2 <= len(word) <= 6 and all("\uac00" <= c <= "\ud7a3" for c in word):
            break
    font_path = rng.choice([f for f in fonts if not missing_glyphs(f) & set(word)] or fonts)
    size = rng.randint(36, 56)
    font = _font(font_path, size)
    gap = int(rng.uniform(0.0, 0.5) * size)
    mx, my = (int(rng.uniform(0.1, 0.5) * size) + 3 for _ in range(2))
    width, height = size + 2 * mx, len(word) * size + (len(word) - 1) * gap + 2 * my
    panel = _background(rng, width, height, "scene")
    fill = _contrasting(rng, tuple(int(v) for v in panel.reshape(-1, 3).mean(0)))
    stroke = rng.randint(1, max(1, size // 14)) if rng.random() < 0.3 else 0
    canvas = Image.fromarray(panel)
    draw = ImageDraw.Draw(canvas)
    for i, c in enumerate(word):
        draw.text((width / 2, my + i * (size + gap) + size / 2), c, font=font, fill=fill,
                  anchor="mm", stroke_width=stroke,
                  stroke_fill=_contrasting(rng, fill) if stroke else None)
    scale = rng.uniform(22, 64) / width
    image = cv2.resize(np.asarray(canvas), (max(4, int(width * scale)), max(4, int(height * scale))),
                       interpolation=cv2.INTER_AREA)
    if rng.random() < 0.3:
        image = cv2.GaussianBlur(image, (3, 3), 0)
    _, jpeg = cv2.imencode(".jpg", image[:, :, ::-1],
                           [cv2.IMWRITE_JPEG_QUALITY, rng.randint(40, 95)])
    image = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)[:, :, ::-1]
    return Line(image=np.ascontiguousarray(image), text=word, style="scene")


def main() -> None:
    """Write ``--count`` preview crops and a ``labels.tsv`` into ``--out``."""
    parser = argparse.ArgumentParser(prog="python -m training.text_lines")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--fonts", choices=("train", "heldout"), default="train")
    parser.add_argument("--extra", default=None,
                        help="font manifest added to the training fonts, e.g. training/fonts.json")
    parser.add_argument("--arc", type=float, default=0.0,
                        help="share of scene crops set along an arc (see render)")
    parser.add_argument("--cut", type=float, default=0.0,
                        help="share of scene crops cut through their letters (see render)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    fonts = korean_fonts(args.extra)[args.fonts]
    rows = []
    for i in range(args.count):
        line = sample(i, fonts, args.arc, args.cut)
        Image.fromarray(line.image).save(args.out / f"{i:04d}.png")
        rows.append(f"{i:04d}.png\t{line.style}\t{line.text}")
    (args.out / "labels.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
