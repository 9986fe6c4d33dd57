"""Stamp ink: refine a detected box to the stamp's whole impression, its ink mask, removal.

A detector's box is a guess of the stamp's extent; on real scans it often cuts the ring
(the left and top arcs fall outside) or runs wide. :func:`refine` looks at the page around
the box and keeps the stamp's own ink:

1. **Window.** The box grown by :data:`GROW` of its longer side on every side (clipped to
   the page), shrunk to at most :data:`MAX_WINDOW_PIXELS` for speed.
2. **Paper and ink.** In CIE L*a*b* (OpenCV 8-bit), the paper is the median colour of the
   brightest 40 % of the window. A pixel is *coloured ink* when its chroma distance from
   the paper is ≥ :data:`CHROMA_MIN` and it is darker than the paper, *dark ink* when its
   lightness is :data:`DARK_DELTA` below the paper's and its chroma under :data:`DARK_SATURATION_MAX` ×
   that drop.
3. **The stamp's colour.** When coloured ink makes at least :data:`COLOURED_SHARE` of the
   ink inside the box, the stamp is coloured: its hue is the peak of the hue histogram of
   the coloured ink inside the box, and only ink within :data:`HUE_TOLERANCE` degrees of it
   counts (black text and a differently coloured signature drawn through the stamp stay
   out). Otherwise the stamp is dark ink (black stamps; low-chroma pixels only, so a blue
   signature through a black stamp stays out).
4. **The impression.** The stamp-coloured ink is joined (dilated by 1/:data:`JOIN_DIVISOR`
   of the box side, so dashes of a worn ring and the letters of ring text connect) and split
   into connected components; a component is the stamp's when at least
   :data:`INSIDE_SHARE` of it lies inside the detected box. The refined box is the bounds of
   those components' ink, which may grow past the detected box (the cut-off arcs) up to the
   window, or shrink to the ink, but not past :data:`FAINT` ink of the stamp's colour inside
   the detected box that joins the stamp's ink (light parts of the impression stay in; the
   mask holds the stamp's ink at the full thresholds). A refined box that overlaps the
   detected one less than :data:`MIN_AGREEMENT` (IoU) is not trusted: the detected box
   stands.

This is classical image processing in the spirit of the colour-threshold seal removal
PaddleOCR's users apply before OCR; the thresholds were set on the development scans
(``../shared/data/eval/stamps``, StaVer and mullevik pages), see docs/jobs/stamps.md. No Flask,
no model.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import cv2
import numpy as np

from .vision import box_iou

#: Fraction of the box's longer side searched around it for the rest of a coloured
#: impression, and for a dark one (black ink: print nearby is the same colour).
GROW = 0.25
GROW_DARK = 0.15
#: Windows larger than this are analysed at a reduced scale (pixels).
MAX_WINDOW_PIXELS = 1_500_000
#: A pixel is coloured ink when its chroma distance from the paper (8-bit a*b* units) is
#: at least CHROMA_MIN and at least SATURATION_MIN × how much darker than the paper it is
#: (dark print picks up a little chroma from JPEG; light blue ink is faint but coloured).
CHROMA_MIN = 8.0
SATURATION_MIN = 0.2
#: Dark ink is at most this saturated (a dark blue signature over a black stamp is not).
DARK_SATURATION_MAX = 0.12
#: Lightness below the paper (8-bit L* units) of dark (black, grey) ink.
DARK_DELTA = 70.0
#: Share of coloured pixels in the box's ink above which the stamp is taken as coloured.
COLOURED_SHARE = 0.3
#: Hue tolerance around the stamp's hue (degrees of the a*b* angle).
HUE_TOLERANCE = 40.0
#: The join radius is the box's longer side divided by this (coloured, dark ink).
JOIN_DIVISOR = 40.0
JOIN_DIVISOR_DARK = 80.0
#: Share of a joined component inside the detected box for it to be the stamp's.
INSIDE_SHARE = 0.5
#: A refined box overlapping the detected one less than this (IoU) is not trusted.
MIN_AGREEMENT = 0.5
#: Faint ink: the ink thresholds (CHROMA_MIN and the 8-unit drop for coloured ink,
#: DARK_DELTA for dark ink) times this. Faint ink of the stamp's colour inside the detected
#: box, joined to the stamp's ink, keeps the refined box from shrinking past it: the light
#: half of a half-filled seal, a grey gradient, a worn frame fall below the full thresholds,
#: and the box shrunk to the darker ink alone cut them off. On the pool's valid split (labels
#: with the added stamps, the shipped detector at 0.3) recall / precision 0.860 / 0.875
#: without it, 0.868 / 0.884 at 0.7; 0.5 reached 0.873 / 0.889 but took in the blue halo
#: around a StaVer ring (IoU with its hand box 0.96 -> 0.87).
FAINT = 0.7
#: Fewer stamp-ink pixels than this inside the box (at analysis scale): keep the box as is.
MIN_INK_PIXELS = 30
#: :func:`paper_share`: the longer side (pixels) a page is analysed at, and how far from the
#: paper colour (8-bit L* units; a*b* distance) a pixel may be and still be paper.
PAPER_SIDE = 640
PAPER_DELTA_L, PAPER_DELTA_AB = 20.0, 10.0


@dataclass
class Ink:
    """A stamp's impression: ``box`` float32 ``(4,)`` xyxy pixels of the page, ``mask`` bool
    ``(h, w)`` of that box (``h``, ``w`` = its rounded-out height and width: rows
    ``floor(y1)…ceil(y2)``), ``kind`` ``"coloured"`` or ``"dark"``, ``hue`` degrees of the
    a*b* angle (coloured) or ``None``."""

    box: np.ndarray
    mask: np.ndarray
    kind: str
    hue: float | None = None

    def mask_png(self) -> str:
        """The mask as a base64 8-bit greyscale PNG (255 = ink), the box's size."""
        ok, data = cv2.imencode(".png", self.mask.astype(np.uint8) * 255)
        return base64.b64encode(data.tobytes()).decode("ascii")


