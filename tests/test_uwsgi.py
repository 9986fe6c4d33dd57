"""Integration: the real uwsgi.ini under uWSGI on a free loopback port, real HTTP requests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import psutil
import pytest

from api.metrics import cer
from api.serve import running
from api.settings import REPO_ROOT
from api.worker import HUGE_PAGES_TUNABLE, trim_due, worker_environ

from .conftest import TRUTH, shared
from .helpers import multipart


def _post(url: str, fields: dict, files: dict):
    body, ctype = multipart(fields, files)
    req = urllib.request.Request(url, data=body, headers={"Content-Type": ctype})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.headers.get("Content-Type"), json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), json.loads(e.read())


@pytest.fixture(scope="module")
def server():
    with running({"PRISM_PROCESSES": "2", "PRISM_THREADS": "1",
                  "PRISM_MAX_UPLOAD_BYTES": "2000000"}) as base:
        yield base


def test_health_under_uwsgi(server):
    with urllib.request.urlopen(server + "/health", timeout=5) as r:
        assert json.loads(r.read())["status"] == "ok"


def test_ocr_real_page_under_uwsgi(server):
    rel = "data/eval/ocr/tesseract_phototest.png"
    status, _, body = _post(server + "/ocr", {"lang": "auto"},
                            {"file": ("phototest.png", shared(rel).read_bytes())})
    assert status == 200
    assert cer(body["pages"][0]["text"], TRUTH[rel]["text"]) <= 0.03


def test_korean_under_uwsgi(server):
    rel = "models/testdata/ocr_korean_line.jpg"
    status, _, body = _post(server + "/ocr", {}, {"file": ("k.jpg", shared(rel).read_bytes())})
    assert status == 200
    assert cer(body["pages"][0]["text"], TRUTH[rel]["text"]) <= 0.10


def test_oversize_upload_is_413_problem(server):
    data = shared("data/eval/ocr/easyocr_english.png").read_bytes()  # 1.7 MB
    big = data + data  # 3.4 MB > 2 MB limit
    status, ctype, body = _post(server + "/ocr", {}, {"file": ("big.png", big)})
    assert status == 413 and ctype.startswith("application/problem+json")
    assert body["status"] == 413


def test_any_oversize_upload_is_413_problem_not_a_reset(server):
    """uWSGI alone, no Nginx: a body 40 × the limit (80 MB, far past what uWSGI's old
    limit-post backstop allowed) is read past and answered 413 problem+json, and the worker
    serves the next request."""
    import http.client
    from urllib.parse import urlsplit

    url = urlsplit(server)
    size, piece = 80_000_000, b"\0" * (1 << 20)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    conn.putrequest("POST", "/ocr")
    conn.putheader("Content-Type", "multipart/form-data; boundary=x")
    conn.putheader("Content-Length", str(size))
    conn.endheaders()
    sent = 0
    while sent < size:
        chunk = piece[:size - sent]
        conn.send(chunk)
        sent += len(chunk)
    r = conn.getresponse()
    assert r.status == 413 and r.getheader("Content-Type") == "application/problem+json"
    assert json.loads(r.read())["status"] == 413
    conn.close()
    with urllib.request.urlopen(server + "/health", timeout=5) as r:
        assert r.status == 200


def test_bad_input_then_good_input_same_server(server):
    status, _, _ = _post(server + "/ocr", {}, {"file": ("x.png", b"\x89PNG\r\n\x1a\nbroken")})
    assert status == 422
    rel = "data/eval/ocr/rapidocr_en_rec.jpg"
    status, _, body = _post(server + "/ocr", {"lang": "en"}, {"file": ("l.jpg", shared(rel).read_bytes())})
    assert status == 200 and cer(body["pages"][0]["text"], TRUTH[rel]["text"]) <= 0.03


def test_worker_over_rss_limit_is_recycled_and_service_continues(tmp_path):
    """PRISM_RELOAD_ON_RSS_MB: a worker that grows past the limit (here 100 MB, passed as soon
    as OCR models load) is replaced after its request; the next request gets a new worker."""
    log = tmp_path / "uwsgi.log"
    with running({"PRISM_PROCESSES": "1", "PRISM_RELOAD_ON_RSS_MB": "100"},
                 log_path=str(log)) as base:
        def pid():
            with urllib.request.urlopen(base + "/health", timeout=10) as r:
                return json.loads(r.read())["pid"]

        first = pid()
        rel = "data/eval/ocr/rapidocr_en_rec.jpg"
        status, _, body = _post(base + "/ocr", {"lang": "en"}, {"file": ("l.jpg", shared(rel).read_bytes())})
        assert status == 200 and body["pages"][0]["lines"]
        for _ in range(100):  # the master notices within a few seconds and respawns it
            try:
                if pid() != first:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        assert pid() != first
    assert "Respawned uWSGI worker 1" in log.read_text()


def test_freed_image_buffers_go_back_to_the_os():
    """api.worker.tune_malloc + release_memory (what each uWSGI worker runs): after decoding
    and dropping forty 12 MP pages the process's RSS returns to within 60 MB of where it was."""
    code = """
import io, sys
import numpy as np, psutil
from PIL import Image
from api.inputs import decode_image
from api.settings import Settings
from api.worker import release_memory, tune_malloc
assert tune_malloc()
settings = Settings.from_env({})
buf = io.BytesIO()
noise = np.random.default_rng(0).integers(0, 255, (3000, 4000, 3), np.uint8)
Image.fromarray(noise).save(buf, "PNG", compress_level=1)
data = buf.getvalue()
decode_image(data, settings)
release_memory()
base = psutil.Process().memory_info().rss
pages = [decode_image(data, settings) for _ in range(40)]
peak = psutil.Process().memory_info().rss
del pages
assert release_memory()
after = psutil.Process().memory_info().rss
print((peak - base) >> 20, (after - base) >> 20)
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    grown, left = map(int, out.stdout.split())
    assert grown > 1000 and left < 60, (grown, left)


def test_mid_sized_buffers_are_reused_not_remapped():
    """Under tune_malloc, buffers below 16 MiB (a torch forward pass makes thousands; a
    text-check crop's float tensor is a few MiB) come from the heap and are reused: 200
    rounds of allocating, filling and freeing a 4 MiB array fault a handful of times, not
    once per 4 KiB page per round (102,800 faults measured under the earlier 1 MiB threshold)."""
    code = """
import resource
import numpy as np
from api.worker import tune_malloc
assert tune_malloc()
np.ones(4 * 1024 * 1024, np.uint8)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(200):
    np.ones(4 * 1024 * 1024, np.uint8)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert int(out.stdout) < 1000, out.stdout


def test_trim_due_waits_for_the_slack():
    assert trim_due(100, None, 50)  # never trimmed yet
    assert not trim_due(150, 100, 50)
    assert trim_due(151, 100, 50)
    assert trim_due(101, 100, 0)  # no slack: trim after every request


def test_release_memory_keeps_freed_heap_within_the_slack():
    """release_memory(slack) leaves freed heap pages resident (for the next request to reuse)
    while the process is less than ``slack`` past its RSS after the last trim, and returns
    them once it is further: 48 MiB of freed 8 MiB buffers stay under a 64 MiB slack and go
    under a 16 MiB one."""
    code = """
import numpy as np
from api.worker import release_memory, resident_bytes, tune_malloc
assert tune_malloc()
MiB = 1024 * 1024
assert release_memory(64 * MiB)  # the first call trims and sets the floor
base = resident_bytes()
buffers = [np.ones(8 * MiB, np.uint8) for _ in range(6)]
del buffers
release_memory(64 * MiB)
kept = resident_bytes()
release_memory(16 * MiB)
print((kept - base) // MiB, (resident_bytes() - base) // MiB)
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    kept, after = map(int, out.stdout.split())
    assert kept >= 40 and after < 8, (kept, after)


def test_workers_start_with_the_huge_pages_tunable(server):
    """PRISM_HUGE_PAGES (default on): api.serve starts uWSGI with glibc.malloc.hugetlb=1, and
    every worker inherits it (a tunable set from Python inside a worker would be too late)."""
    with urllib.request.urlopen(server + "/health", timeout=5) as r:
        master = psutil.Process(json.loads(r.read())["pid"]).parent()
    workers = [master, *master.children()]
    assert len(workers) >= 3  # the master and two workers
    for proc in workers:
        assert HUGE_PAGES_TUNABLE in proc.environ().get("GLIBC_TUNABLES", "")


def test_worker_environ_adds_the_tunable_once():
    assert worker_environ({"A": "1"}, True) == {"A": "1", "GLIBC_TUNABLES": HUGE_PAGES_TUNABLE}
    kept = {"GLIBC_TUNABLES": "glibc.malloc.hugetlb=0"}
    assert worker_environ(kept, True) == kept
    both = worker_environ({"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"}, True)
    assert both["GLIBC_TUNABLES"] == "glibc.malloc.arena_max=2:" + HUGE_PAGES_TUNABLE
    assert "GLIBC_TUNABLES" not in worker_environ({"A": "1"}, False)


def _thp_mode() -> str:
    try:
        text = open("/sys/kernel/mm/transparent_hugepage/enabled").read()
    except OSError:
        return "absent"
    return text[text.index("[") + 1:text.index("]")]


@pytest.mark.skipif(_thp_mode() in ("never", "absent"), reason="kernel without usable THP")
def test_huge_pages_cut_the_page_faults_of_a_decoded_page():
    """Under a worker's malloc tuning, decoding a real 300 dpi A4 scan (2480×3508, 26 MB of
    pixels) into a fresh mapping faults once per 4 KiB page; with glibc.malloc.hugetlb=1 the
    mapping is backed by 2 MB pages and the faults drop several-fold."""
    code = """
import resource, sys
from pathlib import Path
from api.inputs import decode_image
from api.settings import Settings
from api.worker import tune_malloc
assert tune_malloc()
settings, data = Settings.from_env({}), Path(sys.argv[1]).read_bytes()
faults = []
for _ in range(5):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    image = decode_image(data, settings)
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    del image
print(sorted(faults)[2])
"""
    scan = str(shared("data/eval/stamps/mullevik_stamps_faktura-237279.jpg"))
    counts = {}
    for huge in (False, True):
        env = worker_environ({k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"},
                             huge)
        out = subprocess.run([sys.executable, "-c", code, scan], cwd=REPO_ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr[-2000:]
        counts[huge] = int(out.stdout)
    assert counts[False] > 2480 * 3508 * 3 // 4096  # at least one fault per 4 KiB page
    assert counts[True] * 3 < counts[False], counts


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-v"]))
