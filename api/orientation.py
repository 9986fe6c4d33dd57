"""Pages scanned sideways or upside down: which way a page's text lines run, and turning
it upright.

The stamp detector and the layout model learnt upright pages: on the stamp pool's valid
split turned a quarter the stamp detector finds a sixth fewer stamps, and turned pages lose
their equations and tables to the layout model (training/experiments.md, 2026-12-08).
:func:`page_turns` tells how many quarter turns clockwise a page was given (0–3):
:func:`quarter_turns` for 1 and 3, then, on a page whose lines run level,
:func:`half_turn` for 2.

:func:`quarter_turns` works in three steps, each run only when the one before calls the
page sideways:

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

:func:`half_turn` reads the page's widest level lines (found in the line-direction test's
ink, no detector) with the same classifier, first as given, then turned 180° where it
doubts, and calls the page upside down only when PP-OCR's recogniser also reads the lines
turned more confidently than as given: the classifier alone turns Hindi, Russian and
stamp close-up pages that are upright, on which the recogniser is unsure both ways.

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
#: Level lines read by :func:`half_turn` (the widest).
HALF_LINES = 6
#: The line-direction ink is smeared level by this many median letter heights to join a
#: line's letters; a line is at least :data:`LINE_RUN` times wider than tall and
#: :data:`LINE_HEIGHTS` median letter heights tall.
SMEAR = 1.2
LINE_RUN = 5
LINE_HEIGHTS = (0.6, 2.5)
#: Margin around a line crop, as a fraction of its height.
LINE_MARGIN = 0.15
#: Mean upright probability (0–1) of the 0/180° classifier on the lines as given from
#: which a page is upright without a second look.
HALF_UPRIGHT = 0.5
#: Mean classifier difference (upright probability as given − turned 180°) from which a
#: page is upright; below it the recogniser decides.
HALF_VOTE = -0.2
#: A page is upside down when PP-OCR's recogniser reads its lines turned 180° at least this
#: much more confidently (mean score 0–1) than as given ...
HALF_READ = 0.1
#: ... and reads them turned as text, at a mean score of at least this: a close-up whose
#: letters are too big to be letter blobs gives scraps that read as noise both ways.
HALF_TEXT = 0.6
#: Fewest level lines for a page to be called upside down.
HALF_MIN_LINES = 3


class _Ink:
    """The page's ink for :func:`line_direction` and :func:`half_turn`: ``ink`` the
    binary ``(h, w)`` uint8 image (255 = ink) of the page shrunk by the whole ``factor``,
    ``letters`` its letter-like blobs as ``(N, 4)`` int x, y, w, h and ``centres``
    ``(N, 2)`` float64 (shrunk pixels). ``None`` from :meth:`of` for a strip thinner than
    :data:`MIN_SIDE` once shrunk."""

    def __init__(self, ink: np.ndarray, factor: int, letters: np.ndarray, centres: np.ndarray):
        self.ink, self.factor, self.letters, self.centres = ink, factor, letters, centres

    @classmethod
    def of(cls, image: np.ndarray) -> _Ink | None:
        factor = -(-max(image.shape[:2]) // DIRECTION_SIDE)  # whole: OpenCV's fast area path
        if min(image.shape[:2]) // factor < MIN_SIDE:
            return None  # a strip of a page: no lines to tell by
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        if factor > 1:
            grey = cv2.resize(grey, None, fx=1 / factor, fy=1 / factor,
                              interpolation=cv2.INTER_AREA)
        ink = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C,
                                    cv2.THRESH_BINARY_INV, 31, 15)
        _, _, stats, centres = cv2.connectedComponentsWithStats(ink, connectivity=8)
        w, h, area = stats[1:, 2], stats[1:, 3], stats[1:, 4]
        limit = max(grey.shape) / 15
        keep = (area >= 6) & (w < limit) & (h < limit)
        return cls(ink, factor, stats[1:, :4][keep], centres[1:][keep])

    def direction(self) -> float:
        """:func:`line_direction` of this ink."""
        points = self.centres
        if len(points) < MIN_BLOBS:
            return 0.0
        from scipy.spatial import cKDTree

        _, idx = cKDTree(points).query(points, NEIGHBOURS + 1)
        pairs = points[idx[:, 1:]] - points[:, None, :]
        angle = np.degrees(np.arctan2(np.abs(pairs[..., 1]), np.abs(pairs[..., 0])))
        level, standing = float((angle < 20).sum()), float((angle > 70).sum())
        return float(np.log((level + 1.0) / (standing + 1.0)))

    def level_lines(self, count: int) -> np.ndarray:
        """The ``count`` widest level text lines as ``(M, 4)`` float64 xyxy boxes in the
        full page's pixels, margins included (:data:`SMEAR`, :data:`LINE_RUN`,
        :data:`LINE_HEIGHTS`, :data:`LINE_MARGIN`); none when there are fewer than
        :data:`MIN_BLOBS` letters."""
        if len(self.letters) < MIN_BLOBS:
            return np.zeros((0, 4))
        height = float(np.median(self.letters[:, 3]))
        k = max(3, int(round(SMEAR * height)))
        smeared = cv2.dilate(self.ink, np.ones((1, k), np.uint8))
        _, _, stats, _ = cv2.connectedComponentsWithStats(smeared, connectivity=8)
        x, y, w, h = (stats[1:, i].astype(np.float64) for i in range(4))
        ok = (w >= LINE_RUN * h) & (h >= LINE_HEIGHTS[0] * height) & (h <= LINE_HEIGHTS[1] * height)
        order = np.argsort(-w[ok], kind="stable")[:count]
        x, y, w, h = x[ok][order], y[ok][order], w[ok][order], h[ok][order]
        pad = LINE_MARGIN * h
        boxes = np.stack([x + k / 2 - pad, y - pad, x + w - k / 2 + pad, y + h + pad], 1)
        return boxes * self.factor


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
    ink = _Ink.of(image)
    return 0.0 if ink is None else ink.direction()


def _upright_probability(angle: int, score: float) -> float:
    return score if angle == 0 else 1.0 - score


def page_turns(image: np.ndarray, ocr, min_lines: int = 1, half: bool = True) -> int:
    """Quarter turns clockwise an RGB ``(H, W, 3)`` uint8 page was given, 0–3:
    :func:`quarter_turns`, and where that finds none and ``half``, 2 when
    :func:`half_turn` calls the page upside down. ``ocr`` and ``min_lines`` as for
    :func:`quarter_turns`."""
    ink = _Ink.of(image)
    if ink is None:
        return 0
    turns = quarter_turns(image, ocr, min_lines, ink)
    if turns or not half:
        return turns
    return 2 if half_turn(image, ocr, ink) else 0


def half_turn(image: np.ndarray, ocr, ink: _Ink | None = None) -> bool:
    """Whether an RGB ``(H, W, 3)`` uint8 page whose lines run level is upside down.

    Its :data:`HALF_LINES` widest level lines (:meth:`_Ink.level_lines`) go to PP-OCR's
    0/180° classifier (``ocr.orientation``): a mean upright probability of at least
    :data:`HALF_UPRIGHT` → ``False``; else the crops turned 180° are read too, and a mean
    difference (as given − turned) of at least :data:`HALF_VOTE` → ``False``; else
    ``True`` only when PP-OCR's recogniser (``ocr.recognize``) reads the turned crops with
    a mean score of at least :data:`HALF_TEXT` and at least :data:`HALF_READ` above the
    crops as given. ``False`` for a page with fewer than :data:`HALF_MIN_LINES` level
    lines. ``ink`` is the page's :class:`_Ink` when already computed."""
    ink = _Ink.of(image) if ink is None else ink
    if ink is None:
        return False
    height, width = image.shape[:2]
    crops = []
    for x1, y1, x2, y2 in ink.level_lines(HALF_LINES):
        crop = image[max(0, int(y1)):min(height, int(np.ceil(y2))),
                     max(0, int(x1)):min(width, int(np.ceil(x2)))]
        if crop.size:
            crops.append(np.ascontiguousarray(crop[:, :, ::-1]))
    if len(crops) < HALF_MIN_LINES:
        return False
    given = [_upright_probability(*v) for v in ocr.orientation(crops)]
    if np.mean(given) >= HALF_UPRIGHT:
        return False
    turned = [_upright_probability(*v) for v in ocr.orientation(_half_turned(crops))]
    if np.mean(given) - np.mean(turned) >= HALF_VOTE:
        return False
    return reads_better_turned(crops, ocr.recognize)


