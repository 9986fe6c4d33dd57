"""Async jobs (``POST /jobs``) against a real ``redis-server``, real RQ workers
(``python -m api worker``) and real uWSGI instances, all on loopback / unix sockets."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pymupdf
import pytest
import requests

from api.serve import running
from api.settings import REPO_ROOT

from .conftest import SHARED

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="redis-server is not installed (make system)")

#: Three real scanned/printed pages, cycled to make long PDFs.
PAGES = ["data/eval/ocr/tesseract_phototest.png", "data/eval/ocr/rapidocr_en.jpg",
         "data/eval/ocr/easyocr_english.png"]
PDF_PAGES = 120
STAMP_CROP = "data/seeds/stamp2vec/tests/test_data/test_cropped_stamp.png"


class Redis:
    """A private ``redis-server`` on a unix socket with AOF on; :meth:`restart` stops it
    (SIGTERM, as a service manager does) and starts it again on the same data."""

    def __init__(self, root: Path):
        self.root = root
        self.socket = root / "redis.sock"
        self.url = f"unix://{self.socket}"
        self.proc = None
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", "0", "--unixsocket", str(self.socket),
             "--unixsocketperm", "700", "--dir", str(self.root), "--appendonly", "yes",
             "--appendfsync", "always", "--save", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not self.socket.exists():
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture(scope="module")
def redis_server():
    root = Path(tempfile.mkdtemp(prefix="prism-redis-"))
    server = Redis(root)
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


def job_env(redis_server, **extra) -> dict[str, str]:
    env = {"PRISM_REDIS_URL": redis_server.url, "PRISM_JOB_HEARTBEAT_S": "2",
           "PRISM_JOB_CHUNK_PAGES": "4", "PRISM_ALLOW_PRIVATE_URLS": "true",
           "PRISM_PROCESSES": "2", "PRISM_ORT_THREADS": "1"}
    env.update({k: str(v) for k, v in extra.items()})
    return env


class Workers:
    """``python -m api worker`` processes with ``env``; all killed at the end."""

    def __init__(self, env: dict[str, str]):
        self.env = {**os.environ, **env}
        self.procs: list[subprocess.Popen] = []

    def start(self, n: int = 1) -> list[subprocess.Popen]:
        new = [subprocess.Popen([sys.executable, "-m", "api", "worker"], cwd=REPO_ROOT,
                                env=self.env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL) for _ in range(n)]
        self.procs += new
        return new

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="module")
def api(redis_server):
    """One uWSGI instance on the test Redis (no workers of its own)."""
    with running(job_env(redis_server)) as base:
        yield base


@pytest.fixture
def workers(redis_server):
    pool = Workers(job_env(redis_server))
    yield pool
    pool.stop()


def pdf_of(n: int) -> bytes:
    """An ``n``-page PDF of the real pages of :data:`PAGES`, cycled."""
    doc, xrefs = pymupdf.open(), {}
    for i in range(n):
        path = SHARED / PAGES[i % len(PAGES)]
        pix = pymupdf.Pixmap(str(path))
        page = doc.new_page(width=pix.width * 72 / 100, height=pix.height * 72 / 100)
        if path in xrefs:  # each image stored once
            page.insert_image(page.rect, xref=xrefs[path])
        else:
            xrefs[path] = page.insert_image(page.rect, filename=str(path))
    return doc.tobytes()


def submit(base: str, job: str, files: dict, data: dict | None = None, **kw) -> dict:
    r = requests.post(f"{base}/jobs", files=files, data={"job": job, **(data or {})},
                      timeout=30, **kw)
    assert r.status_code == 202, r.text
    assert r.headers["Location"] == f"/jobs/{r.json()['id']}"
    return r.json()


def wait_done(base: str, job_id: str, limit_s: float = 300, **kw) -> dict:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        status = requests.get(f"{base}/jobs/{job_id}", params={"wait": 5}, timeout=30,
                              **kw).json()
        if status["status"] in ("finished", "failed", "canceled"):
            return status
    raise AssertionError(f"job {job_id} still {status['status']} after {limit_s} s")


def comparable(page: dict) -> dict:
    return {"page": page["page"], "text": page["text"],
            "boxes": [line["box"] for line in page["lines"]]}


def test_long_pdf_runs_in_chunks_on_two_workers_and_equals_sync_ocr(api, workers):
    """A 120-page PDF of real pages as one job, 30 chunks of 4 pages on 2 workers: progress
    only rises, to 120/120; every page equals what the synchronous /ocr answers for it; the
    result keeps page order. (72 dpi keeps it to about a second a page on 2 cores.)"""
    pdf = pdf_of(PDF_PAGES)
    status = submit(api, "ocr", {"file": ("scan.pdf", pdf, "application/pdf")},
                    {"lang": "en", "dpi": "72"})
    assert status["status"] == "queued" and status["progress"]["pages_total"] == PDF_PAGES
    assert status["position"] == 0
    workers.start(2)
    seen = []
    deadline = time.monotonic() + 1200
    while status["status"] not in ("finished", "failed") and time.monotonic() < deadline:
        time.sleep(0.3)
        status = requests.get(f"{api}/jobs/{status['id']}", timeout=30).json()
        seen.append(status["progress"]["pages_done"])
    assert status["status"] == "finished", status
    assert seen == sorted(seen) and seen[-1] == PDF_PAGES and len(set(seen)) > 2, seen
    assert status["started_at"] >= status["created_at"] and status["ended_at"]
    r = requests.get(f"{api}/jobs/{status['id']}/result", timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    pages = r.json()["pages"]
    assert [p["page"] for p in pages] == list(range(1, PDF_PAGES + 1))
    for k in range(len(PAGES)):  # the synchronous answer of each distinct page
        sync = requests.post(f"{api}/ocr", files={"file": ("scan.pdf", pdf)},
                             data={"pages": str(k + 1), "lang": "en", "dpi": "72"},
                             timeout=120).json()["pages"][0]
        assert sync["text"].strip()
        for page in pages[k::len(PAGES)]:
            assert comparable(page) == {**comparable(sync), "page": page["page"]}


def test_a_killed_workers_chunk_is_retried_and_the_job_finishes(api, workers):
    """SIGKILL the only worker while it runs a chunk: once its heartbeat lapses, the next
    worker's maintenance re-queues the chunk, and the job finishes with every page."""
    status = submit(api, "ocr", {"file": ("scan.pdf", pdf_of(6), "application/pdf")},
                    {"lang": "en", "dpi": "100", "pages": "1-6"})
    first = workers.start(1)[0]
    deadline = time.monotonic() + 120
    while status["status"] == "queued" and time.monotonic() < deadline:
        time.sleep(0.1)
        status = requests.get(f"{api}/jobs/{status['id']}", timeout=30).json()
    assert status["status"] == "started"
    first.send_signal(signal.SIGKILL)
    first.wait()
    workers.start(1)
    status = wait_done(api, status["id"])
    assert status["status"] == "finished", status
    body = requests.get(f"{api}/jobs/{status['id']}/result", timeout=30).json()
    assert [p["page"] for p in body["pages"]] == [1, 2, 3, 4, 5, 6]
    assert status["progress"] == {"pages_done": 6, "pages_total": 6}


