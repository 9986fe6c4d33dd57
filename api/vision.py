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
    if rotate_vertical and height >= 1.5 * width:
        crop = np.rot90(crop)
    return np.ascontiguousarray(crop)


def reading_order(boxes: list[list[float]], row_overlap: float = 0.5) -> list[list[int]]:
    """Group ``xyxy`` boxes into rows and order them top-to-bottom, left-to-right.

    Two boxes share a row when their vertical overlap is at least ``row_overlap`` of the
    shorter box's height. Returns a list of rows, each a list of indices into ``boxes``.
    """
    order = sorted(range(len(boxes)), key=lambda i: (boxes[i][1] + boxes[i][3]) / 2)
    rows: list[list[int]] = []
    for i in order:
        y1, y2 = boxes[i][1], boxes[i][3]
        placed = False
        for row in rows:
            ry1 = min(boxes[j][1] for j in row)
            ry2 = max(boxes[j][3] for j in row)
            overlap = min(y2, ry2) - max(y1, ry1)
            if overlap >= row_overlap * min(y2 - y1, ry2 - ry1):
                row.append(i)
                placed = True
                break
        if not placed:
            rows.append([i])
    return [sorted(row, key=lambda j: boxes[j][0]) for row in rows]
