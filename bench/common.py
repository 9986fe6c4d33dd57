"""Pieces the benchmark (``bench/bench.py``) and the load test (``bench/load.py``) share:
one representative request per endpoint, a models folder that has every model, HTTP posting
and per-worker RSS.
"""

from __future__ import annotations

import http.client
import json
import shutil
import sys
import threading
import time
from pathlib import Path

import psutil
from urllib3 import encode_multipart_formdata

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from api.engines.kosmos import FOLDER as KOSMOS_FOLDER  # noqa: E402
from api.engines.kosmos import REQUIRED as KOSMOS_REQUIRED
from api.jobs import JOBS  # noqa: E402
from api.settings import Settings  # noqa: E402

SHARED = REPO_ROOT.parent / "shared"

#: One representative request per job that takes one input (api.jobs.JOBS; a test keeps
#: the two in step): form fields, input under ../shared.
SAMPLES = {
    "ocr": ({"lang": "en"}, "data/eval/ocr/tesseract_phototest.png"),
    "extract": ({}, "data/seeds/imgextract/test/samples/2.png"),
    "cut": ({"objects": "elephant"}, "models/testdata/photo_elephant.jpg"),
    "stamps": ({}, "data/eval/stamps/mullevik_stamps_faktura-237279.jpg"),
    "stamps-embed": ({}, "data/seeds/stamp2vec/tests/test_data/test_cropped_stamp.png"),
    "generate-text": ({"max_new_tokens": 24}, "models/testdata/photo_elephant.jpg"),
}
#: ``(route, form fields, input)`` per sample, in job order.
ENDPOINTS = [(JOBS[name].route, *SAMPLES[name]) for name in JOBS if name in SAMPLES]


def describe(rel: str) -> str:
    """``name W×H`` of an input image under ../shared."""
    from PIL import Image

    with Image.open(SHARED / rel) as im:
        return f"{Path(rel).name} {im.width}×{im.height}"


def multipart(fields: dict, filename: str, data: bytes) -> tuple[bytes, dict]:
    """A multipart/form-data body with ``fields`` and one ``file``, and its headers."""
    body, ctype = encode_multipart_formdata({**{k: str(v) for k, v in fields.items()},
                                             "file": (filename, data)})
    return body, {"Content-Type": ctype}


def requests_for(endpoints=ENDPOINTS) -> list[tuple[str, bytes, dict]]:
    """``(path, body, headers)`` ready to post for each endpoint."""
    out = []
    for path, fields, rel in endpoints:
        out.append((path, *multipart(fields, Path(rel).name, (SHARED / rel).read_bytes())))
    return out


def post(port: int, path: str, body: bytes, headers: dict, timeout: float = 300,
         response_headers: dict | None = None) -> tuple[int, bytes]:
    """One POST to 127.0.0.1:``port`` on a new connection; ``(status, body)``, status 0 when
    the connection failed. The response's headers are copied into ``response_headers``, names
    lower-cased."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", path, body, headers)
        response = conn.getresponse()
        if response_headers is not None:
            response_headers.update((k.lower(), v) for k, v in response.getheaders())
        return response.status, response.read()
    except OSError:
        return 0, b""
    finally:
        conn.close()


def hammer(port: int, request, clients: int, seconds: float) -> tuple[list, float]:
    """``clients`` threads post ``request`` for ``seconds``; ``([(status, ms)], elapsed s)``."""
    path, body, headers = request
    results, lock = [], threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        while time.monotonic() < stop:
            start = time.perf_counter()
            status = post(port, path, body, headers)[0]
            with lock:
                results.append((status, (time.perf_counter() - start) * 1000))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, time.monotonic() - started


def get_json(port: int, path: str) -> dict:
    """GET ``path`` from 127.0.0.1:``port`` as JSON."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        return json.loads(conn.getresponse().read())
    finally:
        conn.close()


def workers_rss(hint: str) -> dict[int, float]:
    """RSS in MB of every uWSGI worker (not the master) whose command line has ``hint``
    (e.g. ``prism_http=127.0.0.1:PORT``), by pid."""
    out = {}
    for proc in psutil.process_iter(["pid", "cmdline", "ppid"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if "uwsgi" in cmd and hint in cmd:
            try:
                parent = psutil.Process(proc.info["ppid"])
                if "uwsgi" in " ".join(parent.cmdline()):
                    out[proc.info["pid"]] = proc.memory_info().rss / 2**20
            except psutil.Error:
                pass
    return out


def models_dir(root: Path) -> tuple[Path, str]:
    """A models folder with every model, and how Kosmos-2 was provided.

    The configured ``PRISM_MODELS_DIR`` when it already holds the real Kosmos-2 snapshot;
    otherwise ``root/models``: links to every installed model plus a tiny random Kosmos-2
    (:func:`api.kosmos_install.write_tiny_model`), so /generate-text runs its real code path
    (its timings then measure the service, not the 1.6 B-parameter model: see
    bench/kosmos.md for that).
    """
    from api.kosmos_install import install_from_folder, write_tiny_model

    configured = Path(Settings.from_env().models_dir)
    if all((configured / rel).is_file() for rel in KOSMOS_REQUIRED):
        return configured, "real Kosmos-2"
    folder = Path(root) / "models"
    folder.mkdir(parents=True, exist_ok=True)
    for entry in configured.iterdir():
        if entry.name != KOSMOS_FOLDER and not (folder / entry.name).exists():
            (folder / entry.name).symlink_to(entry.resolve())
    snapshot = write_tiny_model(Path(root) / "tiny-kosmos", SHARED / "models" / "generate-text")
    install_from_folder(snapshot, folder)
    shutil.rmtree(snapshot, ignore_errors=True)
    return folder, "tiny random Kosmos-2 (the real weights are not installed)"
