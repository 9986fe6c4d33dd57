"""Benchmark (not a test): every endpoint, raw pipeline vs HTTP, latency, throughput, memory.

``make bench`` (``python bench/bench.py``) writes ``bench/results.md``:

1. **Endpoints** — one representative real input per endpoint (``bench/common.py``), uWSGI
   with the PRISM_* defaults (2 processes × 1 thread) and every model preloaded. "Raw" is
   the same bytes decoded and run through the pipeline in this process; "HTTP" the request
   through uWSGI, a2wsgi, Connexion and Flask (p50/p95 of ``--runs`` after 2 warm-up calls,
   each HTTP request right after a raw call, so that both see the machine at the same speed),
   and "in handler" the worker's own stage times for it (``Server-Timing`` total), which
   splits HTTP − raw into work inside the worker and the web stack around it.
   Throughput is completed requests per second with 1, 2 and 4 clients posting in a loop for
   ``--seconds`` each. RSS is each worker's resident memory at the end.
2. **Cold start** — a fresh single worker with nothing preloaded: each endpoint's first
   request (which loads its models; load time per model from ``GET /models``), its second
   request, and the worker's RSS after it.
0. **Speed targets** — the rows issue #22 sets goals for, through the service, each Prism
   request and the alternative a user would pick instead called in turn (p50 of ≥ 5): /ocr
   against the Tesseract 5 CLI (with each one's CER), /cut of one object against ISNet
   alone at 512².
3. **Notes** — references the issues ask for: /ocr vs a bare RapidOCR call, /extract per page
   of a 10-page PDF, /cut's detector vs matte, /stamps detection and one crop embedding.
4. **Korean line recognition** — ``ocr-ko-rec`` against Tesseract ``kor+eng`` per line crop
   on one thread (the Korean eval crops), with each one's CER.

/generate-text uses a tiny random Kosmos-2 unless the real snapshot is installed
(``bench/common.py:models_dir``); bench/kosmos.md has the full-size model's figures.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from common import (
    ENDPOINTS,
    REPO_ROOT,
    SAMPLES,
    SHARED,
    describe,
    get_json,
    hammer,
    models_dir,
    post,
    requests_for,
    workers_rss,
)

from api.engines import ALL_SPECS
from api.engines.stampdet import MIN_SCORE
from api.inputs import Page, decode_image, load_document
from api.middleware import parse_server_timing
from api.pipelines.base import Timings
from api.pipelines.cut import CutPipeline, compose
from api.pipelines.extract import ExtractPipeline, extract_document
from api.pipelines.generate_text import GenerateTextPipeline
from api.pipelines.ocr import OcrPipeline, line_views
from api.pipelines.stamps import VERIFY_BELOW, StampsPipeline
from api.registry import Registry
from api.serve import running
from api.settings import Settings
from api.vision import crop_quad, encode_png


def timed(fn, runs: int, warmup: int = 2) -> list[float]:
    """Wall times of ``fn()`` in ms for ``runs`` calls after ``warmup`` calls (two, so that
    both uWSGI workers have run each model once before timing)."""
    return timed_alternately([fn], runs, warmup)[0]


def timed_alternately(fns: list, runs: int, warmup: int = 2) -> list[list[float]]:
    """Wall times in ms of each of ``fns``, called in turn ``runs`` times after ``warmup``
    rounds: one list per function. Alternating the calls makes their ratio fair on a machine
    whose speed drifts: on the same build, /stamps alone took anywhere from 395 to 532 ms in
    process (p50) from one block of calls to the next."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(runs):
        for fn, out in zip(fns, times):
            start = time.perf_counter()
            fn()
            out.append((time.perf_counter() - start) * 1000)
    return times


def http_call(port: int, path: str, body: bytes, headers: dict, handler_ms: list | None = None):
    """A POST that must answer 200 (raises ``RuntimeError`` otherwise). Appends the time the
    handler itself took (``total`` of its ``Server-Timing`` header) to ``handler_ms``."""
    def call():
        seen: dict = {}
        status, payload = post(port, path, body, headers, response_headers=seen)
        if status != 200:
            raise RuntimeError(f"{path}: HTTP {status} {payload[:200]!r}")
        if handler_ms is not None:
            stages = parse_server_timing(seen.get("server-timing", ""))
            handler_ms.append(stages.get("total", float("nan")))
    return call


