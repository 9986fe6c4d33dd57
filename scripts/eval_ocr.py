"""Measure /ocr quality on the hand-transcribed images in tests/data/ocr_truth.json.

Usage: python scripts/eval_ocr.py [--lang auto] [--model fast|accurate] [--det-max-side 1280]
Prints per-image CER (character error rate, Levenshtein / reference length, whitespace
collapsed) and the mean over pages per script. Reads images from ../shared.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.engines import ALL_SPECS  # noqa: E402
from api.inputs import decode_image  # noqa: E402
from api.metrics import cer  # noqa: E402
from api.pipelines.ocr import MODELS, OcrPipeline  # noqa: E402
from api.registry import Registry  # noqa: E402
from api.settings import REPO_ROOT, Settings  # noqa: E402

SHARED = REPO_ROOT.parent / "shared"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lang", default="auto")
    parser.add_argument("--model", default=MODELS[0], choices=MODELS)
    parser.add_argument("--det-max-side", type=int, default=1280)
    args = parser.parse_args()
    settings = Settings.from_env()
    pipeline = OcrPipeline(Registry(ALL_SPECS, settings), det_max_side=args.det_max_side)
    truth = json.loads((REPO_ROOT / "tests/data/ocr_truth.json").read_text())
    pages: dict[str, list[float]] = {}
    for rel, ref in truth.items():
        if rel.startswith("_"):
            continue
        image = decode_image((SHARED / rel).read_bytes(), settings)
        start = time.perf_counter()
        result = pipeline(image, lang=args.lang, model=args.model, min_score=0.3)
        ms = (time.perf_counter() - start) * 1000
        score = cer(result.text, ref["text"])
        if ref["page"]:
            pages.setdefault(ref["lang"], []).append(score)
        print(f"{score:6.3f}  {ms:6.0f} ms  {rel}  -> {result.text[:70]!r}")
    for lang, values in pages.items():
        print(f"mean page CER [{lang}]: {sum(values) / len(values):.3f} over {len(values)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
