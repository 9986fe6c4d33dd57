"""Geometry and image pieces shared by every pipeline (no Flask, no models).

Conventions: images are ``numpy.ndarray`` of dtype ``uint8``, shape ``(H, W, 3)`` in RGB
order unless a name says BGR; boxes are ``xyxy`` in pixels of the image they refer to;
quads are ``(4, 2)`` float arrays of ``(x, y)`` pixels, clockwise from top-left.
"""

from __future__ import annotations

import cv2
import numpy as np


def order_quad(points: np.ndarray) -> np.ndarray:
    """Order four ``(x, y)`` points clockwise starting top-left.

    Args: ``points`` array-like of shape ``(4, 2)``.
    Returns: ``float32`` array ``(4, 2)``: top-left, top-right, bottom-right, bottom-left.
    """
    pts = np.asarray(points, dtype=np.float32).reshape(4, 2)
    by_x = pts[np.argsort(pts[:, 0], kind="stable")]
    left, right = by_x[:2], by_x[2:]
    tl, bl = left[np.argsort(left[:, 1], kind="stable")]
    tr, br = right[np.argsort(right[:, 1], kind="stable")]
    return np.stack([tl, tr, br, bl]).astype(np.float32)


def quad_to_xyxy(quad: np.ndarray) -> list[float]:
    """Axis-aligned bounding box ``[x1, y1, x2, y2]`` (pixels) of a ``(4, 2)`` quad."""
    q = np.asarray(quad, dtype=np.float32).reshape(-1, 2)
    return [float(q[:, 0].min()), float(q[:, 1].min()), float(q[:, 0].max()), float(q[:, 1].max())]


def crop_quad(image: np.ndarray, quad: np.ndarray, rotate_vertical: bool = True) -> np.ndarray:
    """Perspective-correct crop of a quadrilateral region.

    The quad is warped to an upright rectangle whose sides are the quad's longer edges
    (OpenCV ``getPerspectiveTransform``; the same rectification PaddleOCR uses for text lines).
    With ``rotate_vertical`` a crop at least 1.5× taller than wide is turned 90° so that
    vertical text lines read left to right.

    Args: ``image`` ``(H, W, C)`` uint8; ``quad`` ``(4, 2)`` pixels, clockwise from top-left.
    Returns: ``(h, w, C)`` uint8 crop with ``h, w ≥ 1``.
    """
    q = order_quad(quad)
    width = int(round(max(np.linalg.norm(q[0] - q[1]), np.linalg.norm(q[3] - q[2]))))
    height = int(round(max(np.linalg.norm(q[0] - q[3]), np.linalg.norm(q[1] - q[2]))))
    width, height = max(width, 1), max(height, 1)
    dst = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(q, dst)
    crop = cv2.warpPerspective(image, matrix, (width, height), flags=cv2.INTER_CUBIC,
                               borderMode=cv2.BORDER_REPLICATE)
    return turn_vertical(crop) if rotate_vertical else np.ascontiguousarray(crop)


def is_vertical(crop: np.ndarray) -> bool:
    """Whether a text crop ``(h, w, …)`` is at least 1.5× taller than wide: a line of
    text running down the page, either turned 90° or written vertically."""
    return crop.shape[0] >= 1.5 * crop.shape[1]


def turn_vertical(crop: np.ndarray) -> np.ndarray:
    """``crop`` turned 90° counter-clockwise when :func:`is_vertical` (so a line running down
    the page reads left to right), else as it is; contiguous either way."""
    return np.ascontiguousarray(np.rot90(crop) if is_vertical(crop) else crop)


#: :func:`find_arrows`: a component must be this much wider than tall, its head this many
#: times the shaft's thickness, at least this share of the line crop's height (and
#: ``ARROW_MIN_HEIGHT`` pixels at the analysis height), and overlap the arrow fitted to it
#: (head and shaft each, IoU) at least ``ARROW_MIN_FIT``. Chosen with
#: ``scripts/eval_arrows.py``: bold arrows drawn beside text (±3°, blurred, JPEG) are found
#: on 269 of 300 lines 28–80 px high and 299 of 300 at 60–200 px, and none of 4,193 Korean
#: text crops without arrows (the pool's 3,193, 1,000 held-out-font synthetic ones) fires.
ARROW_MIN_ELONGATION = 1.3
ARROW_MIN_HEAD_RATIO = 2.0
ARROW_MIN_HEIGHT_SHARE = 0.4
ARROW_MIN_HEIGHT = 10
ARROW_MIN_FIT = 0.7
#: :func:`find_arrows` looks at a crop's every ``h // ARROW_ANALYSIS_HEIGHT``-th pixel (a
#: bold arrow keeps its shape at that height), so a line costs about the same whatever its size.
ARROW_ANALYSIS_HEIGHT = 48