def raw_calls(settings: Settings) -> dict[str, callable]:
    """In-process equivalents of each endpoint: decode + pipeline (+ PNG encode for /cut)."""
    registry = Registry(ALL_SPECS, settings)
    ocr, extract, cut = OcrPipeline(registry), ExtractPipeline(registry), CutPipeline(registry)
    stamps, caption = StampsPipeline(registry), GenerateTextPipeline(registry)

    def cut_call(data):
        image = decode_image(data, settings)
        encode_png(compose(image, cut(image, ["elephant"])))

    return {
        "/ocr": lambda data: ocr(decode_image(data, settings), lang="en"),
        "/extract": lambda data: extract(decode_image(data, settings)),
        "/cut": cut_call,
        "/stamps": lambda data: stamps([Page(decode_image(data, settings))]),
        "/stamps/embed": lambda data: stamps.embed([decode_image(data, settings)]),
        "/generate-text": lambda data: caption(decode_image(data, settings), max_new_tokens=24),
    }


def throughput(port: int, request: tuple[str, bytes, dict], clients: int, seconds: float) -> float:
    """Completed 200 responses per second with ``clients`` threads posting for ``seconds``."""
    results, elapsed = hammer(port, request, clients, seconds)
    return sum(1 for status, _ in results if status == 200) / elapsed


