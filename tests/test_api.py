"""HTTP behaviour through the Connexion app: service routes, errors as problem+json."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pymupdf
import pytest
from PIL import Image

from .conftest import TESTDATA, png_bytes, shared
from .helpers import assert_problem, huge_png_header

PAGE = shared("data/eval/ocr/tesseract_phototest.png")


def test_health_loads_nothing(client, registry):
    before = {n: registry.status(n)["status"] for n in registry.names()}
    r = client.get("/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    assert {n: registry.status(n)["status"] for n in registry.names()} == before


def test_ready_and_models(client):
    r = client.get("/ready")
    assert r.status_code == 200
    assert r.json() == {"ready": True, "missing": [], "optional_missing": ["caption-kosmos2"]}
    models = {m["name"]: m for m in client.get("/models").json()["models"]}
    assert set(models) >= {"ocr-ppocrv6", "ocr-tesseract-kor", "layout-cdla",
                           "detect-yolox-nano", "matte-isnet", "stamp-det", "seal-text",
                           "stamp-embed", "caption-kosmos2"}
    ocr = models["ocr-ppocrv6"]
    assert ocr["licence"] == "Apache-2.0" and len(ocr["files"]) == 5
    assert all(len(f["sha256"]) == 64 for f in ocr["files"])


def test_ready_is_503_when_files_missing(make_client, tmp_path):
    c = make_client(fresh_registry=True, models_dir=str(tmp_path))
    r = c.get("/ready")
    assert r.status_code == 503 and "ocr-ppocrv6" in r.json()["missing"]


def test_swagger_ui_and_spec_are_served(client):
    ui = client.get("/ui/")
    assert ui.status_code == 200 and "swagger" in ui.text.lower()
    asset = client.get("/ui/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.content) > 100_000  # served locally
    spec = client.get("/openapi.json").json()
    assert set(spec["paths"]) >= {"/ocr", "/cut", "/extract", "/stamps", "/generate-text"}


def test_frontend_index(client):
    r = client.get("/")
    assert r.status_code == 200 and "Prism" in r.text


def test_unknown_route_is_problem_404(client):
    assert_problem(client.get("/nope"), 404)


# --- bad inputs → their 4xx ------------------------------------------------------------------

def test_no_file(client):
    assert_problem(client.post("/ocr", json={}), 400)
    assert_problem(client.post("/ocr", files={"lang": (None, "en")}), 400)
    # a form that is not multipart is the wrong media type
    assert_problem(client.post("/ocr", data={"lang": "en"}), 415)


def test_wrong_field_name(client):
    assert_problem(client.post("/ocr", files={"image": ("a.png", PAGE.read_bytes())}), 400)
    assert_problem(client.post("/ocr", json={"image": "x"}), 400)


def test_empty_file(client):
    body = assert_problem(client.post("/ocr", files={"file": ("a.png", b"")}), 400)
    assert "empty" in body["detail"]


def test_text_named_png(client):
    assert_problem(client.post("/ocr", files={"file": ("a.png", b"just some text")}), 415)


@pytest.mark.parametrize("source", [PAGE, TESTDATA / "photo_elephant.jpg"])
def test_truncated_images(client, source):
    data = source.read_bytes()
    assert_problem(client.post("/ocr", files={"file": ("t", data[: len(data) // 2])}), 422)


def test_one_by_one_image(client):
    data = png_bytes(Image.new("RGB", (1, 1), "white"))
    assert_problem(client.post("/ocr", files={"file": ("p.png", data)}), 422)


def test_pixel_bomb(client):
    body = assert_problem(client.post("/ocr", files={"file": ("b.png", huge_png_header(30000, 30000))}), 413)
    assert "MP" in body["detail"]


def test_cmyk_and_16bit_are_read(client):
    import io

    import numpy as np

    page = Image.open(PAGE).convert("RGB")
    buf = io.BytesIO()
    page.convert("CMYK").save(buf, "JPEG", quality=95)
    r = client.post("/ocr", files={"file": ("c.jpg", buf.getvalue())}, data={"lang": "en"})
    assert r.status_code == 200 and "quick brown dog" in r.json()["pages"][0]["text"]
    wide = (np.asarray(page.convert("L"), np.uint16) * 257).astype("<u2")
    r = client.post("/ocr", files={"file": ("w.png", png_bytes(Image.fromarray(wide)))},
                    data={"lang": "en"})
    assert r.status_code == 200 and "quick brown dog" in r.json()["pages"][0]["text"]


def test_bad_pdfs(client):
    assert_problem(client.post("/ocr", files={"file": ("c.pdf", b"%PDF-1.5\nbroken")}), 422)
    doc = pymupdf.open()
    doc.new_page()
    enc = doc.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="a", owner_pw="b")
    assert_problem(client.post("/ocr", files={"file": ("e.pdf", enc)}), 422)
    many = pymupdf.open()
    for _ in range(500):
        many.new_page(width=72, height=72)
    assert_problem(client.post("/ocr", files={"file": ("m.pdf", many.tobytes())}), 413)


def test_invalid_base64(client):
    assert_problem(client.post("/ocr", json={"image_base64": "!!!not base64!!!"}), 400)


def test_two_sources_at_once(client):
    body = {"image_base64": base64.b64encode(PAGE.read_bytes()).decode(),
            "image_url": "https://example.org/a.png"}
    assert_problem(client.post("/ocr", json=body), 400)


@pytest.mark.parametrize("field,value", [
    ("lang", "fr"), ("model", "huge"), ("min_score", 2), ("min_score", -0.1), ("dpi", 5000),
    ("pages", "1--2"),
])
def test_bad_options(client, field, value):
    body = {"image_base64": base64.b64encode(PAGE.read_bytes()).decode(), field: value}
    assert_problem(client.post("/ocr", json=body), 400)


def test_upload_over_limit(make_client):
    data = shared("data/eval/ocr/tesseract_unlv_8087_054.3B.png").read_bytes()
    # refused from Content-Length before the body is read
    assert_problem(make_client(max_upload_bytes=20_000).post(
        "/ocr", files={"file": ("big.png", data)}), 413)
    # within the multipart allowance but over the file limit: refused by the input check
    assert_problem(make_client(max_upload_bytes=len(data) - 1000).post(
        "/ocr", files={"file": ("big.png", data)}), 413)


def _run_body_limit(pieces: list[bytes], max_bytes: int, headers=()) -> tuple[list, list]:
    """Send ``pieces`` as one request's body through :class:`BodyLimitMiddleware` around an
    app that records the messages it receives; ``(messages the app saw, messages sent)``."""
    import asyncio

    from api.middleware import BodyLimitMiddleware

    seen, sent = [], []
    incoming = [{"type": "http.request", "body": p, "more_body": i < len(pieces) - 1}
                for i, p in enumerate(pieces)]

    async def app(scope, receive, send):
        while True:
            message = await receive()
            seen.append(message)
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def receive():
        return incoming.pop(0)

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/ocr", "headers": list(headers)}
    asyncio.run(BodyLimitMiddleware(app, max_bytes, max_json_depth=16)(scope, receive, send))
    return seen, sent


def test_body_reaches_the_app_in_one_piece():
    pieces = [bytes([i]) * 65536 for i in range(5)] + [b"tail"]
    seen, sent = _run_body_limit(pieces, max_bytes=1_000_000)
    assert len(seen) == 1 and seen[0]["body"] == b"".join(pieces)
    assert seen[0]["more_body"] is False and sent[0]["status"] == 200


def test_streamed_body_over_limit_is_413_before_the_app_runs():
    limit = 200_000 + 64 * 1024  # BodyLimitMiddleware allows 64 KiB of multipart overhead
    pieces = [b"x" * 65536] * (limit // 65536 + 2)  # no Content-Length: counted as it arrives
    seen, sent = _run_body_limit(pieces, max_bytes=200_000)
    assert seen == [] and sent[0]["status"] == 413
    assert b"application/problem+json" in dict(sent[0]["headers"])[b"content-type"]


def test_image_url_refused_targets(client):
    for url in ("http://127.0.0.1/a.png", "http://169.254.169.254/latest/meta-data",
                "file:///etc/passwd", "ftp://example.org/a.png", "http://[::1]/a.png",
                "http://0x7f000001/a.png", "http://127.1/a.png"):
        assert_problem(client.post("/ocr", json={"image_url": url}), 400)


def test_worker_survives_bad_input(client):
    """After a run of bad inputs the same app still answers a real request correctly."""
    for data in (b"", b"junk", b"%PDF-1.4 junk", huge_png_header(40000, 40000)):
        assert client.post("/ocr", files={"file": ("x", data)}).status_code in (400, 413, 415, 422)
    r = client.post("/ocr", files={"file": ("p.png", PAGE.read_bytes())}, data={"lang": "en"})
    assert r.status_code == 200 and "lazy fox" in r.json()["pages"][0]["text"]


def test_request_past_deadline_is_504(make_client):
    """A 3300-px page takes far longer than 0.2 s to OCR: the deadline answers 504."""
    c = make_client(request_timeout_s=0.2)
    data = shared("data/eval/ocr/tesseract_unlv_8087_054.3B.png").read_bytes()
    body = assert_problem(c.post("/ocr", files={"file": ("big.png", data)}), 504)
    assert "0.2 s" in body["detail"]


@pytest.mark.parametrize("path", ["/ocr", "/extract", "/cut", "/generate-text"])
def test_invalid_utf8_and_broken_json_are_400(client, path):
    """Found by schemathesis: an undecodable JSON body was a 500."""
    for raw in (b"\xff\xfe\xfd", b"\t\x9f", b'{"image_base64": "abc"', b"[1, 2"):
        r = client.post(path, content=raw, headers={"Content-Type": "application/json"})
        assert_problem(r, 400)


def test_broken_multipart_is_400(client):
    """Found by schemathesis: a multipart body with a part lacking headers was a 500."""
    boundary = "9cc651cd2c8d168349f50fede4c361ac"
    raw = f"--{boundary}\r\nFalse--{boundary}--\r\n".encode()
    r = client.post("/ocr", content=raw,
                    headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert_problem(r, 400)


def test_api_keys(make_client):
    c = make_client(api_keys="k1,k2")
    page = PAGE.read_bytes()
    body = assert_problem(c.post("/ocr", files={"file": ("p.png", page)}), 401)
    assert "X-API-Key" in body["detail"]
    assert_problem(c.post("/ocr", files={"file": ("p.png", page)}, headers={"X-API-Key": "nope"}), 401)
    assert c.post("/ocr", files={"file": ("p.png", page)}, data={"lang": "en"},
                  headers={"X-API-Key": "k2"}).status_code == 200
    assert_problem(c.get("/models"), 401)
    for open_path in ("/health", "/ready", "/", "/ui/", "/openapi.json", "/static/prism.js"):
        assert c.get(open_path).status_code == 200, open_path


def test_cors_off_by_default_and_configurable(client, make_client):
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    assert "access-control-allow-origin" not in client.options("/ocr", headers=preflight).headers
    c = make_client(cors_origins="https://app.example")
    r = c.options("/ocr", headers=preflight)
    assert r.headers["access-control-allow-origin"] == "https://app.example"
    r = c.options("/ocr", headers={**preflight, "Origin": "https://evil.example"})
    assert r.headers.get("access-control-allow-origin") != "https://evil.example"


def test_request_ids_timing_header_and_json_log(client, caplog):
    import json as _json
    import logging

    from api.logs import JsonFormatter

    data = shared("data/eval/ocr/rapidocr_en_rec.jpg").read_bytes()
    with caplog.at_level(logging.INFO, logger="prism.request"):
        r = client.post("/ocr", files={"file": ("l.jpg", data)}, headers={"X-Request-ID": "req-42"})
    assert r.headers["x-request-id"] == "req-42"
    assert "detect;dur=" in r.headers["server-timing"]
    record = next(rec for rec in caplog.records if rec.name == "prism.request")
    line = _json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-42" and line["status"] == 200 and line["path"] == "/ocr"
    assert line["stages_ms"]["detect"] > 0
    assert "\\x89PNG" not in caplog.text and len(caplog.text) < 5000  # never the image bytes
    fresh = client.get("/health").headers["x-request-id"]
    assert len(fresh) == 32 and int(fresh, 16) >= 0
    bad = client.get("/health", headers={"X-Request-ID": "<script>"}).headers["x-request-id"]
    assert bad != "<script>"


def test_corrupt_model_is_503_for_its_endpoints_only(make_client, settings, tmp_path):
    """A damaged stamp-detector file: /stamps answers 503 naming the model and the install
    command, while /ocr on the same app keeps working."""
    models = Path(settings.models_dir)
    for path in models.rglob("*"):
        if path.is_file():
            target = tmp_path / path.relative_to(models)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(path)
    damaged = tmp_path / "stamps/stamp_det.onnx"
    damaged.unlink()
    damaged.write_bytes(b"\0" * (models / "stamps/stamp_det.onnx").stat().st_size)
    client = make_client(fresh_registry=True, models_dir=str(tmp_path))
    body = assert_problem(client.post("/stamps", files={"file": ("p.png", PAGE.read_bytes())}), 503)
    assert "stamp-det" in body["detail"] and "make models" in body["detail"]
    ok = client.post("/ocr", files={"file": ("p.png", PAGE.read_bytes())})
    assert ok.status_code == 200 and ok.json()["pages"][0]["lines"]


def test_json_depth_counts_nesting_outside_strings():
    from api.middleware import json_depth

    assert json_depth(b"1") == 0 and json_depth(b"[[1]]") == 2
    assert json_depth(b'{"a": "[[[[{{", "b": [1, {"c": "\\\\\\"]"}]}') == 3
    assert json_depth(b"[" * 1000 + b"]" * 1000) == 1000


def test_log_lines_and_problem_details_are_clipped():
    import logging

    from api.logs import JsonFormatter
    from api.middleware import clip

    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "bad value %s",
                               ("x" * 5_000_000,), None)
    line = JsonFormatter().format(record)
    assert len(line) < 1300 and "(5000010 characters)" in line
    assert clip("short") == "short" and len(clip("y" * 10_000)) < 400


@pytest.mark.parametrize("model", ["fast", "accurate"])
def test_ocr_model_choice_over_http(client, model):
    r = client.post("/ocr", files={"file": ("p.png", PAGE.read_bytes())},
                    data={"lang": "en", "model": model})
    assert r.status_code == 200
    assert "quick brown dog" in r.json()["pages"][0]["text"]


def test_preview_renders_a_pdf_page_and_bounds_it(client):
    """POST /preview: page 2 of a PDF as PNG at the jobs' default dpi (its full size in the
    headers, the PNG scaled to max_side), an image as the jobs see it, and 4xx for bad asks."""
    doc = pymupdf.open()
    for width in (300, 600):
        doc.new_page(width=width, height=400)
    pdf = doc.tobytes()
    r = client.post("/preview", files={"file": ("d.pdf", pdf)}, data={"page": "2", "max_side": "256"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    width, height = int(r.headers["x-page-width"]), int(r.headers["x-page-height"])
    assert r.headers["x-page-count"] == "2"
    # the default 200 dpi (MuPDF rounds the pixmap outward)
    assert abs(width - 600 * 200 / 72) <= 1 and abs(height - 400 * 200 / 72) <= 1
    shown = Image.open(io.BytesIO(r.content))
    assert max(shown.size) == 256 and abs(shown.width / shown.height - 1.5) < 0.01
    r = client.post("/preview", files={"file": ("p.png", PAGE.read_bytes())})
    assert r.status_code == 200 and Image.open(io.BytesIO(r.content)).size == (640, 480)
    assert r.headers["x-page-count"] == "1"
    assert_problem(client.post("/preview", files={"file": ("d.pdf", pdf)}, data={"page": "3"}), 400)
    assert_problem(client.post("/preview", files={"file": ("p.png", PAGE.read_bytes())},
                               data={"page": "2"}), 400)
    assert_problem(client.post("/preview", files={"file": ("d.pdf", pdf)}, data={"max_side": "9"}), 400)
    assert_problem(client.post("/preview", files={"file": ("x.bin", b"junk data")}), 415)
