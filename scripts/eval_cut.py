"""Measure /cut mattes against reference cut-outs in ../shared.

ObjectCut's own outputs (docs/images/*_output.png) are opaque on white and turned white
pixels inside objects transparent, so their mask is "not near-white", and pixels that are
near-white in the input are left out of the comparison. rembg's *.out.png are RGBA.
Usage: python scripts/eval_cut.py   → alpha IoU per image and the mean.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.engines import ALL_SPECS  # noqa: E402
from api.pipelines.cut import CutPipeline  # noqa: E402
from api.problems import Problem  # noqa: E402
from api.registry import Registry  # noqa: E402
from api.settings import REPO_ROOT, Settings  # noqa: E402

SHARED = REPO_ROOT.parent / "shared"
OBJECTCUT = SHARED / "data/seeds/objectcut/docs/images"
CASES = [  # (input, reference, objects) — the objects ObjectCut's docs cut
    (OBJECTCUT / "test_dog.jpg", OBJECTCUT / "test_dog_output.png", ["dog"]),
    (OBJECTCUT / "test_cat.jpg", OBJECTCUT / "test_cat_output.png", ["cat"]),
    (OBJECTCUT / "test_dog_frisbee.jpeg", OBJECTCUT / "test_dog_frisbee_output.png",
     ["dog", "frisbee"]),
    (OBJECTCUT / "test_pizza.jpeg", OBJECTCUT / "test_pizza_output.png", ["pizza"]),
    (OBJECTCUT / "test_cutlery.jpg", OBJECTCUT / "test_cutlery_output.png",
     ["fork", "knife", "spoon"]),
    (SHARED / "data/eval/cut/rembg_car-2.jpg", SHARED / "data/eval/cut/rembg_car-2.out.png", ["car"]),
    (SHARED / "data/eval/cut/rembg_car-3.jpg", SHARED / "data/eval/cut/rembg_car-3.out.png", ["car"]),
    (SHARED / "data/eval/cut/rembg_girl-1.jpg", SHARED / "data/eval/cut/rembg_girl-1.out.png",
     ["person"]),
]


def reference_iou(image: np.ndarray, alpha: np.ndarray, reference: Path) -> float:
    """IoU of ``alpha > 0.5`` with the reference mask (see module doc for the discount)."""
    ref = np.asarray(Image.open(reference).convert("RGBA").resize(
        (image.shape[1], image.shape[0]), Image.BILINEAR))
    ref_fg = ref[..., 3] > 127
    near_white = (image > 235).all(-1)
    if ref_fg.mean() > 0.98:  # opaque on white: ObjectCut's style
        ref_fg = ~(ref[..., :3] > 235).all(-1)
    valid = ~near_white
    ours = alpha > 0.5
    inter = (ours & ref_fg & valid).sum()
    union = ((ours | ref_fg) & valid).sum()
    return float(inter / max(1, union))


def main() -> int:
    pipeline = CutPipeline(Registry(ALL_SPECS, Settings.from_env()))
    scores = []
    for path, reference, objects in CASES:
        image = np.asarray(Image.open(path).convert("RGB"))
        try:
            result = pipeline(image, objects, min_score=0.25)
        except Problem as exc:
            print(f"  -    {path.name}: {exc.detail}")
            continue
        iou = reference_iou(image, result.alpha, reference)
        scores.append(iou)
        print(f"{iou:.3f}  {path.name}  {[o.cls for o in result.objects]}")
    print(f"mean alpha IoU {np.mean(scores):.3f} over {len(scores)} of {len(CASES)} images")
    return 0


if __name__ == "__main__":
    sys.exit(main())
