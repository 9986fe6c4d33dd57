"""POST /extract: parse → extract pipeline per page → JSON, annotated PNG/zip, or crops zip."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from pathlib import PurePath

import flask
from werkzeug.utils import secure_filename

from ..errors import BadRequest
from ..pipelines.extract import TARGETS, ExtractPipeline, extract_document
from ..vision import crop_box, draw_boxes, encode_png
from .common import deadline, json_response, options, read_documents, request_timings, state


def _classes(value) -> tuple[str, ...]:
    if value in (None, "", []):
        return TARGETS
    names = [v.strip() for v in (value.split(",") if isinstance(value, str) else value)]
    unknown = [n for n in names if n not in TARGETS]
    if unknown or not names:
        raise BadRequest(f"classes {unknown} unknown; choose from {', '.join(TARGETS)}.")
    return tuple(dict.fromkeys(names))


def _stems(docs) -> dict[int, str]:
    """A safe file-name stem per document (keyed by ``id``), unique within the request:
    a repeated upload name gets ``_2``, ``_3``… so zip entries never collide."""
    out: dict[int, str] = {}
    taken: set[str] = set()
    for index, doc in enumerate(docs):
        base = secure_filename(PurePath(doc.filename).stem) or f"file{index + 1}"
        stem, n = base, 1
        while stem in taken:
            n += 1
            stem = f"{base}_{n}"
        taken.add(stem)
        out[id(doc)] = stem
    return out


def extract(body=None, **_form):
    """Find figures, tables and equations (see ``ExtractResult`` in openapi.yaml)."""
    opts = options(body)
    classes = _classes(opts.get("classes"))
    mode = opts.get("mode", "json")
    timer, limit = request_timings(), deadline()
    with timer.stage("decode"):
        docs = read_documents(body, allow_pdf=True, multiple=True, pages=opts.get("pages"),
                              dpi=opts.get("dpi"))
    _, registry = state()
    pipeline = ExtractPipeline(registry)
    results = [(doc, page, found) for doc in docs
               for page, found in extract_document(
                   pipeline, doc, classes=classes, min_score=float(opts.get("min_score", 0.5)),
                   timings=timer, deadline=limit)]
    if mode == "annotated":
        return _annotated(docs, results)
    if mode == "zip":
        return _crops_zip(docs, results)
    files = []
    for index, doc in enumerate(docs):
        pages = []
        for d, page, found in results:
            if d is not doc:
                continue
            entry = found.as_dict()
            if opts.get("crops"):
                for item, out in zip(found.items, entry["items"]):
                    out["crop"] = base64.b64encode(
                        encode_png(crop_box(page.image, item.box))).decode()
            pages.append(entry)
        files.append({"filename": doc.filename, "pages": pages})
    return json_response({"files": files, "timings_ms": timer.as_dict()})


def _annotated(docs, results):
    stems = _stems(docs)
    images = [(f"{stems[id(d)]}_p{p.page}.png",
               encode_png(draw_boxes(p.image, [i.box for i in r.items],
                                     [i.cls for i in r.items]))) for d, p, r in results]
    if len(images) == 1:
        return flask.Response(images[0][1], mimetype="image/png")
    return _zip_response(images, "annotated.zip")


def _crops_zip(docs, results):
    files, manifest = [], []
    stems = _stems(docs)
    for d, page, found in results:
        stem = stems[id(d)]
        counters: dict[str, int] = {}
        for item in found.items:
            counters[item.cls] = counters.get(item.cls, 0) + 1
            name = f"{stem}_p{page.page}_{item.cls}_{counters[item.cls]}.png"
            files.append((name, encode_png(crop_box(page.image, item.box))))
            manifest.append({"file": name, "source": d.filename, "page": page.page,
                             **item.as_dict()})
    files.append(("manifest.json", json.dumps({"items": manifest}, indent=1).encode()))
    return _zip_response(files, "extract.zip")


def _zip_response(files: list[tuple[str, bytes]], name: str):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for filename, data in files:
            zf.writestr(filename, data)
    return flask.Response(buf.getvalue(), mimetype="application/zip",
                          headers={"Content-Disposition": f'attachment; filename="{name}"'})
