"""Benchmark (not a test): raw pipeline vs HTTP through uWSGI, and /ocr vs a bare RapidOCR call.

"Raw" is the same bytes processed in this process (decode + pipeline), "HTTP" the request
through uWSGI, a2wsgi, Connexion and Flask.

Usage: python bench/bench.py [--runs 7]. Prints a Markdown table and writes bench/results.md.
Inputs are real pages from ../shared. Figures are p50 over ``--runs`` after one warm-up.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import statistics
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.engines import ALL_SPECS  # noqa: E402
from api.inputs import decode_image  # noqa: E402
from api.inputs import load_document  # noqa: E402
from api.pipelines.cut import CutPipeline, compose  # noqa: E402
from api.pipelines.extract import ExtractPipeline, extract_document  # noqa: E402
from api.vision import encode_png  # noqa: E402
from api.pipelines.ocr import OcrPipeline  # noqa: E402
from api.registry import Registry  # noqa: E402
from api.serve import running  # noqa: E402
from api.settings import REPO_ROOT, Settings  # noqa: E402

SHARED = REPO_ROOT.parent / "shared"
OCR_PAGES = [("en", "data/eval/ocr/tesseract_phototest.png"),
             ("en", "data/eval/ocr/rapidocr_en.jpg"),
             ("ko", "data/eval/ocr/tesseract_kor_lines_page.png")]


def p50(fn, runs: int, warmup: int = 2) -> float:
    """Median wall time of ``fn()`` in milliseconds after ``warmup`` calls (two, so that both
    uWSGI workers have run each model once before timing)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