def endpoints_table(runs: int, seconds: float, models: Path) -> list[str]:
    """Section 1 (see the module docstring) as Markdown lines."""
    env = {"PRISM_PRELOAD": "all", "PRISM_MODELS_DIR": str(models)}
    settings = Settings.from_env({**os.environ, **env})
    raws = raw_calls(settings)
    rows = []
    with running(env, log_path=str(REPO_ROOT / "bench" / "uwsgi.log")) as base:
        port = int(base.rsplit(":", 1)[1])
        for (path, _fields, rel), request in zip(ENDPOINTS, requests_for()):
            data = (SHARED / rel).read_bytes()
            handler_ms: list[float] = []
            raw_ms, http_ms = timed_alternately(
                [lambda: raws[path](data), http_call(port, *request, handler_ms=handler_ms)],
                runs)
            raw = statistics.median(raw_ms)
            rates = [throughput(port, request, c, seconds) for c in (1, 2, 4)]
            rows.append((path, describe(rel), raw, float(np.median(handler_ms[-runs:])),
                         np.percentile(http_ms, 50), np.percentile(http_ms, 95), rates))
        rss = workers_rss(f"prism_http={base[len('http://'):]}")
    lines = ["| endpoint | input | raw ms | in handler ms | HTTP p50 ms | HTTP p95 ms | HTTP/raw "
             "| req/s 1 client | 2 clients | 4 clients |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for path, what, raw, handler, p50, p95, rates in rows:
        lines.append(f"| {path} | {what} | {raw:.0f} | {handler:.0f} | {p50:.0f} | {p95:.0f} | "
                     f"{p50 / raw:.2f} | " + " | ".join(f"{r:.2f}" for r in rates) + " |")
    lines += ["", "\"In handler\" is the sum of the stages the worker timed (the `total` of the "
              "`Server-Timing` header: reading and decoding the upload, the pipeline's stages); "
              "HTTP p50 minus it is transport, multipart parsing, Connexion's validation, "
              "a2wsgi, Flask and writing the response."]
    lines += ["", "Worker RSS at the end (all models loaded): "
              + ", ".join(f"{mb:.0f} MB" for mb in rss.values()) + "."]
    return lines


def cold_table(models: Path) -> list[str]:
    """Section 2 (see the module docstring) as Markdown lines."""
    env = {"PRISM_PROCESSES": "1", "PRISM_MODELS_DIR": str(models)}
    lines = ["| endpoint | models loaded (load ms) | first request ms | second request ms "
             "| worker RSS after MB |", "|---|---|---:|---:|---:|"]
    with tempfile.TemporaryDirectory() as tmp, \
            running(env, log_path=os.path.join(tmp, "uwsgi.log")) as base:
        port = int(base.rsplit(":", 1)[1])
        hint = f"prism_http={base[len('http://'):]}"
        seen: set[str] = set()
        lines.insert(2, f"| (idle worker) | | | | {sum(workers_rss(hint).values()):.0f} |")
        for (path, _, _), request in zip(ENDPOINTS, requests_for()):
            first = timed(http_call(port, *request), 1, warmup=0)[0]
            second = timed(http_call(port, *request), 1, warmup=0)[0]
            loaded = [m for m in get_json(port, "/models")["models"]
                      if m.get("load_ms") is not None and m["name"] not in seen]
            seen.update(m["name"] for m in loaded)
            names = ", ".join(f"{m['name']} ({m['load_ms']:.0f})" for m in loaded) or "—"
            lines.append(f"| {path} | {names} | {first:.0f} | {second:.0f} | "
                         f"{sum(workers_rss(hint).values()):.0f} |")
    return lines


def _ten_page_pdf() -> bytes:
    """10 scanned-style A4 pages at 300 dpi (JPEG), from ImgExtract's patent pages."""
    import io

    import pymupdf
    from PIL import Image

    doc = pymupdf.open()
    samples = sorted((SHARED / "data/seeds/imgextract/test/samples").glob("[2-6].png"))
    for i in range(10):
        image = Image.open(samples[i % len(samples)]).convert("L")
        buf = io.BytesIO()
        image.save(buf, "JPEG", quality=90)
        page = doc.new_page(width=595, height=842)
        page.insert_image(page.rect, stream=buf.getvalue())
    return doc.tobytes(deflate=True)


def _post_job(base: str, fields: dict, name: str, data: bytes) -> str:
    import requests

    r = requests.post(f"{base}/jobs", data=fields, files={"file": (name, data)}, timeout=60)
    r.raise_for_status()
    return r.json()["id"]


def _follow(base: str, job_id: str) -> tuple[float | None, float]:
    """Seconds from now to the job's first finished page and to its end (polled every
    0.1 s)."""
    import requests

    started, first = time.monotonic(), None
    while True:
        status = requests.get(f"{base}/jobs/{job_id}", timeout=60).json()
        if first is None and status["progress"]["pages_done"] > 0:
            first = time.monotonic() - started
        if status["status"] in ("finished", "failed", "canceled"):
            if status["status"] != "finished":
                raise RuntimeError(f"job {job_id} {status['status']}: {status.get('error')}")
            return first, time.monotonic() - started
        time.sleep(0.1)


def jobs_table(pages: int = 100, dpi: int = 150) -> list[str]:
    """Async jobs (``POST /jobs``) through the embedded Redis and workers of ``make run``:
    pages per second of one ``pages``-page scanned PDF (/ocr, ``lang=en``, ``dpi``) with 1
    and 2 workers, the enqueue → first-page latency, and a worker's first and second small
    job (the second loads no model)."""
    import pymupdf

    from api.serve import running

    ten = pymupdf.open(stream=_ten_page_pdf(), filetype="pdf")
    doc, xrefs = pymupdf.open(), {}
    for i in range(pages):  # the ten scans' images stored once each, shown on every tenth page
        src = ten[i % 10]
        page = doc.new_page(width=src.rect.width, height=src.rect.height)
        xref = src.get_images()[0][0]
        if xref in xrefs:
            page.insert_image(page.rect, xref=xrefs[xref])
        else:
            xrefs[xref] = page.insert_image(page.rect, stream=ten.extract_image(xref)["image"])
    pdf = doc.tobytes(deflate=True)
    small = (SHARED / SAMPLES["ocr"][1]).read_bytes()
    rows = ["| workers | pages | wall s | pages/s | enqueue → first page s | first / second small job s |",
            "|---|---|---|---|---|---|"]
    rates = {}
    for workers in (1, 2):
        env = {"PRISM_JOB_WORKERS": str(workers), "PRISM_JOB_CHUNK_PAGES": "5",
               "PRISM_ORT_THREADS": str(max(1, (os.cpu_count() or 2) // workers))}
        with running(env, timeout_s=120) as base:
            warm = [_follow(base, _post_job(base, {"job": "ocr", "lang": "en"}, "p.png",
                                            small))[1] for _ in range(2 * workers)]
            first, wall = _follow(base, _post_job(base, {"job": "ocr", "lang": "en",
                                                         "dpi": str(dpi)}, "scan.pdf", pdf))
        rates[workers] = pages / wall
        rows.append(f"| {workers} | {pages} | {wall:.1f} | {pages / wall:.2f} | "
                    f"{first:.2f} | {warm[0]:.2f} / {warm[-1]:.2f} |")
    rows += ["", f"Scaling 1 → 2 workers: × {rates[2] / rates[1]:.2f} on this machine "
             f"({os.cpu_count()} cores: the workers share them; on separate machines each "
             "brings its own)."]
    return rows


def crowded_photo() -> bytes:
    """A 3 × 2 collage (JPEG, 1920×1280) of the bus, zidane and horses photos and their
    mirror images: about 28 people, ties, horses and buses in one request, the crowded
    street/herd case of issue #22 (no single crowded photo is among the development data)."""
    import cv2

    cells = []
    for name in ("ultralytics_bus.jpg", "ultralytics_zidane.jpg", "darknet_horses.jpg"):
        image = cv2.imread(str(SHARED / "data/eval/cut" / name))
        cells.append(cv2.resize(image, (640, 640), interpolation=cv2.INTER_AREA))
    top = np.hstack(cells)
    collage = np.vstack([top, np.ascontiguousarray(top[:, ::-1])])
    return cv2.imencode(".jpg", collage, [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()


def targets_table(runs: int) -> list[str]:
    """Issue #22's rows side by side, through the service as ``make run`` starts it (uWSGI,
    2 processes × 1 thread, models preloaded): each Prism request and its alternative called
    in turn ``runs`` times (p50), with CER for the OCR rows. Alternatives: the Tesseract 5
    CLI (``-l eng``) for /ocr, ISNet alone at 512² in process for /cut of one object."""
    import json
    import subprocess

    from common import multipart

    from api.engines.isnet import MODEL as ISNET
    from api.engines.isnet import IsnetEngine
    from api.metrics import cer

    truth = json.loads((REPO_ROOT / "tests/data/ocr_truth.json").read_text())
    settings = Settings.from_env()
    isnet512 = IsnetEngine(Path(settings.models_dir) / ISNET, settings.intra_op_threads, 512)
    elephant = SHARED / "models/testdata/photo_elephant.jpg"
    elephant_rgb = decode_image(elephant.read_bytes(), settings)
    rows = [("/ocr, full page", "data/eval/ocr/tesseract_unlv_8087_054.3B.png", "ocr",
             {"lang": "en"}, "tesseract", "≤ 3 s, CER ≤ 0.035"),
            ("/ocr, full page, model=accurate", "data/eval/ocr/tesseract_unlv_8087_054.3B.png",
             "ocr", {"lang": "en", "model": "accurate"}, None, "(the slower recogniser)"),
            ("/ocr, small page", "data/eval/ocr/tesseract_phototest.png", "ocr",
             {"lang": "en"}, "tesseract", "≤ 0.4 s"),
            ("/cut, 5 objects", "data/eval/cut/ultralytics_bus.jpg", "cut",
             {"objects": "person,bus", "format": "png"}, None, "≤ 2.5 s"),
            ("/cut, crowded", None, "cut",
             {"objects": "person,bus,tie,horse", "format": "png"}, None, "≤ 6 s"),
            ("/cut, 1 object", "models/testdata/photo_elephant.jpg", "cut",
             {"objects": "elephant", "format": "png"}, "isnet512", "≤ 0.6 s")]
    env = {"PRISM_PRELOAD": "ocr-ppocrv6,detect-yolox-nano,matte-isnet"}
    out = ["| job | input | Prism p50 ms | alternative | alternative p50 ms | goal | result |",
           "|---|---|---:|---|---:|---|---|"]
    with tempfile.TemporaryDirectory() as tmp, \
            running(env, log_path=os.path.join(tmp, "uwsgi.log")) as base:
        port = int(base.rsplit(":", 1)[1])
        for label, rel, job, fields, alternative, goal in rows:
            data = (SHARED / rel).read_bytes() if rel else crowded_photo()
            name = Path(rel).name if rel else "crowded_collage.jpg"
            body, headers = multipart(fields, name, data)
            seen: dict = {}

            def prism():
                status, payload = post(port, f"/{job}", body, headers)
                if status != 200:
                    raise RuntimeError(f"{label}: HTTP {status} {payload[:200]!r}")
                seen["payload"] = payload

            calls = [prism]
            if alternative == "tesseract":
                path = os.path.join(tmp, name)
                Path(path).write_bytes(data)
                calls.append(lambda: seen.__setitem__("tess", subprocess.run(
                    ["tesseract", path, "-", "-l", "eng"], capture_output=True, text=True,
                    check=True).stdout))
            elif alternative == "isnet512":
                calls.append(lambda: isnet512(elephant_rgb))
            times = [statistics.median(t) for t in timed_alternately(calls, runs)]
            result = ""
            if job == "ocr":
                text = "\n".join(p["text"] for p in json.loads(seen["payload"])["pages"])
                result = f"CER {cer(text, truth[rel]['text']):.3f}"
                if alternative:
                    result += f"; Tesseract CER {cer(seen['tess'], truth[rel]['text']):.3f}"
            else:
                cut = json.loads(post(port, "/cut", *multipart(
                    {**fields, "format": "json"}, name, data))[1])
                n, m = len(cut["objects"]), cut["mattes"]
                result = f"{n} object{'s' * (n != 1)}, {m} matte{'s' * (m != 1)}" + \
                    (", capped" if cut["capped"] else "")
            what = {"tesseract": "Tesseract 5 CLI -l eng", "isnet512": "ISNet alone, 512²",
                    None: "—"}[alternative]
            alt_ms = f"{times[1]:.0f}" if len(times) > 1 else "—"
            shown = describe(rel) if rel else "collage of bus, zidane, horses ×2, 1920×1280"
            out.append(f"| {label} | {shown} | {times[0]:.0f} | {what} | {alt_ms} | {goal} | "
                       f"{result} |")
    out += ["", "/generate-text int8 memory and speed (full-size Kosmos-2): "
            "`python bench/bench_kosmos.py` → bench/kosmos.md (about 10 minutes and 10 GB, "
            "so not part of `make bench`)."]
    return out


def notes(runs: int) -> list[str]:
    """Section 3 (see the module docstring) as Markdown bullet lines (in-process figures)."""
    import io

    from PIL import Image
    from rapidocr import RapidOCR

    settings = Settings.from_env()
    registry = Registry(ALL_SPECS, settings)
    out = []

    models = Path(settings.models_dir) / "ocr"
    bare = RapidOCR(params={
        "Global.log_level": "error",
        "Det.model_path": str(models / "PP-OCRv6_det_small.onnx"),
        "Rec.model_path": str(models / "PP-OCRv6_rec_small.onnx"),
        "Cls.model_path": str(models / "ch_ppocr_mobile_v2.0_cls_mobile.onnx"),
        "EngineConfig.onnxruntime.intra_op_num_threads": settings.intra_op_threads})
    ocr = OcrPipeline(registry)
    for rel in ("data/eval/ocr/tesseract_phototest.png", "data/eval/ocr/rapidocr_en.jpg"):
        data = (SHARED / rel).read_bytes()
        image = decode_image(data, settings)
        ours, theirs = map(statistics.median, timed_alternately(
            [lambda: ocr(decode_image(data, settings), lang="en"), lambda: bare(image)], runs))
        out.append(f"- /ocr pipeline on {describe(rel)}: {ours:.0f} ms; a bare RapidOCR call "
                   f"{theirs:.0f} ms ({ours / theirs:.2f}×).")
    for rel in ("data/eval/ocr/tesseract_unlv_8087_054.3B.png", "data/eval/ocr/easyocr_korean.png"):
        image = decode_image((SHARED / rel).read_bytes(), settings)
        crops = [crop_quad(image, q, rotate_vertical=False) for q in ocr._detect(image)]
        views = statistics.median(timed(lambda: [line_views(c) for c in crops], runs))
        out.append(f"- /ocr line views (the arrow check, `paint_out_arrows`, and vertical "
                   f"restacking) on {describe(rel)}: {views:.1f} ms for its {len(crops)} lines.")

    extract = ExtractPipeline(registry)
    pdf = _ten_page_pdf()
    per_page = statistics.median(timed(lambda: extract_document(extract, load_document(
        pdf, "scan.pdf", settings, allow_pdf=True, dpi=200)), max(3, runs // 2))) / 10
    out.append(f"- /extract on a 10-page scanned PDF at 200 dpi: {per_page:.0f} ms per page "
               "(target ≤ 500).")

    cut, stages = CutPipeline(registry), Timings()
    image = decode_image((SHARED / ENDPOINTS[2][2]).read_bytes(), settings)
    timed(lambda: cut(image, ["elephant"], timings=stages), runs)
    n = runs + 2
    out.append(f"- /cut stages on {describe(ENDPOINTS[2][2])}: detector "
               f"{stages.ms['detect'] / n:.0f} ms, matte {stages.ms['matte'] / n:.0f} ms (mean).")

    stamps = StampsPipeline(registry)
    page = Image.open(SHARED / "data/eval/stamps/staver_image_1.png").convert("RGB")
    buf = io.BytesIO()
    page.resize((1240, 1754), Image.LANCZOS).save(buf, "PNG")
    a4 = decode_image(buf.getvalue(), settings)
    detect = statistics.median(timed(lambda: stamps.detect(a4, MIN_SCORE), runs))
    refined = statistics.median(timed(lambda: stamps.find(a4, MIN_SCORE, verify=False), runs))
    find = statistics.median(timed(lambda: stamps.find(a4, MIN_SCORE, verify=True), runs))
    stamp_box = np.array([[596, 1116, 715, 1235]], np.float32)  # the page's stamp, 150 dpi
    verify = statistics.median(timed(lambda: stamps.verify(a4, stamp_box), runs))
    embed = statistics.median(timed(lambda: stamps.embed([a4[1100:1250, 590:720]]), runs))
    out.append(f"- /stamps on an A4 page at 150 dpi (1240×1754): detection {detect:.0f} ms, "
               f"+ the document and orientation checks and whole-stamp refinement "
               f"{refined:.0f} ms, + the text check as the service runs it (boxes below "
               f"{VERIFY_BELOW} only) {find:.0f} ms (target ≤ 150); "
               f"the seal text check {verify:.0f} ms per checked box; one crop embedding "
               f"{embed:.0f} ms (target ≤ 30).")
    return out


def korean_table(runs: int) -> list[str]:
    """Section 4 (see the module docstring): ms per crop on one thread and CER, per engine."""
    import json

    from api.engines import korec, tesseract
    from api.metrics import cer
    from api.pipelines.ocr import OcrPipeline

    settings = Settings.from_env()
    folder = Path(settings.models_dir)
    ko = korec.KoreanRecognizer(korec.member_paths(folder), folder / korec.CHARSET, 1)
    tess = tesseract.TesseractLineEngine(folder / "tessdata")
    truth = json.loads((REPO_ROOT / "tests/data/ocr_truth.json").read_text())
    rows = ["| crop | size | ocr-ko-rec ms | CER | Tesseract ms | CER |", "|---|---|---:|---:|---:|---:|"]
    for rel, ref in truth.items():
        if rel.startswith("_") or ref["lang"] != "ko" or ref["page"]:
            continue
        crop = decode_image((SHARED / rel).read_bytes(), settings)
        ko_ms = statistics.median(timed(lambda: ko.recognize([crop], batch=1), runs))
        t_in = OcrPipeline._tess_input(crop)
        t_ms = statistics.median(timed(lambda: tess.recognize(t_in), runs))
        rows.append(f"| {Path(rel).name} | {crop.shape[1]}×{crop.shape[0]} | {ko_ms:.1f} | "
                    f"{cer(ko.recognize([crop])[0][0], ref['text']):.3f} | {t_ms:.1f} | "
                    f"{cer(tess.recognize(t_in)[0], ref['text']):.3f} |")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(prog="python bench/bench.py")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="length of each throughput measurement")
    parser.add_argument("--jobs-only", action="store_true",
                        help="only the async-job table (printed, results.md untouched)")
    parser.add_argument("--targets-only", action="store_true",
                        help="only the speed-target table (printed, results.md untouched)")
    args = parser.parse_args()
    if args.jobs_only:
        print("\n".join(jobs_table()))
        return 0
    if args.targets_only:
        print("\n".join(targets_table(max(5, args.runs))))
        return 0
    with tempfile.TemporaryDirectory(prefix="prism-bench-") as tmp:
        models, kosmos = models_dir(Path(tmp))
        table = endpoints_table(args.runs, args.seconds, models)
        cold = cold_table(models)
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    settings = Settings.from_env()
    ram_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)
    text = "\n".join([
        "# Benchmark results", "", f"{time.strftime('%Y-%m-%d')}, `make bench`", "",
        f"Machine: {os.cpu_count()} cores, {cpu}, {ram_gb} GB RAM, "
        f"Python {platform.python_version()}. uWSGI {settings.processes} processes × "
        f"{settings.threads} thread; /generate-text: {kosmos}.", "",
        "## Speed targets (issue #22: Prism and the alternative in turn)", "",
        *targets_table(max(5, args.runs)), "",
        "## Endpoints", "",
        f"p50/p95 of {args.runs} requests after 2 warm-up calls, each right after a raw call "
        f"on the same input; throughput over {args.seconds:g} s per client count.", "",
        *table, "",
        "## Cold start (one fresh worker, nothing preloaded)", "", *cold, "",
        "## Notes", "", *notes(args.runs), "",
        "## Korean line recognition (one thread, whole crop, median of runs)", "",
        *korean_table(args.runs), "",
        "## Async jobs (POST /jobs, embedded Redis and workers)", "", *jobs_table(), ""])
    print(text)
    (REPO_ROOT / "bench" / "results.md").write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
