"""Command line: the same pipelines in process, on files or whole folders.

    python -m api ocr FILES... [--lang auto|en|ko] [--min-score 0.5] [--pages 1-3] [--dpi 200]
    python -m api extract FILES... [--classes figure,table] [--min-score 0.5]
    python -m api cut FILES... --objects dog,person [--white-bg] [--crop]
    python -m api stamps FILES... [--min-score S] [--mask] [--pages 1-3] [--dpi 200]
    python -m api caption FILES... [--prompt ...] [--max-new-tokens 64]
    python -m api models list|fetch|verify

Folders are walked recursively. Each input gives one JSON line on stdout, or with ``--out DIR``
a ``<name>.json`` there (plus ``<name>.png`` cut-outs, ``<name>_p<page>_<class>_<i>.png``
crops and ``<name>_p<page>_stamp_<i>.png`` stamp crops). A progress bar goes to stderr. Exit status 1 when any input failed (its line carries
``error``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import Problem
from .settings import Settings


def _inputs(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
        else:
            files.append(path)
    return files


def _write_png(path: Path, image) -> None:
    from .vision import encode_png

    path.write_bytes(encode_png(image))


def _run_one(command: str, path: Path, args, settings, registry, out: Path | None) -> dict:
    from .inputs import load_document
    from .vision import crop_box

    doc = load_document(path.read_bytes(), path.name, settings,
                        allow_pdf=command in ("ocr", "extract", "stamps"),
                        pages=getattr(args, "pages", None), dpi=getattr(args, "dpi", None))
    record: dict = {"file": str(path)}
    if command == "ocr":
        from .pipelines.ocr import OcrPipeline

        pipeline = OcrPipeline(registry)
        record["pages"] = [pipeline(p.image, page=p.page, lang=args.lang,
                                    min_score=args.min_score).as_dict() for p in doc.pages]
    elif command == "extract":
        from .pipelines.extract import TARGETS, ExtractPipeline, extract_document

        classes = tuple(args.classes.split(",")) if args.classes else TARGETS
        record["pages"] = []
        for page, found in extract_document(ExtractPipeline(registry), doc, classes=classes,
                                            min_score=args.min_score):
            record["pages"].append(found.as_dict())
            if out:
                counts: dict[str, int] = {}
                for item in found.items:
                    counts[item.cls] = counts.get(item.cls, 0) + 1
                    _write_png(out / f"{path.stem}_p{page.page}_{item.cls}_{counts[item.cls]}.png",
                               crop_box(page.image, item.box))
    elif command == "cut":
        from .pipelines.cut import CutPipeline, compose

        image = doc.pages[0].image
        result = CutPipeline(registry)(image, args.objects.split(","), min_score=args.min_score)
        record["objects"] = [o.as_dict() for o in result.objects]
        if out:
            _write_png(out / f"{path.stem}.png",
                       compose(image, result, white_bg=args.white_bg, crop=args.crop))
    elif command == "stamps":
        from .pipelines.stamps import StampsPipeline

        kwargs = {} if args.min_score is None else {"min_score": args.min_score}
        result = StampsPipeline(registry)(doc.pages, **kwargs)
        record.update(result.as_dict(with_mask=args.mask))
        if out:
            for i, stamp in enumerate(result.stamps, 1):
                page = next(p for p in doc.pages if p.page == stamp.page)
                _write_png(out / f"{path.stem}_p{stamp.page}_stamp_{i}.png",
                           crop_box(page.image, stamp.box))
    elif command == "caption":
        from .pipelines.caption import CaptionPipeline

        record.update(CaptionPipeline(registry)(doc.pages[0].image, prompt=args.prompt,
                                                max_new_tokens=args.max_new_tokens).as_dict())
    return record


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m api``."""
    parser = argparse.ArgumentParser(prog="python -m api", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("inputs", nargs="+", help="files or folders")
    common.add_argument("--out", help="write results here instead of JSON lines on stdout")
    ocr = sub.add_parser("ocr", parents=[common], help="text lines, English and Korean")
    ocr.add_argument("--lang", choices=["auto", "en", "ko"], default="auto")
    ocr.add_argument("--min-score", type=float, default=0.5)
    extract = sub.add_parser("extract", parents=[common], help="figures, tables, equations")
    extract.add_argument("--classes", default="")
    extract.add_argument("--min-score", type=float, default=0.5)
    stamps = sub.add_parser("stamps", parents=[common], help="stamps/seals and their similarity")
    stamps.add_argument("--min-score", type=float, default=None,
                        help="default: the stamp detector card's threshold")
    stamps.add_argument("--mask", action="store_true", help="add each stamp's ink mask")
    for p in (ocr, extract, stamps):
        p.add_argument("--pages")
        p.add_argument("--dpi", type=int)
    cut = sub.add_parser("cut", parents=[common], help="cut COCO objects out as PNG")
    cut.add_argument("--objects", required=True)
    cut.add_argument("--min-score", type=float, default=0.25)
    cut.add_argument("--white-bg", action="store_true")
    cut.add_argument("--crop", action="store_true")
    caption = sub.add_parser("caption", parents=[common], help="grounded caption (Kosmos-2)")
    caption.add_argument("--prompt", default="<grounding>An image of")
    caption.add_argument("--max-new-tokens", type=int, default=64)
    models = sub.add_parser("models", help="model files: list, fetch, verify")
    models.add_argument("action", choices=["list", "fetch", "verify"])
    args = parser.parse_args(argv)

    if args.command == "models":
        from .modelfiles import main as modelfiles_main

        return modelfiles_main([args.action])

    from tqdm import tqdm

    from .engines import ALL_SPECS
    from .registry import Registry

    settings = Settings.from_env()
    registry = Registry(ALL_SPECS, settings)
    out = Path(args.out) if args.out else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for path in tqdm(_inputs(args.inputs), desc=args.command, unit="file", file=sys.stderr):
        try:
            record = _run_one(args.command, path, args, settings, registry, out)
        except (Problem, OSError) as exc:
            failed += 1
            record = {"file": str(path), "error": getattr(exc, "detail", None) or str(exc)}
        line = json.dumps(record, ensure_ascii=False)
        if out:
            (out / f"{path.stem}.json").write_text(line + "\n")
        else:
            print(line, flush=True)
    return 1 if failed else 0
