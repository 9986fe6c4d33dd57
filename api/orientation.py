"""Pages scanned sideways: which way a page's text lines run, and turning it upright.

The stamp detector and the layout model learnt upright pages: on the stamp pool's valid
split turned a quarter the stamp detector finds a sixth fewer stamps, and turned pages lose
their equations and tables to the layout model (training/experiments.md, 2026-12-08).
:func:`quarter_turns` tells how many quarter turns clockwise a page was given (0, 1 or 3; a
page upside down is not told from an upright one), in three steps, each run only when the
one before calls the page sideways:

1. :func:`line_direction` (a few ms on any page): in text, an ink blob's nearest blobs are
   mostly its neighbours along the line, so the share of nearest-neighbour pairs lying
   level against standing says whether lines run across or down the page, whatever the
   letters' size (the "docstrum", O'Gorman, IEEE TPAMI 15(11), 1993).
2. PP-OCR's text detector boxes the lines; the page is sideways when boxes standing on
   end outweigh lying ones by length.
3. PP-OCR's 0/180° line classifier reads the longest standing lines turned a quarter
   counter-clockwise and the same turned a half: the classifier leans towards 180° on
   document lines, so each line votes by how much more upright its one turn looks than the
   other.

Model code only: the PP-OCR engine (:class:`api.engines.ppocr.PPOCREngine`) is passed in.
"""

from __future__ import annotations

import cv2
import numpy as np

#: Whether ``/ocr``, ``/stamps`` and ``/extract`` turn pages scanned sideways upright by
#: default (their ``orient`` option).
ORIENT = True
#: Longest side (pixels) the page is shrunk to (at most) for the line-direction test.
DIRECTION_SIDE = 1000
#: Nearest neighbours of each ink blob counted for the line direction.
NEIGHBOURS = 4
#: Fewest ink blobs for a line direction; fewer → 0 (no lines to tell by).
MIN_BLOBS = 30
#: Shortest side (pixels, once shrunk) of a page with a line direction; thinner → 0.
MIN_SIDE = 16
#: log(level / standing neighbour pairs) below which a page may be sideways (step 1).
SIDEWAYS_RATIO = 0.0
#: Longest side (pixels) of the text detector's input for the line boxes (step 2).
LINES_SIDE = 960
#: A line box is standing (lying) when it is this many times taller (wider) than wide (tall).
LINE_ASPECT = 1.5
#: Standing lines read by the 0/180° classifier (the longest; step 3).
VOTE_LINES = 20
#: Fewest standing lines for ``/ocr`` to call a page sideways: vertical Korean signs are a
#: column or two of upright syllables, which ``/ocr`` reads as they stand.
OCR_MIN_LINES = 4


def line_direction(image: np.ndarray) -> float:
    """Which way an RGB ``(H, W, 3)`` uint8 page's text lines run: the log ratio of
    nearest-neighbour pairs of ink blobs lying within 20° of level to those within 20° of
    upright; positive when lines run across the page, negative when they run down it, 0
    for a page with fewer than :data:`MIN_BLOBS` blobs or, shrunk, thinner than
    :data:`MIN_SIDE`. Ink is an adaptive mean threshold
    (31-px blocks, 15 grey levels below the mean) of the page shrunk by the smallest whole
    factor that brings its longest side to :data:`DIRECTION_SIDE` or less; blobs are its
    8-connected components of at least 6 pixels and under a fifteenth of that side each way
    (letters, not rules or pictures); each has
    :data:`NEIGHBOURS` neighbours (SciPy's k-d tree)."""
    from scipy.spatial import cKDTree

    factor = -(-max(image.shape[:2]) // DIRECTION_SIDE)  # whole: OpenCV's fast area path
    if min(image.shape[:2]) // factor < MIN_SIDE:
        return 0.0  # a strip of a page: no lines to tell by
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    if factor > 1:
        grey = cv2.resize(grey, None, fx=1 / factor, fy=1 / factor, interpolation=cv2.INTER_AREA)
    ink = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV,
                                31, 15)
    _, _, stats, centres = cv2.connectedComponentsWithStats(ink, connectivity=8)
    w, h, area = stats[1:, 2], stats[1:, 3], stats[1:, 4]
    limit = max(grey.shape) / 15
    points = centres[1:][(area >= 6) & (w < limit) & (h < limit)]
    if len(points) < MIN_BLOBS:
        return 0.0
    _, idx = cKDTree(points).query(points, NEIGHBOURS + 1)
    pairs = points[idx[:, 1:]] - points[:, None, :]
    angle = np.degrees(np.arctan2(np.abs(pairs[..., 1]), np.abs(pairs[..., 0])))
    level, standing = float((angle < 20).sum()), float((angle > 70).sum())
    return float(np.log((level + 1.0) / (standing + 1.0)))