def test_queued_jobs_survive_a_redis_restart(api, workers, redis_server):
    """Jobs queued with no worker running survive ``redis-server`` stopping and starting
    again (append-only file), then finish."""
    crop = (SHARED / STAMP_CROP).read_bytes()
    ids = [submit(api, "stamps-embed", {"file": ("s.png", crop)})["id"] for _ in range(3)]
    redis_server.restart()
    for job_id in ids:
        assert requests.get(f"{api}/jobs/{job_id}", timeout=30).json()["status"] == "queued"
    workers.start(1)
    for job_id in ids:
        assert wait_done(api, job_id)["status"] == "finished"
        body = requests.get(f"{api}/jobs/{job_id}/result", timeout=30).json()
        assert len(body["embedding"]) == body["dim"] > 0


def test_200_jobs_from_8_clients_all_finish_once(api, workers):
    """200 small jobs from 8 clients at once: 200 distinct ids, all finished, each result
    the embedding of its own input."""
    crop = (SHARED / STAMP_CROP).read_bytes()
    sync = requests.post(f"{api}/stamps/embed", files={"file": ("s.png", crop)},
                         timeout=60).json()["embedding"]
    workers.start(2)
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda _: submit(api, "stamps-embed",
                                             {"file": ("s.png", crop)})["id"], range(200)))
    assert len(set(ids)) == 200
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda i: wait_done(api, i), ids))
    assert {s["status"] for s in statuses} == {"finished"}
    body = requests.get(f"{api}/jobs/{ids[-1]}/result", timeout=30).json()
    assert max(abs(a - b) for a, b in zip(body["embedding"], sync)) < 1e-5


