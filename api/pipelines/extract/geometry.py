"""Ink geometry of document pages: tight ink boxes, empty-band splits, straight rules and
contained boxes (OpenCV morphology on a boolean ink mask, ``(H, W)``; boxes xyxy pixels)."""

from __future__ import annotations

import cv2
import numpy as np

from ..base import Detection


def ink_box(ink: np.ndarray, box: list[float], pad: int) -> list[float] | None:
    """Tight box of the ink inside ``box`` grown by ``pad``; ``None`` when there is no ink."""
    h, w = ink.shape
    x1, y1 = max(0, int(box[0])), max(0, int(box[1]))
    x2, y2 = min(w, int(np.ceil(box[2]))), min(h, int(np.ceil(box[3])))
    region = ink[y1:y2, x1:x2]
    if region.size == 0 or region.sum() < 8:
        return None
    rows, cols = np.flatnonzero(region.any(1)), np.flatnonzero(region.any(0))
    return [float(max(0, x1 + cols[0] - pad)), float(max(0, y1 + rows[0] - pad)),
            float(min(w, x1 + cols[-1] + 1 + pad)), float(min(h, y1 + rows[-1] + 1 + pad))]


def runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """``[start, end)`` runs of True in a 1-D boolean array."""
    padded = np.concatenate([[False], flags, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(edges[::2], edges[1::2]))


def split_gutters(ink: np.ndarray, box: list[float], min_gap: int) -> list[list[float]]:
    """Split ``box`` at empty bands (rows, then columns) at least ``min_gap`` px wide.

    Parts whose ink is under 15 % of the largest part's area (labels such as "Fig. 3B")
    are merged into the nearest other part.
    """
    x1, y1, x2, y2 = (int(v) for v in box)
    region = ink[y1:y2, x1:x2]
    parts = []
    for r0, r1 in runs(region.any(1)):
        band = region[r0:r1]
        for c0, c1 in runs(band.any(0)):
            parts.append([c0, r0, c1, r1])
    if len(parts) <= 1:
        return [box]

    def merge(groups: list[list[int]], axis: int) -> list[list[int]]:
        groups = sorted(groups, key=lambda g: g[axis])
        merged = [groups[0]]
        for g in groups[1:]:
            last = merged[-1]
            if g[axis] - last[axis + 2] < min_gap:
                merged[-1] = [min(last[0], g[0]), min(last[1], g[1]),
                              max(last[2], g[2]), max(last[3], g[3])]
            else:
                merged.append(g)
        return merged

    # Ink runs closer than min_gap belong together: merge along y, then along x when every
    # part shares one row band; repeat until stable.
    for _ in range(4):
        before = len(parts)
        parts = merge(parts, 1)
        if len(parts) > 1 and all(min(a[3], b[3]) > max(a[1], b[1])
                                  for a in parts for b in parts):
            parts = merge(parts, 0)
        if len(parts) == before:
            break
    areas = [(p[2] - p[0]) * (p[3] - p[1]) for p in parts]
    big = [p for p, a in zip(parts, areas) if a >= 0.15 * max(areas)]
    for p, a in zip(parts, areas):
        if a < 0.15 * max(areas):
            centre = ((p[0] + p[2]) / 2, (p[1] + p[3]) / 2)
            nearest = min(big, key=lambda q: max(0, q[1] - centre[1], centre[1] - q[3])
                          + max(0, q[0] - centre[0], centre[0] - q[2]))
            nearest[:] = [min(nearest[0], p[0]), min(nearest[1], p[1]),
                          max(nearest[2], p[2]), max(nearest[3], p[3])]
    return [[float(x1 + p[0]), float(y1 + p[1]), float(x1 + p[2]), float(y1 + p[3])]
            for p in big]


def long_lines(ink: np.ndarray, box: list[float]) -> tuple[np.ndarray, int]:
    """Mask of straight horizontal/vertical rules in ``box`` (runs ≥ 1/8 of its shorter side)
    and the number of horizontal rules spanning at least half its width (ruled tables have
    several)."""
    x1, y1, x2, y2 = (int(v) for v in box)
    region = ink[y1:y2, x1:x2].astype(np.uint8)
    h, w = region.shape
    side = max(8, min(h, w) // 8)
    horiz = cv2.morphologyEx(region, cv2.MORPH_OPEN,
                             cv2.getStructuringElement(cv2.MORPH_RECT, (side, 1)))
    vert = cv2.morphologyEx(region, cv2.MORPH_OPEN,
                            cv2.getStructuringElement(cv2.MORPH_RECT, (1, side)))
    wide = cv2.morphologyEx(region, cv2.MORPH_OPEN,
                            cv2.getStructuringElement(cv2.MORPH_RECT, (max(8, w // 2), 1)))
    count = len(runs(wide.any(1)))
    return (horiz | vert).astype(bool), count


def drop_contained(items: list[Detection]) -> list[Detection]:
    """Drop an item whose box lies ≥ 80 % inside a larger item of the same class."""
    def area(b):
        return max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])

    keep = []
    for item in items:
        inside = False
        for other in items:
            if other is item or other.cls != item.cls or area(other.box) < area(item.box):
                continue
            ix = max(0.0, min(item.box[2], other.box[2]) - max(item.box[0], other.box[0]))
            iy = max(0.0, min(item.box[3], other.box[3]) - max(item.box[1], other.box[1]))
            if area(item.box) and ix * iy >= 0.8 * area(item.box) and (
                    area(other.box) > area(item.box) or id(other) < id(item)):
                inside = True
                break
        if not inside:
            keep.append(item)
    return keep