def _half_turned(crops: list[np.ndarray]) -> list[np.ndarray]:
    return [np.ascontiguousarray(c[::-1, ::-1]) for c in crops]


def reads_better_turned(crops: list[np.ndarray], recognize) -> bool:
    """Whether line crops (``(h, w, 3)`` uint8, in the colour order ``recognize`` takes)
    read turned 180° as text: ``recognize`` (crops → ``(text, score 0–1)`` per crop) scores
    them turned at least :data:`HALF_TEXT` on average and at least :data:`HALF_READ` above
    the crops as given. :func:`half_turn` asks it of PP-OCR's recogniser; ``/ocr`` of
    ``ocr-ko-rec``, which reads Hangul."""
    read_given = np.mean([score for _, score in recognize(crops)])
    read_turned = np.mean([score for _, score in recognize(_half_turned(crops))])
    return bool(read_turned >= HALF_TEXT and read_turned - read_given >= HALF_READ)


def quarter_turns(image: np.ndarray, ocr, min_lines: int = 1, ink: _Ink | None = None) -> int:
    """Quarter turns clockwise an RGB ``(H, W, 3)`` uint8 page was given: 0 (upright, or
    upside down, or no lines to tell by), 1 or 3. ``ocr`` is the PP-OCR engine
    (``detect`` and ``orientation``), used only for pages :func:`line_direction` calls
    sideways; ``min_lines`` the fewest standing line boxes a sideways page has (``/ocr``
    asks for :data:`OCR_MIN_LINES`, so a vertical sign's column or two stays as it is);
    ``ink`` the page's :class:`_Ink` when already computed."""
    ink = _Ink.of(image) if ink is None else ink
    if ink is None or ink.direction() >= SIDEWAYS_RATIO:
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


def rotation(turns: int) -> int:
    """The JSON ``rotation`` of a page found turned ``turns`` quarters clockwise and read
    turned back: degrees clockwise, 0, 90, 180 or 270."""
    return 90 * (turns % 4)


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
