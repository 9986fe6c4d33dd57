"""Measure the committed Korean recogniser (``ocr-ko-rec``: its members, fused) as ``make
train-ocr-ko`` scores one member.

Usage: python scripts/eval_ocr_ko.py [--synthetic 1000]
Prints word accuracy and CER (spaces removed) on the fixed validation split of
``../shared/data/train/ocr-ko`` per group, on synthetic scene-text crops drawn in fonts held
out of training, on as many unseen samples drawn in the training fonts (the same generator:
a model that reads these no better than the held-out fonts is short of fitting its data,
not of generalising to new typefaces), and milliseconds per line crop on one thread. Reads
nothing of the held-out test split.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.engines import korec  # noqa: E402
from api.settings import REPO_ROOT  # noqa: E402
from training import train_ocr_ko  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--synthetic", type=int, default=1000)
    args = parser.parse_args()
    cfg = json.loads(train_ocr_ko.CONFIG.read_text())
    folder = REPO_ROOT / "models" / "ocr-ko"
    engine = korec.KoreanRecognizer(korec.member_paths(folder.parent), folder / "charset.txt", 1)
    rows = train_ocr_ko.pool("valid", cfg["valid_percent"])
    synth = train_ocr_ko.synthetic_val(args.synthetic, cfg["seed"])
    scores = train_ocr_ko.evaluate(engine.recognize, rows, synth)
    for group, s in scores["pool_valid"]["groups"].items():
        print(f"pool valid {group:16s} {s['crops']:5d} crops  word acc {s['word_accuracy']:.3f}"
              f"  CER {s['cer']:.3f}")
    for key in ("pool_valid_plates_and_lines", "pool_valid", "synthetic_val"):
        s = scores[key]
        print(f"{key:28s} {s['crops']:5d} crops  word acc {s['word_accuracy']:.3f}"
              f"  CER {s['cer']:.3f}")
    seen = train_ocr_ko.synthetic_val(args.synthetic, cfg["seed"], fonts="train")
    s = train_ocr_ko.evaluate(engine.recognize, [], seen)["synthetic_val"]
    print(f"{'synthetic_training_fonts':28s} {s['crops']:5d} crops  word acc "
          f"{s['word_accuracy']:.3f}  CER {s['cer']:.3f}")
    crops = [im for im, _ in synth[:200]]
    engine.recognize(crops[:8], batch=1)
    start = time.perf_counter()
    engine.recognize(crops, batch=1)
    ms = (time.perf_counter() - start) * 1000 / len(crops)
    print(f"{ms:.1f} ms per line crop (one thread, batch 1, {len(crops)} synthetic crops)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
