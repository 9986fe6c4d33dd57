"""How well /stamps finds stamps, as the service runs it (detector + whole-stamp refinement).

Printed as JSON:

1. ``real_scans``: recall and precision at IoU ≥ 0.5 on the tight hand boxes of
   ``tests/data/stamps_truth.json`` (11 stamps on 10 pages), and per stamp the best IoU and
   whether the returned box holds the whole hand box (4 px slack).
2. ``valid``: recall and precision per source on the valid split of the stamp pool
   (``../shared/data/train/stamps``; the detector never trained on it, its checkpoint and
   threshold were chosen on it); ``valid_with_added`` the same with the stamps its labels miss
   that were confirmed by eye (``training/stamps_added.json``) counted as stamps.
3. ``stamp_free``: detections on development pages that carry no stamp (the document pages
   of ``../shared/data/eval/extract`` and ``../shared/data/eval/ocr``): every box is false.
4. ``photos``: detections on development images that are not documents (the photos of
   ``../shared/data/seeds/objectcut`` and ``../shared/data/eval/cut``, the model test photos,
   the signboard and word crops of ``../shared/data/eval/ocr``): every box is false, and
   ``/stamps`` is not meant for them; tracked because the detector never saw a photo
   without a page.

With ``--turn D`` (90, 180 or 270) every page is turned ``D`` degrees clockwise before
``/stamps`` reads it and the boxes it returns are mapped back, so the same truth scores them:
how the service holds up on pages scanned sideways or upside down.

``python scripts/eval_stamps.py [--min-score S] [--verify] [--turn D]`` (about a minute on
2 cores; a few with ``--verify``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.engines import ALL_SPECS  # noqa: E402
from api.engines.stampdet import MIN_SCORE  # noqa: E402
from api.inputs import load_document  # noqa: E402
from api.orientation import boxes_back  # noqa: E402
from api.pipelines.stamps import StampsPipeline  # noqa: E402
from api.registry import Registry  # noqa: E402
from api.settings import Settings  # noqa: E402
from api.vision import box_contains, box_iou  # noqa: E402
from training.train_stamps import ADDED, SHARED_DATA, _load_rgb, pool, real_pages, score_sets  # noqa: E402

SLACK = 4  # pixels, as tests/test_inkmask.py
STAMP_FREE = [*sorted((SHARED_DATA / "eval/extract").glob("*.jpg")),
              *sorted((SHARED_DATA / "eval/extract").glob("*.png")),
              *(SHARED_DATA / "eval/ocr" / n for n in (
                  "tesseract_unlv_8087_054.3B.png", "tesseract_phototest.png", "easyocr_english.png",
                  "tesseract_kor_lines_page.png", "pororo_test_image_1.jpg", "rapidocr_en.jpg"))]
PHOTOS = [*(p for folder in ("seeds/objectcut", "eval/cut")
            for p in sorted((SHARED_DATA / folder).rglob("*"))
            if p.suffix.lower() in (".jpg", ".jpeg", ".png") and not p.name.endswith(".out.png")),
          *(SHARED_DATA.parent / "models/testdata" / n for n in ("photo_car_person.jpg",
                                                                 "photo_elephant.jpg")),
          *(SHARED_DATA / "eval/ocr" / n for n in ("greengarnets_0.jpg", "greengarnets_2.jpg",
                                                    "greengarnets_5.jpg",
                                                    "paddleocr_korean_word_1.jpg"))]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python scripts/eval_stamps.py")
    parser.add_argument("--min-score", type=float, default=MIN_SCORE)
    parser.add_argument("--verify", action="store_true", help="with the seal text check")
    parser.add_argument("--turn", type=int, default=0, choices=(0, 90, 180, 270),
                        help="turn every page this many degrees clockwise first")
    args = parser.parse_args(argv)
    quarters = args.turn // 90
    settings = Settings.from_env()
    pipeline = StampsPipeline(Registry(ALL_SPECS, settings))
    t = args.min_score

    def predict(image, threshold):
        turned = np.ascontiguousarray(np.rot90(image, -quarters))
        boxes, scores = pipeline.find(turned, threshold, verify=args.verify)[:2]
        return boxes_back(boxes, (4 - quarters) % 4, image.shape), scores

    real = real_pages()
    scans = score_sets(predict, [(im, truth) for _, im, truth in real], (t,))[t]
    whole = []
    for rel, image, truth in real:
        boxes = predict(image, t)[0].tolist()
        for box in truth.tolist():
            best = max(boxes, key=lambda b: box_iou(b, box), default=None)
            iou = box_iou(best, box) if best else 0.0
            whole.append({"page": rel.rsplit("/", 1)[-1], "truth": box, "iou": round(iou, 3),
                          "whole": bool(best and iou >= 0.5 and box_contains(best, box, SLACK))})
    scans["stamps_whole"] = whole

    predicted: dict[str, tuple] = {}  # each valid page is run once for both label sets

    def predict_file(path: str, threshold: float) -> tuple:
        if path not in predicted:
            predicted[path] = predict(_load_rgb(path), threshold)
        return predicted[path]

    def per_source(rows: list[dict]) -> dict:
        valid: dict[str, list] = {}
        for row in rows:
            valid.setdefault(row["source"], []).append((row["file"], row["boxes"]))
        out = {src: score_sets(predict_file, pages, (t,))[t]
               for src, pages in sorted(valid.items())}
        if valid:
            out["all"] = score_sets(predict_file, [p for v in valid.values() for p in v],
                                    (t,))[t]
        return out

    def false_boxes(paths: list[Path]) -> dict:
        boxes = {}
        for path in paths:
            if path.is_file():
                doc = load_document(path.read_bytes(), path.name, settings, allow_pdf=False)
                name = str(path.relative_to(SHARED_DATA.parent))
                boxes[name] = int(len(predict(doc.pages[0].image, t)[0]))
        return {"images": len(boxes), "false_boxes": sum(boxes.values()),
                "with_a_box": sum(1 for n in boxes.values() if n), "per_image": boxes}

    free = false_boxes(STAMP_FREE)
    result = {"min_score": t, "verify_text": args.verify, "turn": args.turn, "real_scans": scans,
              "valid": per_source(pool("valid")),
              "valid_with_added": per_source(pool("valid", ADDED)),
              "stamp_free": {"pages": free["images"], "false_boxes": free["false_boxes"],
                             "per_page": {Path(k).name: v for k, v in free["per_image"].items()}},
              "photos": false_boxes(PHOTOS)}
    print(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