def _border_colour(crop: np.ndarray) -> np.ndarray:
    """The median colour ``(3,)`` uint8 of a text crop's outermost pixels: its background."""
    return np.median(np.concatenate([crop[0], crop[-1], crop[:, 0], crop[:, -1]]),
                     axis=0).round().astype(np.uint8)


def _background_distance(crop: np.ndarray) -> np.ndarray:
    """Per-pixel distance ``(h, w)`` uint8 of ``crop`` from :func:`_border_colour` (the
    largest of the three channels' absolute differences)."""
    red, green, blue = cv2.split(cv2.absdiff(crop, (*_border_colour(crop).tolist(), 0)))
    return cv2.max(cv2.max(red, green), blue)


def _arrow_fit(component: np.ndarray) -> float:
    """How well a component ``(h, w)`` bool is a filled horizontal arrow pointing left or
    right: the lower of the IoU of its head with a triangle from the tip to the tallest
    column and of its shaft with a straight band of its median thickness, for the better
    direction; 0 when it is not shaped as an arrow at all (see the ``ARROW_*`` settings)."""
    h, w = component.shape
    best = 0.0
    for mask in (component, component[:, ::-1]):  # pointing left; pointing right, mirrored
        profile = mask.sum(0)
        base = int(np.argmax(profile))  # the head's base: its tallest column
        shaft = profile[base + 1:]
        if not 0.15 * w <= base + 1 <= 0.65 * w or len(shaft) < 0.3 * w:
            continue
        thickness = float(np.median(shaft))
        rows = np.nonzero(mask[:, base])[0]
        top, bottom = int(rows.min()), int(rows.max())
        if (thickness <= 0 or profile[base] < ARROW_MIN_HEAD_RATIO * thickness
                or base + 1 < 0.3 * (bottom - top + 1)):
            continue
        y = np.arange(h, dtype=np.float32)[:, None]
        inked = shaft > 0
        centre = float(np.median((y * mask[:, base + 1:]).sum(0)[inked] / shaft[inked]))
        # the head narrows linearly from its base to the tip, on the shaft's centre line
        f = np.arange(1, w + 1, dtype=np.float32) / (base + 1)
        fitted = ((y >= np.round(centre - f * (centre - top)))
                  & (y <= np.round(centre + f * (bottom - centre))))
        fitted[:, base + 1:] = ((y >= round(centre - thickness / 2))
                                & (y < round(centre + thickness / 2)))
        fits = [(a & b).sum() / max(1, (a | b).sum())
                for a, b in ((mask[:, :base + 1], fitted[:, :base + 1]),
                             (mask[:, base + 1:], fitted[:, base + 1:]))]
        best = max(best, float(min(fits)))
    return best


