"""Benchmark (not a test): raw pipeline vs HTTP through uWSGI, and /ocr vs a bare RapidOCR call.

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
from api.pipelines.ocr import OcrPipeline  # noqa: E402
from api.registry import Registry  # noqa: E402
from api.serve import running  # noqa: E402
from api.settings import REPO_ROOT, Settings  # noqa: E402

SHARED = REPO_ROOT.parent / "shared"
OCR_PAGES = [("en", "data/eval/ocr/tesseract_phototest.png"),
             ("en", "data/eval/ocr/rapidocr_en.jpg"),
             ("ko", "data/eval/ocr/tesseract_kor_lines_page.png")]


def p50(fn, runs: int) -> float:
    """Median wall time of ``fn()`` in milliseconds after one warm-up call."""
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
        raw = p50(lambda: pipeline(image, lang=lang), runs)
        http_ms = p50(lambda: client.post_file("/ocr", data, {"lang": lang}), runs)
        row = {"endpoint": "/ocr", "input": f"{Path(rel).name} ({lang}, "
                                            f"{image.shape[1]}×{image.shape[0]})",
               "raw_ms": raw, "http_ms": http_ms, "ratio": http_ms / raw}
        if lang == "en":
            bare_ms = p50(lambda: bare(image), runs)
            row["reference"] = f"bare RapidOCR {bare_ms:.0f} ms → /ocr is {http_ms / bare_ms:.2f}×"
        rows.append(row)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with running({"PRISM_PRELOAD": "all"}) as base:
        rows = bench_ocr(args.runs, base)
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    lines = [f"Machine: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}; "
             f"uWSGI 1 process × 2 threads; p50 of {args.runs} runs after a warm-up.", "",
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
