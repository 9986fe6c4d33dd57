"""Real Nginx (Debian package, workers as www-data) in front of real uWSGI on a unix socket."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest

from api.nginx import render, start_nginx
from api.serve import free_port, running
from api.settings import REPO_ROOT, Settings

from .conftest import SHARED, TRUTH
from api.metrics import cer

LIMIT = 2_000_000


@pytest.fixture(scope="module")
def proxy():
    assert shutil.which("nginx"), "nginx is installed by `make test` (Debian package)"
    root = tempfile.mkdtemp(prefix="prism-nginx-")
    os.chmod(root, 0o755)  # www-data workers must reach the socket
    try:
        yield from _serve(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _serve(root: str):
    sock = os.path.join(root, "uwsgi.sock")
    env = {"PRISM_SOCKET": sock, "PRISM_MAX_UPLOAD_BYTES": str(LIMIT)}
    with running(env, log_path=os.path.join(root, "uwsgi.log")):
        port = free_port()
        proc = start_nginx(root, render(Settings.from_env(env), f"127.0.0.1:{port}", sock), port)
        try:
            yield port, root
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def request(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body, headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def multipart(fields: dict, filename: str, data: bytes):
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                 f'filename="{filename}"\r\n\r\n'.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def test_health_ui_and_security_headers(proxy):
    port, _ = proxy
    status, headers, body = request(port, "GET", "/health")
    assert status == 200 and json.loads(body)["status"] == "ok"
    assert headers["server"].startswith("nginx")
    assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
    status, _, body = request(port, "GET", "/ui/")
    assert status == 200 and b"swagger" in body.lower()


def test_static_files_served_by_nginx(proxy):
    port, root = proxy
    status, headers, body = request(port, "GET", "/static/index.html")
    assert status == 200 and b"Prism" in body and "expires" in headers
    with open(os.path.join(root, "uwsgi.log"), "rb") as fh:
        assert b"GET /static/index.html" not in fh.read()  # uWSGI never saw it
    assert request(port, "GET", "/static/../api/app.py")[0] in (400, 403, 404)


def test_endpoints_through_nginx(proxy):
    port, _ = proxy
    rel = "data/eval/ocr/tesseract_phototest.png"
    body, headers = multipart({"lang": "en"}, "p.png", (SHARED / rel).read_bytes())
    status, rh, raw = request(port, "POST", "/ocr", body, headers)
    assert status == 200 and cer(json.loads(raw)["pages"][0]["text"], TRUTH[rel]["text"]) <= 0.03
    page = (SHARED / "data/seeds/imgextract/test/samples/1.png").read_bytes()
    body, headers = multipart({}, "1.png", page)
    status, _, raw = request(port, "POST", "/extract", body, headers)
    assert status == 200 and len(json.loads(raw)["files"][0]["pages"][0]["items"]) == 2
    photo = (SHARED / "models/testdata/photo_elephant.jpg").read_bytes()
    body, headers = multipart({"objects": "elephant", "format": "png"}, "e.jpg", photo)
    status, rh, raw = request(port, "POST", "/cut", body, headers)
    assert status == 200 and rh["content-type"] == "image/png" and raw[:4] == b"\x89PNG"
    body, headers = multipart({}, "e.jpg", photo)
    status, rh, _ = request(port, "POST", "/generate-text", body, headers)
    assert status == 503 and rh["content-type"].startswith("application/problem+json")
    status, rh, _ = request(port, "GET", "/models", headers={"Accept-Encoding": "gzip"})
    assert status == 200 and rh.get("content-encoding") == "gzip"


def test_oversize_upload_is_problem_413_from_nginx(proxy):
    port, _ = proxy
    body, headers = multipart({}, "big.png", b"\x89PNG" + b"\0" * (LIMIT + 10))
    status, rh, raw = request(port, "POST", "/ocr", body, headers)
    assert status == 413 and rh["content-type"].startswith("application/problem+json")
    assert json.loads(raw)["status"] == 413


def test_scale_out_kill_one_instance_under_load(tmp_path_factory):
    """Two uWSGI instances behind one upstream; one is killed (SIGKILL) mid-load and no
    request is lost: Nginx retries on the other (safe, the endpoints are pure functions)."""
    import concurrent.futures
    import signal

    root = tempfile.mkdtemp(prefix="prism-scale-")
    os.chmod(root, 0o755)
    line = (SHARED / "data/eval/ocr/rapidocr_en_rec.jpg").read_bytes()
    try:
        socks = [os.path.join(root, f"u{i}.sock") for i in (1, 2)]
        with running({"PRISM_SOCKET": socks[0], "PRISM_PROCESSES": "1"},
                     log_path=os.path.join(root, "u1.log")) as first, \
                running({"PRISM_SOCKET": socks[1], "PRISM_PROCESSES": "1"},
                        log_path=os.path.join(root, "u2.log")):
            port = free_port()
            proc = start_nginx(root, render(Settings.from_env({}), f"127.0.0.1:{port}", socks),
                                port)
            try:
                body, headers = multipart({"lang": "en"}, "l.jpg", line)
                statuses = []

                def one(_):
                    return request(port, "POST", "/ocr", body, headers)[0]

                with concurrent.futures.ThreadPoolExecutor(4) as pool:
                    futures = [pool.submit(one, i) for i in range(40)]
                    time.sleep(2.0)
                    # kill the first instance's master and workers outright
                    pids = subprocess.run(["pgrep", "-f", f"prism_http={first[len('http://'):]}"],
                                          capture_output=True, text=True).stdout.split()
                    assert pids
                    for pid in pids:
                        os.kill(int(pid), signal.SIGKILL)
                    statuses = [f.result() for f in futures]
                assert statuses == [200] * 40
            finally:
                proc.terminate()
                proc.wait(timeout=10)
    finally:
        shutil.rmtree(root, ignore_errors=True)
