"""Measure the arrow-pictogram test that /ocr runs on each line crop (``api.vision.find_arrows``).

Usage: python scripts/eval_arrows.py [--count 300] [--seed 0]

1. ``drawn``: ``--count`` lines of a Korean or Latin word beside a bold filled arrow (left or
   right; head 0.3–0.5 of the arrow's length, shaft 0.25–0.45 of its height), drawn in the
   training fonts (``training.text_lines.korean_fonts``) on a plain colour, turned ±3°,
   blurred, noised and JPEG'd, at two sizes (lines 28–80 and 60–200 px high): the share whose
   arrow is found.
2. ``no_arrow``: how many text crops with no arrow in them fire: the Korean pool's crops
   (``../shared/data/train/ocr-ko``) and 1,000 held-out-font synthetic scene crops
   (``training.train_ocr_ko.synthetic_val``, the recogniser's validation set).

Prints JSON. Reads nothing of the held-out test split.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.vision import find_arrows  # noqa: E402
from training import text_lines, train_ocr_ko  # noqa: E402

WORDS = ("56Km", "서울 12", "205Km", "출구", "Exit 3", "부산 120km", "주차장", "P 200m")


def drawn_line(rng: random.Random, fonts: list[str], height: int, seed: int
               ) -> tuple[np.ndarray, float, int]:
    """A word beside a bold arrow: ``(h, w, 3)`` uint8 RGB, the arrow's centre x and its
    length (px)."""
    font = ImageFont.truetype(rng.choice(fonts), int(height * 0.7))
    text = rng.choice(WORDS)
    background = tuple(rng.randint(0, 255) for _ in range(3))
    ink = tuple(255 - c for c in background)
    tall = int(height * rng.uniform(0.5, 0.8))
    long = int(tall * rng.uniform(1.4, 2.4))
    head = int(long * rng.uniform(0.3, 0.5))
    shaft = max(2, int(tall * rng.uniform(0.25, 0.45)))
    text_w = int(font.getlength(text))
    width = text_w + long + int(height * 0.6) + 10
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    cy = height // 2
    if rng.random() < 0.5:  # ← before the word
        x = 4
        draw.text((x + long + int(height * 0.4), height * 0.12), text, font=font, fill=ink)
        tip, base, end = x, x + head, x + long
    else:  # → after it
        draw.text((4, height * 0.12), text, font=font, fill=ink)
        x = 4 + text_w + int(height * 0.4)
        tip, base, end = x + long, x + long - head, x
    draw.polygon([(tip, cy), (base, cy - tall // 2), (base, cy - shaft // 2),
                  (end, cy - shaft // 2), (end, cy + shaft // 2), (base, cy + shaft // 2),
                  (base, cy + tall // 2)], fill=ink)
    array = np.array(image)
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), rng.uniform(-3, 3), 1.0)
    array = cv2.warpAffine(array, turn, (width, height), borderMode=cv2.BORDER_REPLICATE)
    array = cv2.GaussianBlur(array, (0, 0), rng.uniform(0.3, 1.2))
    noise = np.random.default_rng(seed).normal(0, 6, array.shape)
    array = np.clip(array + noise, 0, 255).astype(np.uint8)
    _, jpeg = cv2.imencode(".jpg", array, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(40, 90)])
    return cv2.imdecode(jpeg, cv2.IMREAD_COLOR)[..., ::-1].copy(), x + long / 2, long


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    fonts = text_lines.korean_fonts()["train"]
    drawn = {}
    for low, high in ((28, 80), (60, 200)):
        rng = random.Random(args.seed)
        found = 0
        for k in range(args.count):
            line, centre, long = drawn_line(rng, fonts, rng.randint(low, high), args.seed + k)
            found += any(abs(np.nonzero(m)[1].mean() - centre) < long / 2
                         for m in find_arrows(line))
        drawn[f"{low}-{high}px"] = {"lines": args.count, "found": found}
    pool = train_ocr_ko.POOL
    crops = []
    if (pool / "labels.jsonl").is_file():
        for row in (pool / "labels.jsonl").read_text(encoding="utf-8").splitlines():
            image = cv2.imread(str(pool.parent / json.loads(row)["file"]), cv2.IMREAD_COLOR)
            if image is not None:
                crops.append(np.ascontiguousarray(image[..., ::-1]))
    seed = json.loads((Path(train_ocr_ko.__file__).parent / "ocr_ko.json").read_text())["seed"]
    synthetic = [image for image, _ in train_ocr_ko.synthetic_val(1000, seed)]
    no_arrow = {"pool_crops": len(crops), "pool_fired": sum(bool(find_arrows(c)) for c in crops),
                "synthetic_crops": len(synthetic),
                "synthetic_fired": sum(bool(find_arrows(c)) for c in synthetic)}
    print(json.dumps({"drawn": drawn, "no_arrow": no_arrow}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
