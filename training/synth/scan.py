"""Scanning a page: skew (boxes follow), blur, noise, exposure, grey, JPEG."""

from __future__ import annotations

import math
import random

import cv2
import numpy as np

from .weights import config


def scan(rng: random.Random, page: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``page`` ``(H, W, 3)`` uint8 as a scanner returns it, with ``boxes`` ``(N, 4)`` xyxy
    moved by the skew; each step applies with the config's ``scan`` probability."""
    p = config()["scan"]
    h, w = page.shape[:2]
    if rng.random() < p["skew"]:
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
    if rng.random() < p["blur"]:
        page = cv2.GaussianBlur(page, (0, 0), rng.uniform(0.3, 1.3))
    if rng.random() < p["noise"]:
        noise = np.random.default_rng(rng.getrandbits(32)).normal(0, rng.uniform(2, 10), page.shape)
        page = (page.astype(np.float32) + noise).clip(0, 255).astype(np.uint8)
    if rng.random() < p["exposure"]:
        a, b = rng.uniform(0.8, 1.2), rng.uniform(-20, 20)
        page = (page.astype(np.float32) * a + b).clip(0, 255).astype(np.uint8)
    if rng.random() < p["grey"]:
        grey = cv2.cvtColor(page, cv2.COLOR_RGB2GRAY)
        page = np.repeat(grey[..., None], 3, 2)
    if rng.random() < p["jpeg"]:
        ok, buf = cv2.imencode(".jpg", page[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, rng.randint(30, 92)])
        page = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]
    return np.ascontiguousarray(page), boxes