def pixel_box(box) -> tuple[int, int, int, int]:
    """xyxy float box → integer ``(x1, y1, x2, y2)`` rounded outwards (x2, y2 exclusive)."""
    return (int(np.floor(box[0])), int(np.floor(box[1])), int(np.ceil(box[2])),
            int(np.ceil(box[3])))


def _hue_peak(angles: np.ndarray) -> float:
    """Peak of a circular histogram (10° bins, smoothed over neighbours), degrees."""
    hist = np.bincount(((angles % 360) // 10).astype(int), minlength=36).astype(float)
    smooth = hist + 0.5 * (np.roll(hist, 1) + np.roll(hist, -1))
    return float(np.argmax(smooth) * 10 + 5)


def _paper_colour(lab: np.ndarray) -> np.ndarray:
    """The paper's colour in a float32 ``(h, w, 3)`` CIE L*a*b* image: the median of its
    brightest 40 % (``(3,)``)."""
    light = lab[..., 0]
    return np.median(lab[light >= np.percentile(light, 60)], axis=0)


def paper_share(image: np.ndarray) -> float:
    """Share (0–1) of an RGB ``(H, W, 3)`` uint8 image's pixels that are paper: within
    :data:`PAPER_DELTA_L` lightness and :data:`PAPER_DELTA_AB` chroma of the paper colour
    (:func:`_paper_colour`, as :func:`refine` takes it),
    analysed at :data:`PAPER_SIDE` px at most. Stamped pages of the stamp pool's train split
    run 0.23–0.99 (a phone scan darkening towards its edges is the lowest), photos 0.03–0.40.
    Raises ``ValueError`` for an image with no pixels."""
    if image.size == 0:
        raise ValueError("empty image")
    h, w = image.shape[:2]
    f = min(1.0, PAPER_SIDE / max(h, w))
    if f < 1.0:
        image = cv2.resize(image, (max(1, round(w * f)), max(1, round(h * f))),
                           interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2LAB).astype(np.float32)
    light, paper = lab[..., 0], _paper_colour(lab)
    near = ((np.abs(light - paper[0]) <= PAPER_DELTA_L)
            & (np.hypot(lab[..., 1] - paper[1], lab[..., 2] - paper[2]) <= PAPER_DELTA_AB))
    return float(near.mean())


def refine(image: np.ndarray, box) -> Ink | None:
    """The stamp's impression around a detected ``box`` (xyxy pixels) on an RGB ``(H, W, 3)``
    uint8 page, or ``None`` when the box holds too little ink to tell (keep the box then).
    See the module docstring for the method."""
    h, w = image.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    side = max(x2 - x1, y2 - y1, 1.0)
    grow = GROW * side
    wx1, wy1 = int(max(0, x1 - grow)), int(max(0, y1 - grow))
    wx2, wy2 = int(min(w, np.ceil(x2 + grow))), int(min(h, np.ceil(y2 + grow)))
    if wx2 - wx1 < 4 or wy2 - wy1 < 4:
        return None
    window = image[wy1:wy2, wx1:wx2]
    f = min(1.0, (MAX_WINDOW_PIXELS / window.shape[0] / window.shape[1]) ** 0.5)
    if f < 1.0:
        window = cv2.resize(window, (max(4, int(window.shape[1] * f)),
                                     max(4, int(window.shape[0] * f))),
                            interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(np.ascontiguousarray(window), cv2.COLOR_RGB2LAB).astype(np.float32)
    light, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    paper = _paper_colour(lab)
    da, db = a - paper[1], b - paper[2]
    chroma = np.hypot(da, db)
    drop = paper[0] - light
    coloured = (chroma >= CHROMA_MIN) & (chroma >= SATURATION_MIN * drop) & (drop > 8)
    dark = (drop > DARK_DELTA) & (chroma < DARK_SATURATION_MAX * drop)
    inner = np.zeros(light.shape, bool)
    ix1, iy1 = int((x1 - wx1) * f), int((y1 - wy1) * f)
    ix2, iy2 = int(np.ceil((x2 - wx1) * f)), int(np.ceil((y2 - wy1) * f))
    inner[iy1:iy2, ix1:ix2] = True
    n_col, n_dark = int((coloured & inner).sum()), int((dark & inner).sum())
    if n_col + n_dark < MIN_INK_PIXELS:
        return None
    hue = None
    if n_col >= COLOURED_SHARE * (n_col + n_dark) and n_col >= MIN_INK_PIXELS:
        angles = np.degrees(np.arctan2(db, da))
        hue = _hue_peak(angles[coloured & inner])
        ink = coloured & (np.abs((angles - hue + 180) % 360 - 180) <= HUE_TOLERANCE)
        kind = "coloured"
    else:
        ink, kind = np.zeros_like(dark), "dark"
        d = int(GROW_DARK * side * f)  # black ink: only the narrower window counts
        ink[max(0, iy1 - d):iy2 + d, max(0, ix1 - d):ix2 + d] = True
        ink &= dark
    divisor = JOIN_DIVISOR if kind == "coloured" else JOIN_DIVISOR_DARK
    radius = max(1, int(round(side * f / divisor)))
    joined = cv2.dilate(ink.astype(np.uint8), cv2.getStructuringElement(
        cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1)))
    count, labels = cv2.connectedComponents(joined, connectivity=8)
    if count <= 1:
        return None
    total = np.bincount(labels.ravel(), minlength=count)
    inside = np.bincount(labels[inner], minlength=count)
    own = inside >= INSIDE_SHARE * np.maximum(total, 1)
    own[0] = False
    stamp = ink & own[labels]
    if stamp.sum() < MIN_INK_PIXELS:
        return None
    # faint ink of the stamp's colour inside the box (specks opened away), joined to it
    if kind == "coloured":
        faint = ((chroma >= FAINT * CHROMA_MIN) & (drop > 8 * FAINT)
                 & (np.abs((angles - hue + 180) % 360 - 180) <= HUE_TOLERANCE))
    else:
        faint = (drop > FAINT * DARK_DELTA) & (chroma < DARK_SATURATION_MAX * np.maximum(drop, 1))
    faint = cv2.morphologyEx((faint & inner).astype(np.uint8), cv2.MORPH_OPEN,
                             np.ones((2, 2), np.uint8)).astype(bool)
    both = cv2.dilate((faint | stamp).astype(np.uint8), cv2.getStructuringElement(
        cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1)))
    count, labels = cv2.connectedComponents(both, connectivity=8)
    seeded = np.bincount(labels[stamp], minlength=count) > 0
    seeded[0] = False
    ys, xs = np.nonzero(stamp | (faint & seeded[labels]))
    refined = np.array([xs.min() / f + wx1, ys.min() / f + wy1,
                        (xs.max() + 1) / f + wx1, (ys.max() + 1) / f + wy1], np.float32)
    refined[[0, 2]] = refined[[0, 2]].clip(0, w)
    refined[[1, 3]] = refined[[1, 3]].clip(0, h)
    if box_iou(refined.tolist(), [x1, y1, x2, y2]) < MIN_AGREEMENT:
        return None
    px1, py1, px2, py2 = pixel_box(refined)
    if f < 1.0:
        stamp = cv2.resize(stamp.astype(np.uint8), (wx2 - wx1, wy2 - wy1),
                           interpolation=cv2.INTER_NEAREST).astype(bool)
    mask = stamp[py1 - wy1:py2 - wy1, px1 - wx1:px2 - wx1]
    return Ink(refined, np.ascontiguousarray(mask), kind, hue)


def remove(image: np.ndarray, inks: list[Ink], spread: int = 1) -> np.ndarray:
    """A copy of the RGB page with each stamp's ink replaced by the paper colour around it.

    The mask is widened by ``spread`` pixels (antialiased ink edges); the fill is the median
    colour of the box's non-ink pixels. Text under a coloured stamp, being a different colour,
    is not in its mask and stays. Returns ``(H, W, 3)`` uint8.
    """
    out = image.copy()
    for ink in inks:
        x1, y1, x2, y2 = pixel_box(ink.box)
        region = out[y1:y2, x1:x2]
        mask = ink.mask[:region.shape[0], :region.shape[1]]
        if spread:
            mask = cv2.dilate(mask.astype(np.uint8), np.ones((2 * spread + 1,) * 2,
                                                              np.uint8)).astype(bool)
        rest = region[~mask]
        fill = np.median(rest, axis=0) if len(rest) else np.full(3, 255)
        region[mask] = fill.astype(np.uint8)
    return out
