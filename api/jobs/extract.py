"""Job ``extract`` (``POST /extract``): figures, tables and equations of document images and
PDF pages, several files per request."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import PurePath

from werkzeug.utils import secure_filename

from .. import orientation
from ..pipelines import extract as pipeline
from ..vision import crop_box, draw_boxes, encode_png
from .base import (
    Context,
    Job,
    Reply,
    json_reply,
    option,
    png_reply,
    register,
    sum_timings,
    zip_bytes,
    zip_reply,
)
from .ocr import DPI, ORIENT, PAGES


@dataclass(frozen=True)
class ExtractOptions:
    """``classes`` a subset of figure, table, equation; ``min_score`` 0–1; ``mode`` json,
    annotated (PNG, or a zip of PNGs) or zip (crops + manifest); ``crops`` adds base64 crops
    to the JSON; ``orient`` reads pages scanned sideways or upside down turned upright;
    ``pages``/``dpi`` for PDFs."""

    classes: tuple[str, ...] = option(pipeline.TARGETS, kind="names", choices=pipeline.TARGETS,
                                      help="comma-separated subset of figure,table,equation")
    min_score: float = option(pipeline.MIN_SCORE, minimum=0, maximum=1,
                              help="drop regions with a lower score")
    mode: str = option("json", choices=("json", "annotated", "zip"),
                       help="json, annotated PNG(s) or zip of crops", cli=False)
    crops: bool = option(False, help="add each region's PNG crop (base64) to the JSON")
    orient: bool = option(orientation.ORIENT, **ORIENT)
    pages: str | None = option(None, **PAGES)
    dpi: int | None = option(None, **DPI)


def _stems(docs) -> list[str]:
    """A safe file-name stem per document, unique within the request: a repeated upload
    name gets ``_2``, ``_3``… so output files never collide."""
    out: list[str] = []
    for index, doc in enumerate(docs):
        base = secure_filename(PurePath(doc.filename).stem) or f"file{index + 1}"
        stem, n = base, 1
        while stem in out:
            n += 1
            stem = f"{base}_{n}"
        out.append(stem)
    return out


@dataclass
class ExtractResult:
    """``results`` ``[(document index, Page, ExtractPage)]`` in input and page order, found
    with ``options``."""

    documents: list
    results: list[tuple[int, object, pipeline.ExtractPage]]
    options: ExtractOptions

    def as_dict(self) -> dict:
        """``{"files": [{"filename", "pages": [ExtractPage.as_dict()]}]}``; with the
        ``crops`` option each item gets its PNG crop as base64."""
        import base64

        crops = self.options.crops
        files = [{"filename": doc.filename, "pages": []} for doc in self.documents]
        for index, page, found in self.results:
            entry = found.as_dict()
            if crops:
                for item, out in zip(found.items, entry["items"]):
                    out["crop"] = base64.b64encode(
                        encode_png(crop_box(page.image, item.box))).decode()
            files[index]["pages"].append(entry)
        return {"files": files}

    def annotated(self) -> list[tuple[str, bytes]]:
        """``(stem_p<page>.png, PNG)`` per page with its regions drawn and labelled."""
        stems = _stems(self.documents)
        return [(f"{stems[i]}_p{page.page}.png",
                 encode_png(draw_boxes(page.image, [it.box for it in found.items],
                                       [it.cls for it in found.items])))
                for i, page, found in self.results]

    def crop_files(self, stems: list[str] | None = None
                   ) -> tuple[list[tuple[str, bytes]], list[dict]]:
        """``(stem_p<page>_<class>_<n>.png, PNG)`` per region and a manifest entry per file
        (file, source, page, class, score, box)."""
        stems = stems or _stems(self.documents)
        files, manifest = [], []
        for i, page, found in self.results:
            counters: dict[str, int] = {}
            for item in found.items:
                counters[item.cls] = counters.get(item.cls, 0) + 1
                name = f"{stems[i]}_p{page.page}_{item.cls}_{counters[item.cls]}.png"
                files.append((name, encode_png(crop_box(page.image, item.box))))
                manifest.append({"file": name, "source": self.documents[i].filename,
                                 "page": page.page, **item.as_dict()})
        return files, manifest

    def crops_zip(self) -> bytes:
        """The crops and ``manifest.json`` (``{"items": [...]}``) as a zip."""
        files, manifest = self.crop_files()
        files.append(("manifest.json", json.dumps({"items": manifest}, indent=1).encode()))
        return zip_bytes(files)

    def files(self, stem: str) -> list[tuple[str, bytes]]:
        """The region crops of a one-document result, named from ``stem`` (CLI ``--out``)."""
        return self.crop_files([stem] * len(self.documents))[0]


def run(documents, options: ExtractOptions, ctx: Context) -> ExtractResult:
    """Find the regions of every page of every document."""
    extract = pipeline.ExtractPipeline(ctx.registry)
    results = []
    for i, doc in enumerate(documents):
        for page, found in pipeline.extract_document(
                extract, doc, classes=options.classes, min_score=options.min_score,
                timings=ctx.timings, deadline=ctx.deadline, orient=options.orient):
            results.append((i, page, found))
            ctx.progress(1)
    return ExtractResult(list(documents), results, options)


def respond(options: ExtractOptions, result: ExtractResult, timings, accept: str = "") -> Reply:
    """``mode`` json → JSON; annotated → the PNG (one page) or a zip of them; zip → the
    crops and their manifest."""
    if options.mode == "annotated":
        images = result.annotated()
        if len(images) == 1:
            return png_reply(images[0][1])
        return zip_reply(zip_bytes(images), "annotated.zip")
    if options.mode == "zip":
        return zip_reply(result.crops_zip(), "extract.zip")
    return json_reply(result, timings)


def merge(options: ExtractOptions, bodies: list[dict]) -> dict:
    """The JSON of one PDF from the JSON of its consecutive page ranges."""
    first = bodies[0]["files"][0]
    pages = [page for body in bodies for page in body["files"][0]["pages"]]
    return {"files": [{**first, "pages": pages}], "timings_ms": sum_timings(bodies)}


JOB = register(Job(
    name="extract", route="/extract", summary="figures, tables and equations",
    options=ExtractOptions, models=("layout-cdla", "ocr-ppocrv6"), run=run,
    takes_pdf=True, multiple=True, respond=respond, merge=merge))
