"""Hostile input under uWSGI: a corpus of 75 kinds of bad request, every one a short 4xx
problem+json without internals, and the same single worker (same pid) then answers real
requests correctly; requests that are valid but built to exhaust a worker (thin pages, wide
lines, malformed EXIF) are answered and leave the worker's memory bounded."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request

import numpy as np
import psutil
import pymupdf
import pytest

from api.serve import running

from .conftest import shared
from .helpers import BAD_EXIF, exif_jpeg, huge_png_header, multipart, png, raw_http, thin_pdf, tiff_tile_bomb

PAGE = shared("data/eval/ocr/tesseract_phototest.png").read_bytes()
TIFF_BOMB = tiff_tile_bomb()  # 1.5 MB declaring a 40,000² tile in a 64² image
STAMP = shared("data/seeds/stamp2vec/tests/test_data/test_cropped_stamp.png").read_bytes()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _encrypted_pdf() -> bytes:
    doc = pymupdf.open()
    doc.new_page()
    return doc.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="a", owner_pw="b")


def _pdf(pages: int) -> bytes:
    doc = pymupdf.open()
    for _ in range(pages):
        doc.new_page(width=72, height=72)
    return doc.tobytes()


# (name, path, multipart fields, multipart files, raw JSON body or None, raw content type)
def corpus() -> list[tuple]:
    F, J = "multipart", "json"
    return [
        ("no file part", "/ocr", F, {"lang": "en"}, {}),
        ("empty file", "/ocr", F, {}, {"file": ("e.png", b"")}),
        ("text named png", "/ocr", F, {}, {"file": ("t.png", b"hello, world")}),
        ("truncated png", "/ocr", F, {}, {"file": ("t.png", PAGE[:300])}),
        ("truncated jpeg", "/cut", F, {"objects": "person"},
         {"file": ("t.jpg", shared("data/eval/cut/ultralytics_bus.jpg").read_bytes()[:2000])}),
        ("png signature only", "/extract", F, {}, {"file": ("s.png", b"\x89PNG\r\n\x1a\n")}),
        ("pixel bomb", "/ocr", F, {}, {"file": ("b.png", huge_png_header(60000, 60000))}),
        ("zip archive", "/ocr", F, {}, {"file": ("a.zip", b"PK\x03\x04" + b"\0" * 100)}),
        ("gzip", "/extract", F, {}, {"file": ("a.gz", b"\x1f\x8b\x08" + b"\0" * 50)}),
        ("html", "/cut", F, {"objects": "dog"}, {"file": ("a.html", b"<html><body>x</body></html>")}),
        ("svg", "/ocr", F, {}, {"file": ("a.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>')}),
        ("pdf header only", "/ocr", F, {}, {"file": ("a.pdf", b"%PDF-1.7\n")}),
        ("encrypted pdf", "/extract", F, {}, {"file": ("e.pdf", _encrypted_pdf())}),
        ("pdf over page limit", "/ocr", F, {}, {"file": ("m.pdf", _pdf(400))}),
        ("pdf to photo endpoint", "/cut", F, {"objects": "dog"}, {"file": ("p.pdf", _pdf(1))}),
        ("pdf as stamp crop", "/stamps/embed", F, {}, {"file": ("p.pdf", _pdf(1))}),
        ("page 0", "/ocr", F, {"pages": "0"}, {"file": ("p.pdf", _pdf(2))}),
        ("page beyond document", "/ocr", F, {"pages": "9"}, {"file": ("p.pdf", _pdf(2))}),
        ("dpi too high", "/ocr", F, {"dpi": "5000"}, {"file": ("p.pdf", _pdf(1))}),
        ("min_score not a number", "/ocr", F, {"min_score": "abc"}, {"file": ("p.png", PAGE)}),
        ("min_score above 1", "/stamps", F, {"min_score": "2"}, {"file": ("p.png", PAGE)}),
        ("unknown mode", "/stamps", F, {"mode": "xml"}, {"file": ("p.png", PAGE)}),
        ("unknown language", "/ocr", F, {"lang": "fr"}, {"file": ("p.png", PAGE)}),
        ("unknown extract class", "/extract", F, {"classes": "poem"}, {"file": ("p.png", PAGE)}),
        ("cut without objects", "/cut", F, {}, {"file": ("p.png", PAGE)}),
        ("zero new tokens", "/generate-text", F, {"max_new_tokens": "0"}, {"file": ("p.png", PAGE)}),
        ("compare without reference", "/stamps/compare", F, {}, {"file": ("p.png", PAGE)}),
        ("reference not an image", "/stamps/compare", F, {},
         {"file": ("p.png", PAGE), "reference": ("r.png", b"nope")}),
        ("unknown form field", "/ocr", F, {"colour": "red"}, {"file": ("p.png", PAGE)}),
        ("invalid base64", "/ocr", J, {"image_base64": "!!!not base64!!!"}),
        ("base64 of text", "/ocr", J, {"image_base64": _b64(b"plain words")}),
        ("data url of junk", "/extract", J, {"image_base64": "data:image/png;base64," + _b64(b"junk")}),
        ("both sources", "/ocr", J, {"image_base64": _b64(PAGE), "image_url": "https://example.org/a.png"}),
        ("no source", "/stamps", J, {"min_score": 0.5}),
        ("empty base64", "/ocr", J, {"image_base64": ""}),
        ("json list", "/ocr", J, [1, 2, 3]),
        ("unknown json field", "/stamps/embed", J, {"image_base64": _b64(STAMP), "extra": 1}),
        ("objects empty list", "/cut", J, {"image_base64": _b64(PAGE), "objects": []}),
        ("url file scheme", "/ocr", J, {"image_url": "file:///etc/passwd"}),
        ("url loopback", "/ocr", J, {"image_url": "http://127.0.0.1:1/a.png"}),
        ("url metadata service", "/cut", J,
         {"image_url": "http://169.254.169.254/latest/meta-data", "objects": ["dog"]}),
        ("url ipv6 loopback", "/ocr", J, {"image_url": "http://[::1]/a.png"}),
        ("url ipv4-mapped ipv6", "/ocr", J, {"image_url": "http://[::ffff:127.0.0.1]/a.png"}),
        ("url hex ip", "/ocr", J, {"image_url": "http://0x7f000001/a.png"}),
        ("url decimal ip", "/extract", J, {"image_url": "http://2130706433/a.png"}),
        ("url short ip", "/ocr", J, {"image_url": "http://127.1/a.png"}),
        ("url zero address", "/ocr", J, {"image_url": "http://0.0.0.0/a.png"}),
        ("url localhost name", "/stamps", J, {"image_url": "http://localhost/a.png"}),
        ("url with credentials", "/ocr", J, {"image_url": "http://user:pw@10.0.0.1/a.png"}),
        ("url private network", "/ocr", J, {"image_url": "http://192.168.1.1/a.png"}),
        ("url gopher", "/ocr", J, {"image_url": "gopher://example.org/a"}),
        ("url too long", "/ocr", J, {"image_url": "https://example.org/" + "a" * 5000}),
        ("reference url loopback", "/stamps/compare", J,
         {"image_base64": _b64(PAGE), "reference_url": "http://127.0.0.1/r.png"}),
        ("invalid utf-8 json", "/ocr", "raw", b"\xff\xfe\xfd", "application/json"),
        ("broken json", "/extract", "raw", b'{"image_base64": "abc"', "application/json"),
        ("plain text body", "/ocr", "raw", b"hello", "text/plain"),
        ("multipart without boundary", "/ocr", "raw", b"--x\r\n\r\n", "multipart/form-data"),
        # round two (issue 20)
        ("thin strip png", "/ocr", F, {"lang": "en"},
         {"file": ("s.png", png(np.full((2, 16000, 3), 255, np.uint8)))}),
        ("thin strip png korean", "/ocr", F, {"lang": "ko"},
         {"file": ("s.png", png(np.full((2, 1700, 3), 255, np.uint8)))}),
        ("thin pdf page", "/extract", F, {}, {"file": ("t.pdf", thin_pdf(14400, 2))}),
        ("tiff tile bomb", "/ocr", F, {}, {"file": ("b.tif", TIFF_BOMB)}),
        ("text field named file", "/ocr", F, {"file": "hello"}, {}),
        ("deeply nested json array", "/ocr", "raw", b"[" * 1000 + b"]" * 1000,
         "application/json"),
        ("deeply nested json field", "/cut", "raw",
         b'{"objects": ' + b"[" * 1000 + b"]" * 1000 + b"}", "application/json"),
        ("nan threshold", "/stamps/compare", F, {"threshold": "nan"},
         {"file": ("a.png", STAMP), "reference": ("b.png", STAMP)}),
        ("nan min_score form", "/stamps", F, {"min_score": "nan"}, {"file": ("p.png", PAGE)}),
        ("infinite min_score form", "/extract", F, {"min_score": "inf"},
         {"file": ("p.png", PAGE)}),
        ("nan min_score json", "/ocr", "raw",
         b'{"image_base64": "' + _b64(PAGE).encode() + b'", "min_score": NaN}', "application/json"),
        ("infinity threshold json", "/stamps/compare", "raw",
         b'{"image_base64": "' + _b64(STAMP).encode() + b'", "reference_base64": "'
         + _b64(STAMP).encode() + b'", "threshold": Infinity}', "application/json"),
        ("600 kB lang field", "/ocr", F, {"lang": "x" * 600_000}, {"file": ("p.png", PAGE)}),
        ("600 kB pages field", "/ocr", F, {"pages": "1" * 600_000}, {"file": ("p.pdf", _pdf(1))}),
        ("5 MB json string", "/ocr", J, {"image_base64": _b64(PAGE), "lang": "x" * 5_000_000}),
        ("url 6to4 loopback", "/ocr", J, {"image_url": "http://[2002:7f00:1::]/a.png"}),
        ("url teredo", "/ocr", J, {"image_url": "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/a"}),
        ("url nat64 loopback", "/cut", J, {"image_url": "http://[64:ff9b::7f00:1]/a.png",
                                          "objects": ["dog"]}),
    ]


def _send(base: str, case: tuple):
    name, path, kind = case[:3]
    if kind == "multipart":
        body, ctype = multipart(case[3], case[4])
    elif kind == "json":
        body, ctype = json.dumps(case[3]).encode(), "application/json"
    else:
        body, ctype = case[3], case[4]
    req = urllib.request.Request(base + path, data=body, headers={"Content-Type": ctype})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, r.headers.get("Content-Type"), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read()


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


@pytest.fixture(scope="module")
def server():
    with running({"PRISM_PROCESSES": "1", "PRISM_THREADS": "1"}) as base:
        yield base


def test_bad_input_corpus_gets_4xx_and_the_worker_lives_on(server):
    cases = corpus()
    assert len(cases) >= 70 and len({c[0] for c in cases}) == len(cases)
    pid = _get(server + "/health")["pid"]
    wrong = []
    for case in cases:
        status, ctype, body = _send(server, case)
        text = body.decode("utf-8", "replace")
        ok = (400 <= status < 500 and (ctype or "").startswith("application/problem+json")
              and "Traceback" not in text and "/work" not in text and ".py" not in text
              and len(body) < 2000)  # values are quoted cut to a few hundred characters
        if not ok:
            wrong.append((case[0], status, ctype, text[:200]))
    assert not wrong, wrong
    assert _get(server + "/health")["pid"] == pid  # the same worker, never restarted
    status, _, body = _send(server, ("good", "/ocr", "multipart", {"lang": "en"},
                                     {"file": ("p.png", PAGE)}))
    assert status == 200 and "lazy fox" in json.loads(body)["pages"][0]["text"]
    status, _, body = _send(server, ("good stamp", "/stamps/embed", "multipart", {},
                                     {"file": ("s.png", STAMP)}))
    assert status == 200 and json.loads(body)["dim"] == 1280


def _rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 2 ** 20


@pytest.mark.parametrize("endpoint, fields", [("/ocr", {"lang": "en"}), ("/ocr", {"lang": "ko"}),
                                              ("/extract", {})])
def test_thin_pdf_page_is_answered_with_memory_bounded(server, endpoint, fields):
    """A 14,400 × 3 pt page renders 40,000 × 8 px: its one 'line' is squeezed to 50:1 before
    recognition (it grew a worker to 22.8 GB). The answer is a 200 and the worker stays."""
    pid = _get(server + "/health")["pid"]
    before = _rss_mb(pid)
    status, _, body = _send(server, ("thin", endpoint, "multipart", fields,
                                     {"file": ("t.pdf", thin_pdf(14400, 3))}))
    assert status == 200, body[:300]
    assert _get(server + "/health")["pid"] == pid
    assert _rss_mb(pid) - before < 800


@pytest.mark.parametrize("endpoint, fields", [("/ocr", {"lang": "en"}),
                                              ("/cut", {"objects": "person"}),
                                              ("/stamps/embed", {})])
def test_malformed_exif_is_read_upright(server, endpoint, fields):
    """A photo with Orientation 6 and a DateTime declared RATIONAL answered 500 before."""
    from PIL import Image

    photo = Image.open(shared("models/testdata/photo_car_person.jpg")).convert("RGB")
    # stored turned 90° anticlockwise; Orientation 6 says "turn 90° clockwise to view"
    data = exif_jpeg(BAD_EXIF, image=photo.transpose(Image.Transpose.ROTATE_90))
    status, _, body = _send(server, ("exif", endpoint, "multipart", fields,
                                     {"file": ("e.jpg", data)}))
    assert status == 200, body[:300]
    if endpoint == "/cut":  # read upright, so the person is found and the size is the photo's
        assert json.loads(body)["height"] == photo.height


def test_duplicate_upload_names_get_unique_zip_entries(server):
    import io
    import zipfile

    body, ctype = multipart({"mode": "annotated"},
                             [("file", ("a.png", PAGE)), ("file", ("a.png", PAGE))])
    req = urllib.request.Request(server + "/extract", data=body, headers={"Content-Type": ctype})
    with urllib.request.urlopen(req, timeout=120) as r:
        names = zipfile.ZipFile(io.BytesIO(r.read())).namelist()
    assert sorted(names) == ["a_2_p1.png", "a_p1.png"]


def test_request_without_a_path_or_host_does_not_name_the_machine(server):
    import socket

    answer = raw_http(int(server.rsplit(":", 1)[1]), b"GET  HTTP/1.0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.0 200"), answer[:200]
    assert socket.gethostname().encode() not in answer.split(b"\r\n\r\n")[0]


def test_page_and_static_files_carry_security_headers(server):
    for path in ("/", "/static/prism.js", "/health"):
        with urllib.request.urlopen(server + path, timeout=30) as r:
            assert r.headers["X-Content-Type-Options"] == "nosniff"
            assert "default-src 'self'" in r.headers["Content-Security-Policy"]
            assert r.headers["X-Frame-Options"] == "DENY"


def _blank_pdf(pages: int, width_pt: float, height_pt: float) -> bytes:
    doc = pymupdf.open()
    for _ in range(pages):
        doc.new_page(width=width_pt, height=height_pt)
    return doc.tobytes()


@pytest.mark.parametrize("files, size, limit", [
    (3, (200, 200), "40 pages"),   # 60 pages in three files
    (3, (595, 842), "250 MP"),     # 60 A4 pages at 300 dpi: grew a worker by 1.8 GB before
])
def test_request_budget_is_checked_before_rendering(server, files, size, limit):
    pid = _get(server + "/health")["pid"]
    before = _rss_mb(pid)
    pdf, fields = _blank_pdf(20, *size), {"dpi": "300"}
    body, ctype = multipart(fields, [("file", (f"d{i}.pdf", pdf)) for i in range(files)])
    req = urllib.request.Request(server + "/extract", data=body, headers={"Content-Type": ctype})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=120)
    problem = json.loads(err.value.read())
    assert err.value.code == 413 and limit in problem["detail"], problem
    assert _get(server + "/health")["pid"] == pid and _rss_mb(pid) - before < 300