def test_cancel_unknown_and_prefer_respond_async(api, workers):
    """``Prefer: respond-async`` on /ocr queues the job; DELETE cancels it before a worker
    takes it (its result is then 409); unknown ids are 404 problem+json."""
    r = requests.post(f"{api}/ocr", headers={"Prefer": "respond-async"},
                      files={"file": ("p.png", (SHARED / PAGES[0]).read_bytes())},
                      data={"lang": "en"}, timeout=30)
    assert r.status_code == 202 and r.json()["job"] == "ocr", r.text
    job_id = r.json()["id"]
    status = requests.delete(f"{api}/jobs/{job_id}", timeout=30).json()
    assert status["status"] == "canceled" and status["ended_at"]
    workers.start(1)
    time.sleep(3)
    assert requests.get(f"{api}/jobs/{job_id}", timeout=30).json()["status"] == "canceled"
    r = requests.get(f"{api}/jobs/{job_id}/result", timeout=30)
    assert r.status_code == 409 and r.headers["Content-Type"] == "application/problem+json"
    for bad in ["0" * 32, "nope", "f" * 64]:
        r = requests.get(f"{api}/jobs/{bad}", timeout=30)
        assert r.status_code == 404 and r.json()["status"] == 404
    r = requests.post(f"{api}/jobs", data={"job": "nonsense"},
                      files={"file": ("p.png", b"x")}, timeout=30)
    assert r.status_code == 400


def test_a_failing_input_fails_the_job_with_a_problem(api, workers):
    """Bytes that are no image: the job fails with the 4xx problem the synchronous endpoint
    would have answered, not a retry loop."""
    sync = requests.post(f"{api}/stamps/embed", files={"file": ("x.png", b"not an image")},
                         timeout=30)
    assert 400 <= sync.status_code < 500
    status = submit(api, "stamps-embed", {"file": ("x.png", b"not an image")})
    workers.start(1)
    status = wait_done(api, status["id"])
    assert status["status"] == "failed"
    assert status["error"]["status"] == sync.status_code
    assert status["error"]["detail"] == sync.json()["detail"]


def test_queue_limit_ttl_owner_and_callback(redis_server):
    """A full queue answers 429; a finished job expires after PRISM_JOB_RESULT_TTL_S (404);
    another API key's job is 404; the callback URL (a loopback server, private URLs allowed
    in this test) receives the final status once."""
    received = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    crop = (SHARED / STAMP_CROP).read_bytes()
    env = job_env(redis_server, PRISM_MAX_QUEUED_JOBS=2, PRISM_JOB_RESULT_TTL_S=3,
                  PRISM_API_KEYS="key-a,key-b", PRISM_PROCESSES=1)
    a, b = {"X-API-Key": "key-a"}, {"X-API-Key": "key-b"}
    own = Workers(env)  # the TTL is the worker's setting too
    try:
        with running(env) as base:
            first = submit(base, "stamps-embed", {"file": ("s.png", crop)}, headers=a,
                           data={"callback_url": f"http://127.0.0.1:{hook.server_port}/done"})
            submit(base, "stamps-embed", {"file": ("s.png", crop)}, headers=a)
            r = requests.post(f"{base}/jobs", data={"job": "stamps-embed"},
                              files={"file": ("s.png", crop)}, headers=a, timeout=30)
            assert r.status_code == 429 and r.json()["status"] == 429
            assert requests.get(f"{base}/jobs/{first['id']}", headers=b,
                                timeout=30).status_code == 404
            own.start(1)
            status = wait_done(base, first["id"], headers=a)
            assert status["status"] == "finished"
            deadline = time.monotonic() + 10
            while not received and time.monotonic() < deadline:
                time.sleep(0.1)
            assert len(received) == 1 and received[0]["id"] == first["id"]
            assert received[0]["status"] == "finished"
            time.sleep(4)
            assert requests.get(f"{base}/jobs/{first['id']}", headers=a,
                                timeout=30).status_code == 404
    finally:
        own.stop()
        hook.shutdown()