def find_arrows(crop: np.ndarray) -> list[np.ndarray]:
    """The filled horizontal arrows (direction signs: ←, →) in a text line crop.

    The crop, sampled every ``h // ARROW_ANALYSIS_HEIGHT``-th pixel (48–95 rows; a shorter
    crop as it is), has as its ink what differs from its border's median colour (Otsu's
    threshold on the largest channel difference, at least 30); each 8-connected component
    of it that is elongated, at least ``ARROW_MIN_HEIGHT_SHARE`` of the crop's height, and
    fits an arrow (:func:`_arrow_fit` ≥ ``ARROW_MIN_FIT``) is one. Args: ``crop``
    ``(h, w, 3)`` uint8 RGB, a horizontal line. Returns each arrow's pixels as an ``(h, w)``
    bool mask."""
    h, w = crop.shape[:2]
    if h == 0 or w == 0:
        return []
    step = max(1, h // ARROW_ANALYSIS_HEIGHT)
    small = crop[::step, ::step]
    distance = _background_distance(np.ascontiguousarray(small))
    threshold, _ = cv2.threshold(distance, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    ink = (distance > max(threshold, 30)).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    arrows = []
    for i in range(1, count):
        x, y, cw, ch = stats[i, :4]
        if (ch < max(ARROW_MIN_HEIGHT, ARROW_MIN_HEIGHT_SHARE * small.shape[0])
                or cw < ARROW_MIN_ELONGATION * ch):
            continue
        if _arrow_fit(labels[y:y + ch, x:x + cw] == i) >= ARROW_MIN_FIT:
            # back to the crop's pixels: each sample stands for the step × step block it starts
            arrows.append(np.repeat(np.repeat(labels == i, step, axis=0), step, axis=1)[:h, :w])
    return arrows


def paint_out_arrows(crop: np.ndarray) -> np.ndarray:
    """``crop`` ``(h, w, 3)`` uint8 RGB with each of its arrows (:func:`find_arrows`),
    widened by a few pixels for its blurred edge, painted in the background colour; the crop
    itself when it holds none. Arrows are pictograms, not text: a line recogniser reads a
    bold ← as ``1`` (``← 56Km`` as ``156Km`` on the development road sign)."""
    arrows = find_arrows(crop)
    if not arrows:
        return crop
    grow = max(2, crop.shape[0] // 20)
    kernel = np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)
    mask = cv2.dilate(np.any(arrows, axis=0).astype(np.uint8), kernel) > 0
    out = crop.copy()
    out[mask] = _border_colour(crop)
    return out


#: :func:`restack_vertical`: rows (at most) the crop is analysed at, how many candidate cuts
#: back a segment may reach, the weight of the square-glyph prior against cutting ink, and a
#: character's expected inked height as a share of the column's inked width (outlines,
#: shadows and wide syllables make the column wider than a syllable is tall; chosen on the
#: development columns of ``scripts/eval_ocr_vertical.py --seed 7000000``: 1.0, 0.85, 0.75,
#: 0.65 read 0.615 / 0.665 / 0.650 / 0.600 as tight crops, 0.285 / 0.335 / 0.420 / 0.420 in
#: photos).
_RESTACK_MAX_ROWS = 1024
_RESTACK_REACH = 40
_RESTACK_SHAPE_WEIGHT = 2.0
_RESTACK_SIZE_RATIO = 0.75


def _text_masks(crop: np.ndarray) -> list[np.ndarray]:
    """Three boolean ``(h, w)`` masks of the pixels that differ from a text column's
    background, with the background taken three ways: the median grey of the crop's border
    (letters with a margin around them), each row's median grey (a panel shaded from top to
    bottom) and the crop's most common colour (a 512-bin RGB histogram: a sign panel the
    detector's box runs past). Each is Otsu's threshold on the difference (at least 20 grey
    levels, 30 RGB units). Rows that differ almost whole (> 85 %) and columns that differ
    over most of their height (> 60 %) lie beyond the panel or along its edge, and are
    cleared.
    """
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(np.float32)
    pixels = crop.reshape(-1, 3)
    bins = (pixels >> 5).astype(np.int32) @ np.array([64, 8, 1], np.int32)
    common = pixels[bins == np.bincount(bins, minlength=512).argmax()].mean(0)
    masks = []
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    for diff, floor in ((np.abs(grey - np.median(border)), 20),
                        (np.abs(grey - np.median(grey, axis=1, keepdims=True)), 20),
                        (np.linalg.norm(crop.astype(np.float32) - common, axis=2), 30)):
        threshold, _ = cv2.threshold(np.clip(diff, 0, 255).astype(np.uint8), 0, 255,
                                     cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        mask = diff > max(threshold, floor)
        mask[mask.mean(1) > 0.85] = False
        mask[:, mask.mean(0) > 0.6] = False
        masks.append(mask)
    return masks


def restack_vertical(crop: np.ndarray) -> list[np.ndarray]:
    """Lay a column of upright characters (CJK vertical writing: signboards, spines, banners)
    side by side as one horizontal line a line recogniser can read.

    Each of the crop's text masks (:func:`_text_masks`) gives a row profile; cuts are chosen
    among its local minima by dynamic programming so that each piece's inked height is close
    to ``_RESTACK_SIZE_RATIO`` × the column's inked width (Hangul and Han characters about
    fill a square) while cutting through as little ink as possible (cost:
    ``_RESTACK_SHAPE_WEIGHT`` × log² of the height ratio per piece plus the profile at each
    cut over its mean). Pieces keep the crop's full width, so the margins between them stay
    as letter spacing, and are padded to one height (edge pixels repeated). The crop is
    analysed at most ``_RESTACK_MAX_ROWS`` rows high.

    Args: ``crop`` ``(h, w, 3)`` uint8 RGB, upright (not turned 90°).
    Returns: the distinct layouts, each ``(h', w', 3)`` uint8 with ``w'`` about the number of
    characters × ``w``; ``[crop]`` when no mask finds more than one piece (one character, or
    no text a mask can see).
    """
    h, w = crop.shape[:2]
    scale = min(1.0, _RESTACK_MAX_ROWS / h)
    small = cv2.resize(crop, (max(1, round(w * scale)), max(1, round(h * scale))),
                       interpolation=cv2.INTER_AREA) if scale < 1 else crop
    layouts: list[np.ndarray] = []
    seen: set[tuple[int, ...]] = set()
    for mask in _text_masks(small):
        edges = _column_cuts(mask, scale)
        if edges and tuple(edges) not in seen:
            seen.add(tuple(edges))
            layouts.append(_side_by_side(crop, edges))
    return layouts or [crop]


def _column_cuts(mask: np.ndarray, scale: float) -> list[int] | None:
    """Piece edges (rows of the full-size crop, top to bottom) for :func:`restack_vertical`
    from a text mask of the crop scaled by ``scale``; ``None`` for one piece or no text."""
    rows, cols = mask.mean(1), mask.mean(0)
    inked = rows > 0.02
    xs, ys = np.flatnonzero(cols > 0.02), np.flatnonzero(inked)
    if len(xs) < 2 or len(ys) < 2:
        return None
    size = float(xs[-1] - xs[0] + 1) * _RESTACK_SIZE_RATIO
    y0, y1 = int(ys[0]), int(ys[-1]) + 1
    profile = np.convolve(rows, np.ones(3) / 3, mode="same")
    mean = float(profile[y0:y1].mean()) + 1e-6
    minima = [y for y in range(y0 + 1, y1 - 1)
              if profile[y] <= profile[max(y0, y - 2):y + 3].min() + 1e-9]
    points = [y0] + [y for k, y in enumerate(minima) if k == 0 or y - minima[k - 1] > 1] + [y1]
    n = mask.shape[0]
    first = np.full(n + 1, n, int)  # first inked row at or below y
    last = np.full(n + 1, -1, int)  # last inked row above y
    for y in range(n - 1, -1, -1):
        first[y] = y if inked[y] else first[y + 1]
    for y in range(1, n + 1):
        last[y] = y - 1 if inked[y - 1] else last[y - 1]

    def shape_cost(a: int, b: int) -> float:
        top, bottom = first[a], last[b]
        if bottom < top:
            return 9.0
        return _RESTACK_SHAPE_WEIGHT * float(np.log((bottom - top + 1) / size)) ** 2

    best, back = [0.0] + [np.inf] * (len(points) - 1), [0] * len(points)
    for j in range(1, len(points)):
        cut = profile[points[j]] / mean if j < len(points) - 1 else 0.0
        for i in range(max(0, j - _RESTACK_REACH), j):
            cost = best[i] + shape_cost(points[i], points[j]) + cut
            if cost < best[j]:
                best[j], back[j] = cost, i
    cuts, j = [], len(points) - 1
    while j > 0:
        j = back[j]
        cuts.append(points[j])
    cuts = sorted(cuts)[1:]
    if not cuts:
        return None
    margin = min(y0, n - y1, int(0.15 * size))
    return [round(e / scale) for e in (y0 - margin, *cuts, y1 + margin)]


def _side_by_side(crop: np.ndarray, edges: list[int]) -> np.ndarray:
    """The crop's row bands between ``edges`` padded to one height (edge pixels repeated)
    and laid left to right."""
    pieces = [crop[a:b] for a, b in zip(edges, edges[1:]) if b > a]
    height = max(p.shape[0] for p in pieces)
    pieces = [cv2.copyMakeBorder(p, (height - p.shape[0]) // 2,
                                 height - p.shape[0] - (height - p.shape[0]) // 2, 0, 0,
                                 cv2.BORDER_REPLICATE) for p in pieces]
    return np.ascontiguousarray(np.concatenate(pieces, axis=1))


def _rows(indices: list[int], boxes: list[list[float]], row_overlap: float) -> list[list[int]]:
    """Group boxes whose vertical overlap is ≥ ``row_overlap`` × the shorter height."""
    rows: list[list[int]] = []
    for i in sorted(indices, key=lambda k: (boxes[k][1] + boxes[k][3]) / 2):
        y1, y2 = boxes[i][1], boxes[i][3]
        for row in rows:
            ry1 = min(boxes[j][1] for j in row)
            ry2 = max(boxes[j][3] for j in row)
            if min(y2, ry2) - max(y1, ry1) >= row_overlap * min(y2 - y1, ry2 - ry1):
                row.append(i)
                break
        else:
            rows.append([i])
    return [sorted(row, key=lambda j: boxes[j][0]) for row in rows]


def _widest_gap(indices: list[int], boxes: list[list[float]], axis: int,
                min_share: float = 0.0):
    """The widest empty band along ``axis`` (0 = x, 1 = y) as ``(width, split position)``.

    Boxes shorter along ``axis`` than ``min_share`` × the group's extent are ignored, so a
    short caption sitting in a column gutter does not hide the gutter.
    """
    lo_all = min(boxes[i][axis] for i in indices)
    hi_all = max(boxes[i][axis + 2] for i in indices)
    floor = min_share * (hi_all - lo_all)
    spans = sorted((boxes[i][axis], boxes[i][axis + 2]) for i in indices
                   if boxes[i][axis + 2] - boxes[i][axis] >= floor)
    if len(spans) < 2:
        return 0.0, None
    best, reach = (0.0, None), spans[0][1]
    for lo, hi in spans[1:]:
        if lo - reach > best[0]:
            best = (lo - reach, (lo + reach) / 2)
        reach = max(reach, hi)
    return best


def reading_order(boxes: list[list[float]], row_overlap: float = 0.5) -> list[list[int]]:
    """Order ``xyxy`` boxes for reading: columns left to right, rows top to bottom.

    Recursive XY-cut (Nagy & Seth, 1984): the set is split at its widest empty band, a
    horizontal one (top part first) or a vertical one (left part first), until no band
    is wider than half the median box height. Vertical bands are found among boxes at least
    a quarter of the group's width, so captions in a gutter do not block a column split;
    every box goes to the side of its centre. each remaining group is split into rows
    (vertical overlap ≥ ``row_overlap`` of the shorter box), read left to right.
    Returns a list of rows, each a list of indices into ``boxes``.
    """
    if not boxes:
        return []
    heights = sorted(b[3] - b[1] for b in boxes)
    min_gap = 0.5 * heights[len(heights) // 2]

    def cut(indices: list[int]) -> list[list[int]]:
        if len(indices) > 1:
            x_gap, x_at = _widest_gap(indices, boxes, 0, min_share=0.25)
            y_gap, y_at = _widest_gap(indices, boxes, 1)
            gap, axis, at = max((x_gap, 0, x_at), (y_gap, 1, y_at))
            if gap > min_gap:
                centre = [(boxes[i][axis] + boxes[i][axis + 2]) / 2 for i in indices]
                first = [i for i, c in zip(indices, centre) if c <= at]
                rest = [i for i, c in zip(indices, centre) if c > at]
                if first and rest:
                    return cut(first) + cut(rest)
        return _rows(indices, boxes, row_overlap)

    return cut(list(range(len(boxes))))


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float = 0.5) -> np.ndarray:
    """Greedy non-maximum suppression (OpenCV ``dnn.NMSBoxes``).

    Args: ``boxes`` ``(N, 4)`` xyxy; ``scores`` ``(N,)``; ``iou`` overlap above which the
    weaker box is dropped. Returns indices of kept boxes, best first.
    """
    if len(boxes) == 0:
        return np.zeros(0, int)
    b = np.asarray(boxes, np.float32)
    xywh = np.stack([b[:, 0], b[:, 1], b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], 1)
    keep = cv2.dnn.NMSBoxes(xywh.tolist(), np.asarray(scores, np.float32).tolist(), 0.0, iou)
    return np.asarray(keep, int).reshape(-1)


def box_iou(a: list[float], b: list[float]) -> float:
    """Intersection over union of two xyxy boxes (0–1)."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def box_contains(outer: list[float], inner: list[float], slack: float = 0.0) -> bool:
    """Whether xyxy box ``outer`` holds ``inner`` whole, each side allowed ``slack`` pixels."""
    return (outer[0] <= inner[0] + slack and outer[1] <= inner[1] + slack
            and outer[2] >= inner[2] - slack and outer[3] >= inner[3] - slack)


def crop_box(image: np.ndarray, box: list[float], pad: int = 0) -> np.ndarray:
    """Crop ``image`` to an xyxy ``box`` (pixels) grown by ``pad``, clipped to the image."""
    h, w = image.shape[:2]
    x1, y1 = max(0, int(box[0]) - pad), max(0, int(box[1]) - pad)
    x2, y2 = min(w, int(np.ceil(box[2])) + pad), min(h, int(np.ceil(box[3])) + pad)
    return image[y1:y2, x1:x2]


def draw_boxes(image: np.ndarray, boxes: list[list[float]], labels: list[str]) -> np.ndarray:
    """Return a copy of an RGB image with labelled xyxy boxes drawn (one colour per label)."""
    out = image.copy()
    palette = [(230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180),
               (70, 240, 240), (240, 50, 230), (128, 128, 0)]
    names = sorted(set(labels))
    scale = max(0.5, min(out.shape[:2]) / 1000)
    thick = max(2, int(round(2 * scale)))
    for box, label in zip(boxes, labels):
        colour = palette[names.index(label) % len(palette)]
        x1, y1, x2, y2 = (int(round(v)) for v in box)
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, thick)
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.6 * scale, thick)
        ty = max(th + base, y1)
        cv2.rectangle(out, (x1, ty - th - base), (x1 + tw + 4, ty), colour, -1)
        cv2.putText(out, label, (x1 + 2, ty - base), cv2.FONT_HERSHEY_SIMPLEX, 0.6 * scale,
                    (255, 255, 255), thick, cv2.LINE_AA)
    return out


def ink_mask(image: np.ndarray) -> np.ndarray:
    """Boolean ``(H, W)`` mask of dark (ink) pixels: Otsu threshold on grayscale, capped at 200
    so faint paper texture on near-blank pages never counts as ink."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    threshold, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return gray < min(threshold, 200)


def encode_png(image: np.ndarray) -> bytes:
    """PNG bytes of an RGB ``(H, W, 3)`` or RGBA ``(H, W, 4)`` uint8 image (OpenCV encoder)."""
    if image.ndim == 3 and image.shape[2] == 4:
        bgr = cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA)
    elif image.ndim == 3:
        bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    else:
        bgr = image
    ok, buf = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:  # pragma: no cover - OpenCV only fails on invalid arrays
        raise ValueError("PNG encoding failed")
    return buf.tobytes()


IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)


def imagenet_normalise(image: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` uint8 → float32 of the same shape: scaled to 0–1, then ImageNet mean and
    std subtracted and divided per channel, in the channel order given (the mean and std are
    listed R, G, B; PaddleOCR's detectors apply them as listed to BGR input)."""
    return (image.astype(np.float32) / 255.0 - IMAGENET_MEAN) / IMAGENET_STD


def fit_within(image: np.ndarray, max_side: int) -> np.ndarray:
    """``image`` ``(H, W, ...)`` scaled down (area interpolation, aspect kept) so its longer
    side is at most ``max_side`` pixels; returned unchanged when it already fits."""
    h, w = image.shape[:2]
    if max(h, w) <= max_side:
        return image
    scale = max_side / max(h, w)
    return cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))),
                      interpolation=cv2.INTER_AREA)


def letterbox(image: np.ndarray, size: int, pad_value: int = 114,
              area: bool = False) -> tuple[np.ndarray, float]:
    """Resize keeping the aspect ratio so the longer side is ``size``, pad bottom/right.

    ``area`` shrinks with pixel-area averaging (``cv2.INTER_AREA``) instead of bilinear: for
    large reductions (a 300 dpi page to 512 px) it keeps thin strokes instead of aliasing them.

    Returns the ``(size, size, C)`` uint8 canvas and the scale (canvas px per input px);
    a box in canvas pixels maps back by dividing by the scale (YOLOX convention).
    """
    h, w = image.shape[:2]
    scale = min(size / h, size / w)
    interpolation = cv2.INTER_AREA if area and scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (max(1, int(round(w * scale))), max(1, int(round(h * scale)))),
                         interpolation=interpolation)
    canvas = np.full((size, size, image.shape[2]), pad_value, np.uint8)
    canvas[:resized.shape[0], :resized.shape[1]] = resized
    return canvas, scale


def clip_boxes(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """Clip ``(N, 4)`` xyxy boxes to an image of ``width`` × ``height`` pixels (in place)."""
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
    return boxes
