"""``python -m training.synth --out DIR --count N``: preview pages with their boxes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
from PIL import Image

from . import page


def main() -> None:
    """Write ``--count`` preview pages with their boxes drawn to ``--out``."""
    parser = argparse.ArgumentParser(prog="python -m training.synth")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--count", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    labels = {}
    for i in range(args.count):
        p = page(args.seed + i)
        img = p.image.copy()
        for b in p.boxes.astype(int):
            cv2.rectangle(img, (b[0], b[1]), (b[2], b[3]), (0, 200, 0), 1)
        Image.fromarray(img).save(args.out / f"page_{i:03d}.png")
        labels[f"page_{i:03d}.png"] = p.boxes.round(1).tolist()
    (args.out / "boxes.json").write_text(json.dumps(labels, indent=1))


if __name__ == "__main__":
    main()


if __name__ == "__main__":
    main()
