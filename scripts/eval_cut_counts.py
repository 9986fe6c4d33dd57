"""How many objects /cut's detector finds per photo and class, against counts by eye.

``tests/data/cut_counts.json`` counts the objects a user would ask for on 20 photos of
``../shared`` (eval, seeds, model test data). For each class-aware NMS IoU and ``min_score``
this prints the missing and extra objects summed over every (photo, class), the detector
run as :class:`api.pipelines.cut.CutPipeline` runs it (voting for the requested classes,
tiles on large photos). Usage: ``python scripts/eval_cut_counts.py [--iou 0.3 0.45 …]
[--min-score 0.25 …]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.engines import ALL_SPECS  # noqa: E402
from api.engines.yolox import COCO_CLASSES, NMS_IOU  # noqa: E402
from api.registry import Registry  # noqa: E402
from api.settings import REPO_ROOT, Settings  # noqa: E402

SHARED = REPO_ROOT.parent / "shared"
COUNTS = REPO_ROOT / "tests/data/cut_counts.json"


def counts(detector, image: np.ndarray, truth: dict[str, int], iou: float,
           min_score: float) -> dict[str, int]:
    """Objects found per class of ``truth`` in ``image`` (RGB uint8)."""
    ids = [COCO_CLASSES.index(c) for c in truth]
    _, _, found = detector(image, min_score=min_score, iou=iou, class_ids=ids)
    return {c: int((found == COCO_CLASSES.index(c)).sum()) for c in truth}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python scripts/eval_cut_counts.py")
    parser.add_argument("--iou", type=float, nargs="+",
                        default=[0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7])
    parser.add_argument("--min-score", type=float, nargs="+", default=[0.2, 0.25, 0.3])
    args = parser.parse_args()
    detector = Registry(ALL_SPECS, Settings.from_env()).get("detect-yolox-nano")
    photos = json.loads(COUNTS.read_text())["photos"]
    images = {rel: np.asarray(Image.open(SHARED / rel).convert("RGB")) for rel in photos}
    print("| NMS IoU | min_score | missing | extra | photos all right |")
    print("|---:|---:|---:|---:|---:|")
    for iou in args.iou:
        for min_score in args.min_score:
            missing = extra = right = 0
            wrong = []
            for rel, truth in photos.items():
                got = counts(detector, images[rel], truth, iou, min_score)
                miss = sum(max(0, truth[c] - got[c]) for c in truth)
                more = sum(max(0, got[c] - truth[c]) for c in truth)
                missing, extra, right = missing + miss, extra + more, right + (miss + more == 0)
                if miss + more:
                    wrong.append(f"{Path(rel).stem} {got}")
            mark = " (default)" if iou == NMS_IOU else ""
            print(f"| {iou}{mark} | {min_score} | {missing} | {extra} | {right}/{len(photos)} |"
                  f" {'; '.join(wrong)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