def test_two_api_instances_share_the_jobs(api, redis_server, workers):
    """A job created through one uWSGI instance is polled and fetched through another, which
    sits behind Nginx as ``make run`` serves it."""
    crop = (SHARED / STAMP_CROP).read_bytes()
    with running(job_env(redis_server, PRISM_PROCESSES=1), front="nginx") as other:
        job_id = submit(api, "stamps-embed", {"file": ("s.png", crop)})["id"]
        workers.start(1)
        assert wait_done(other, job_id)["status"] == "finished"
        r = requests.get(f"{other}/jobs/{job_id}/result", timeout=30)
        assert r.status_code == 200 and r.json()["dim"] > 0


def test_the_embedded_store_and_worker_of_make_run():
    """With PRISM_REDIS_URL unset the service starts its own redis-server and one worker
    under the uWSGI master (as ``make run`` does), and a job runs end to end."""
    crop = (SHARED / STAMP_CROP).read_bytes()
    with running({"PRISM_JOB_WORKERS": "1", "PRISM_PROCESSES": "1"}) as base:
        job_id = submit(base, "stamps-embed", {"file": ("s.png", crop)})["id"]
        assert wait_done(base, job_id, limit_s=120)["status"] == "finished"


def test_the_embedded_redis_stops_on_sigterm_even_when_it_cannot_save(tmp_path):
    """uWSGI stops its attached Redis with SIGTERM. Redis refuses to exit when its shutdown
    snapshot fails (here: its folder is gone), which left servers running after the service;
    the embedded config makes SIGTERM final (the AOF is flushed regardless)."""
    import dataclasses

    from api.queue.embedded import redis_conf
    from api.settings import Settings

    var = tmp_path / "var"
    settings = dataclasses.replace(Settings.from_env({}), var_dir=str(var))
    server = subprocess.Popen(["redis-server", str(redis_conf(settings))])
    deadline = time.monotonic() + 10
    while not (var / "redis.sock").exists():
        assert time.monotonic() < deadline and server.poll() is None, "redis did not start"
        time.sleep(0.05)
    write = subprocess.run(  # one write, so the shutdown has something to save
        [sys.executable, "-c", "import redis, sys; redis.Redis(unix_socket_path=sys.argv[1])"
         ".set('k', 'v')", str(var / "redis.sock")], timeout=30)
    assert write.returncode == 0
    shutil.rmtree(var)
    server.terminate()
    try:
        assert server.wait(timeout=10) is not None
    finally:
        if server.poll() is None:
            server.kill()


def test_chunk_progress_only_rises(redis_server):
    """A chunk run again (RQ retry, or a duplicate run) starts its count at 0: the stored
    count stays at its highest, so GET /jobs/{id} never shows progress going back."""
    import redis

    from api.queue import store

    conn = redis.Redis.from_url(redis_server.url)
    key = "prism:test:progress"
    conn.hset(key, mapping={"status": "started"})
    try:
        assert conn.eval(store.PROGRESS, 1, key, "done:0", 3) == b"started"
        assert conn.eval(store.PROGRESS, 1, key, "done:0", 1) == b"started"
        assert conn.hget(key, "done:0") == b"3"
        conn.eval(store.PROGRESS, 1, key, "done:0", 4)
        assert conn.hget(key, "done:0") == b"4"
        conn.hset(key, "status", "canceled")
        assert conn.eval(store.PROGRESS, 1, key, "done:1", 1) == b"canceled"
    finally:
        conn.delete(key)