class Client:
    """HTTP client posting one multipart file (a new connection per request: uWSGI's
    http-socket closes after each response)."""

    def __init__(self, base: str):
        self.parts = urlsplit(base)

    def post_file(self, path: str, data: bytes, fields: dict) -> dict:
        boundary = uuid.uuid4().hex
        body = b"".join(
            [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
            + [f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n'
               f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n",
               f"--{boundary}--\r\n".encode()])
        conn = http.client.HTTPConnection(self.parts.hostname, self.parts.port, timeout=120)
        try:
            conn.request("POST", path, body,
                         {"Content-Type": f"multipart/form-data; boundary={boundary}"})
            response = conn.getresponse()
            payload = response.read()
        finally:
            conn.close()
        if response.status != 200:
            raise RuntimeError(f"{path}: HTTP {response.status} {payload[:200]!r}")
        return json.loads(payload)


def bench_ocr(runs: int, base: str) -> list[dict]:
    from rapidocr import RapidOCR

    settings = Settings.from_env()
    pipeline = OcrPipeline(Registry(ALL_SPECS, settings))
    models = Path(settings.models_dir) / "ocr"
    bare = RapidOCR(params={
        "Global.log_level": "error",
        "Det.model_path": str(models / "PP-OCRv6_det_small.onnx"),
        "Rec.model_path": str(models / "PP-OCRv6_rec_small.onnx"),
        "Cls.model_path": str(models / "ch_ppocr_mobile_v2.0_cls_mobile.onnx"),
        "EngineConfig.onnxruntime.intra_op_num_threads": settings.intra_op_threads})
    client = Client(base)
    rows = []
    for lang, rel in OCR_PAGES:
        data = (SHARED / rel).read_bytes()
        image = decode_image(data, settings)
        raw = p50(lambda: pipeline(decode_image(data, settings), lang=lang), runs)
        http_ms = p50(lambda: client.post_file("/ocr", data, {"lang": lang}), runs)
        row = {"endpoint": "/ocr", "input": f"{Path(rel).name} ({lang}, "
                                            f"{image.shape[1]}×{image.shape[0]})",
               "raw_ms": raw, "http_ms": http_ms, "ratio": http_ms / raw}
        if lang == "en":
            bare_ms = p50(lambda: bare(image), runs)
            row["reference"] = f"bare RapidOCR {bare_ms:.0f} ms → /ocr is {http_ms / bare_ms:.2f}×"
        rows.append(row)
    return rows


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


def bench_extract(runs: int, base: str) -> list[dict]:
    settings = Settings.from_env()
    pipeline = ExtractPipeline(Registry(ALL_SPECS, settings))
    client = Client(base)
    rows = []
    page_png = (SHARED / "data/seeds/imgextract/test/samples/2.png").read_bytes()
    raw = p50(lambda: pipeline(decode_image(page_png, settings)), runs)
    http_ms = p50(lambda: client.post_file("/extract", page_png, {}), runs)
    rows.append({"endpoint": "/extract", "input": "A4 page image 2480×3508 (300 dpi PNG)",
                 "raw_ms": raw, "http_ms": http_ms, "ratio": http_ms / raw,
                 "reference": "target ≤ 500 ms per page end to end"})
    pdf = _ten_page_pdf()

    def raw_pdf():
        extract_document(pipeline, load_document(pdf, "scan.pdf", settings, allow_pdf=True,
                                                 dpi=200))

    raw = p50(raw_pdf, max(3, runs // 2))
    http_ms = p50(lambda: client.post_file("/extract", pdf, {"dpi": 200}), max(3, runs // 2))
    rows.append({"endpoint": "/extract", "input": "10-page scanned PDF at 200 dpi",
                 "raw_ms": raw, "http_ms": http_ms, "ratio": http_ms / raw,
                 "reference": f"{http_ms / 10:.0f} ms per page end to end"})
    return rows


def bench_cut(runs: int, base: str) -> list[dict]:
    """One object in a ~1 MP photo (the 1024×683 rembg car photo, resized from its original)."""
    import io

    from PIL import Image

    from api.pipelines.base import Timings

    settings = Settings.from_env()
    pipeline = CutPipeline(Registry(ALL_SPECS, settings))
    photo = Image.open(SHARED / "data/eval/cut/rembg_car-2.jpg").convert("RGB")
    scale = (1_000_000 / (photo.width * photo.height)) ** 0.5
    photo = photo.resize((round(photo.width * scale), round(photo.height * scale)))
    buf = io.BytesIO()
    photo.save(buf, "JPEG", quality=92)
    data = buf.getvalue()
    stages = Timings()

    def raw():
        image = decode_image(data, settings)
        result = pipeline(image, ["car"], timings=stages)
        encode_png(compose(image, result))

    raw_ms = p50(raw, runs)
    n = runs + 2
    detect, matte = stages.ms["detect"] / n, stages.ms["matte"] / n
    http_ms = p50(lambda: Client(base).post_file("/cut", data, {"objects": "car"}), runs)
    return [{"endpoint": "/cut", "input": f"one car, {photo.width}×{photo.height} JPEG",
             "raw_ms": raw_ms, "http_ms": http_ms, "ratio": http_ms / raw_ms,
             "reference": f"detector {detect:.0f} ms, matte {matte:.0f} ms (mean)"}]


def bench_stamps(runs: int, base: str) -> list[dict]:
    """An A4 scan at 150 dpi (a StaVer page resized to 1240×1754, one stamp): detection alone,
    the whole route (decode, detect, embed, similarity), and one crop embedding."""
    import io

    from PIL import Image

    from api.pipelines.stamps import StampsPipeline

    settings = Settings.from_env()
    pipeline = StampsPipeline(Registry(ALL_SPECS, settings))
    page = Image.open(SHARED / "data/eval/stamps/staver_image_1.png").convert("RGB")
    page = page.resize((1240, 1754), Image.LANCZOS)
    buf = io.BytesIO()
    page.save(buf, "PNG")
    data = buf.getvalue()
    image = decode_image(data, settings)
    detect_ms = p50(lambda: pipeline.detect(image, 0.35), runs)
    crop = image[1100:1250, 590:720]
    embed_ms = p50(lambda: pipeline.embed([crop]), runs)

    def raw():
        from api.inputs import Page
        pipeline([Page(decode_image(data, settings))])

    raw_ms = p50(raw, runs)
    http_ms = p50(lambda: Client(base).post_file("/stamps", data, {}), runs)
    return [{"endpoint": "/stamps", "input": "A4 page at 150 dpi, 1240×1754 PNG, one stamp",
             "raw_ms": raw_ms, "http_ms": http_ms, "ratio": http_ms / raw_ms,
             "reference": f"detection {detect_ms:.0f} ms (target ≤ 300), one crop embedding "
                          f"{embed_ms:.0f} ms (target ≤ 30)"}]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    log = REPO_ROOT / "bench" / "uwsgi.log"
    with running({"PRISM_PRELOAD": "all"}, log_path=str(log)) as base:
        rows = (bench_ocr(args.runs, base) + bench_extract(args.runs, base)
                + bench_cut(args.runs, base) + bench_stamps(args.runs, base))
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    lines = [f"Machine: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}; "
             f"uWSGI 2 processes × 1 thread (ONNX Runtime 1 thread each); p50 of {args.runs} runs after 2 warm-up calls.", "",
             "| endpoint | input | raw pipeline ms | HTTP via uWSGI ms | HTTP/raw | reference |",
             "|---|---|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['endpoint']} | {r['input']} | {r['raw_ms']:.0f} | {r['http_ms']:.0f} "
                     f"| {r['ratio']:.2f} | {r.get('reference', '')} |")
    table = "\n".join(lines)
    print(table)
    (REPO_ROOT / "bench" / "results.md").write_text(
        f"# Benchmark results\n\n{time.strftime('%Y-%m-%d')}\n\n{table}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