def _upright_probability(angle: int, score: float) -> float:
    return score if angle == 0 else 1.0 - score


def quarter_turns(image: np.ndarray, ocr, min_lines: int = 1) -> int:
    """Quarter turns clockwise an RGB ``(H, W, 3)`` uint8 page was given: 0 (upright, or
    upside down, or no lines to tell by), 1 or 3. ``ocr`` is the PP-OCR engine
    (``detect`` and ``orientation``), used only for pages :func:`line_direction` calls
    sideways; ``min_lines`` the fewest standing line boxes a sideways page has (``/ocr``
    asks for :data:`OCR_MIN_LINES`, so a vertical sign's column or two stays as it is)."""
    if line_direction(image) >= SIDEWAYS_RATIO:
        return 0
    quads, _ = ocr.detect(np.ascontiguousarray(image[:, :, ::-1]), max_side=LINES_SIDE)
    standing, lying = [], 0.0
    for quad in quads:
        x1, y1 = quad.min(0)
        x2, y2 = quad.max(0)
        w, h = x2 - x1, y2 - y1
        if h > LINE_ASPECT * w:
            standing.append((float(h), (x1, y1, x2, y2)))
        elif w > LINE_ASPECT * h:
            lying += float(w)
    if len(standing) < min_lines or sum(length for length, _ in standing) <= lying:
        return 0
    standing.sort(key=lambda item: -item[0])
    crops = []
    for _, (x1, y1, x2, y2) in standing[:VOTE_LINES]:
        crop = image[max(0, int(y1)):int(np.ceil(y2)) + 1, max(0, int(x1)):int(np.ceil(x2)) + 1]
        if crop.size:
            crops.append(np.ascontiguousarray(np.rot90(crop, 1)[:, :, ::-1]))
    if not crops:
        return 0
    one = ocr.orientation(crops)
    half = ocr.orientation([np.ascontiguousarray(c[::-1, ::-1]) for c in crops])
    vote = sum(_upright_probability(*a) - _upright_probability(*b) for a, b in zip(one, half))
    return 1 if vote >= 0 else 3


def upright(image: np.ndarray, turns: int) -> np.ndarray:
    """The page a page turned ``turns`` quarters clockwise was: ``image`` turned back
    (``(W, H, 3)`` for an odd ``turns``)."""
    return np.ascontiguousarray(np.rot90(image, turns % 4))


def boxes_back(boxes: np.ndarray, turns: int, shape: tuple[int, ...]) -> np.ndarray:
    """xyxy pixel boxes ``(N, 4)`` of :func:`upright` ``(image, turns)`` → the same boxes in
    ``image`` (``shape`` its ``(H, W, …)``): the bounds of their two corners'
    :func:`points_back`; float32."""
    corners = points_back(np.asarray(boxes, np.float32).reshape(-1, 2, 2), turns, shape)
    return np.concatenate([corners.min(1), corners.max(1)], 1)


def points_back(points: np.ndarray, turns: int, shape: tuple[int, ...]) -> np.ndarray:
    """``(..., 2)`` xy pixel points of :func:`upright` ``(image, turns)`` → the same points
    in ``image`` (``shape`` its ``(H, W, …)``); float32."""
    h, w = shape[:2]
    p = np.asarray(points, np.float32)
    x, y = p[..., 0], p[..., 1]
    turns %= 4
    if turns == 1:
        return np.stack([w - y, x], -1)
    if turns == 3:
        return np.stack([y, h - x], -1)
    if turns == 2:
        return np.stack([w - x, h - y], -1)
    return p.copy()


def mask_back(mask: np.ndarray, turns: int) -> np.ndarray:
    """A box-sized mask of :func:`upright` ``(image, turns)`` → the same mask in ``image``."""
    return np.ascontiguousarray(np.rot90(mask, -(turns % 4)))
