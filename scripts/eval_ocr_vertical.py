"""Measure /ocr on Korean scene words in context: vertical writing (signboard words stacked
upright in one column) or, with ``--horizontal``, the recogniser's synthetic lines.

Usage: python scripts/eval_ocr_vertical.py [--count 200] [--seed 9000000] [--lang auto]
[--horizontal]
Renders ``--count`` columns (``training.text_lines.vertical_sample``) or lines
(``training.text_lines.sample``: scene and document styles, as the recogniser's synthetic
validation set draws them) in the fonts held out of the Korean recogniser's training, reads
each through the OCR pipeline three times: as a tight crop, set on a plain grey page (100 px
margin: the detector then boxes the whole sign panel) and pasted into a photo of
``../shared/data/seeds/objectcut`` (scored on the line closest to the word), and prints
exact-word accuracy and CER (spaces removed), and exact words as the service returns them (a
word split into lines or syllables counts as wrong). Horizontal lines are also read by
``ocr-ko-rec`` alone as tight crops, the reference for what detection, cropping and the
choice of engine keep. The development set of 2026-12-07 was seeds 7,000,000 + i; the figures
reported were measured on 9,000,000 + i. Reads nothing of the held-out test split.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.engines import ALL_SPECS, korec  # noqa: E402
from api.metrics import cer  # noqa: E402
from api.pipelines.ocr import OcrPipeline  # noqa: E402
from api.registry import Registry  # noqa: E402
from api.settings import Settings  # noqa: E402
from training import text_lines  # noqa: E402

#: Grey of the page a column is set on, and its margin in pixels.
PAGE_GREY, PAGE_MARGIN = 235, 100


def on_page(column: np.ndarray) -> np.ndarray:
    """``column`` ``(h, w, 3)`` uint8 in the middle of a grey page ``PAGE_MARGIN`` px wider
    on every side (150 px left and right)."""
    h, w = column.shape[:2]
    page = np.full((h + 2 * PAGE_MARGIN, w + 300, 3), PAGE_GREY, np.uint8)
    page[PAGE_MARGIN:PAGE_MARGIN + h, 150:150 + w] = column
    return page


def in_photo(column: np.ndarray, seed: int) -> np.ndarray:
    """``column`` pasted at a seeded place into one of the objectcut photos
    (``text_lines.photos``, ≤ 640 px), the photo enlarged first where it is too small."""
    import random

    import cv2

    rng = random.Random(seed)
    pool = text_lines.photos()
    photo = pool[rng.randrange(len(pool))].copy()
    h, w = column.shape[:2]
    if photo.shape[0] < h + 20 or photo.shape[1] < w + 20:
        scale = max((h + 40) / photo.shape[0], (w + 40) / photo.shape[1])
        photo = cv2.resize(photo, None, fx=scale, fy=scale)
    y, x = rng.randint(10, photo.shape[0] - h - 10), rng.randint(10, photo.shape[1] - w - 10)
    photo[y:y + h, x:x + w] = column
    return photo


def _score(returned: str, text: str) -> tuple[bool, float, bool]:
    """(exact with spaces ignored, CER with spaces removed, exact as returned) of a reading
    ``returned`` (words joined by single spaces) of the line ``text``."""
    got, truth = "".join(returned.split()), "".join(text.split())
    return got == truth, cer(got, truth), returned == text


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=9_000_000)
    parser.add_argument("--lang", default="auto")
    parser.add_argument("--horizontal", action="store_true",
                        help="horizontal synthetic lines instead of vertical columns")
    args = parser.parse_args()
    registry = Registry(ALL_SPECS, Settings.from_env())
    pipeline = OcrPipeline(registry)
    fonts = text_lines.korean_fonts()["heldout"]
    draw = text_lines.sample if args.horizontal else text_lines.vertical_sample
    writing, unit = ("horizontal", "lines") if args.horizontal else ("vertical", "columns")
    scores: dict[str, list[tuple[bool, float, bool]]] = {"tight crop": [], "on a page": [],
                                                         "in a photo": []}
    if args.horizontal:
        scores["ocr-ko-rec alone, tight"] = []
    for i in range(args.count):
        line = draw(args.seed + i, fonts)
        truth = "".join(line.text.split())
        for name, image in (("tight crop", line.image), ("on a page", on_page(line.image)),
                            ("in a photo", in_photo(line.image, args.seed + i))):
            page = pipeline(image, lang=args.lang, min_score=0.3)
            if name == "in a photo":  # the photo's own text aside: the line holding the word
                returned = min((" ".join(x.text.split()) for x in page.lines),
                               key=lambda t: cer("".join(t.split()), truth), default="")
            else:
                returned = " ".join(page.text.split())
            scores[name].append(_score(returned, line.text))
        if args.horizontal:
            returned = " ".join(registry.get(korec.SPEC).recognize([line.image])[0][0].split())
            scores["ocr-ko-rec alone, tight"].append(_score(returned, line.text))
    for name, rows in scores.items():
        n = len(rows)
        print(f"{writing} {name:10s} {n:4d} {unit}  word acc {sum(r[0] for r in rows) / n:.3f}"
              f"  CER {sum(r[1] for r in rows) / n:.3f}  (as returned, spaces and line breaks"
              f" kept: {sum(r[2] for r in rows) / n:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
