"""Load test (not a test): k clients for t seconds through Nginx → uWSGI, a mix of endpoints.

``make load`` (``python bench/load.py --clients 4 --seconds 60``) starts uWSGI on a unix
socket (PRISM_* defaults: 2 processes × 1 thread) behind Debian's Nginx rendered from
``nginx/prism.conf.template``, warms every model used, then runs ``--clients`` threads that
each post the mix in a loop for ``--seconds``. It reports, per endpoint, requests, failures
(anything but the expected status), p50/p95/p99 latency and throughput, plus each worker's RSS
before and after; ``--kill-worker-at S`` sends SIGKILL to one uWSGI worker S seconds in (the
master respawns it; requests in flight on it may fail, which is counted). Writes
``bench/load.md``. Exit status 1 when any request failed (without ``--kill-worker-at``).
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil
from urllib3 import encode_multipart_formdata

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from api.nginx import render, start_nginx  # noqa: E402
from api.serve import free_port, running  # noqa: E402
from api.settings import Settings  # noqa: E402

SHARED = REPO_ROOT.parent / "shared" / "data"
MIX = [  # endpoint, form fields, input file
    ("/ocr", {"lang": "en"}, "eval/ocr/rapidocr_en_rec.jpg"),
    ("/stamps", {}, "seeds/stamp2vec/tests/test_data/test_full_doc.jpeg"),
    ("/stamps/embed", {}, "seeds/stamp2vec/tests/test_data/test_cropped_stamp.png"),
    ("/extract", {}, "seeds/imgextract/test/samples/1.png"),
    ("/cut", {"objects": "elephant"}, "../models/testdata/photo_elephant.jpg"),
]


def _multipart(fields: dict, filename: str, data: bytes) -> tuple[bytes, dict]:
    body, ctype = encode_multipart_formdata({**fields, "file": (filename, data)})
    return body, {"Content-Type": ctype}


def post(port: int, path: str, body: bytes, headers: dict) -> int:
    """One POST through Nginx; returns the status (0 when the connection failed)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        conn.request("POST", path, body, headers)
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError:
        return 0
    finally:
        conn.close()


def workers_rss(master_port_hint: str) -> dict[int, float]:
    """RSS in MB of every uWSGI worker whose command line carries ``master_port_hint``."""
    out = {}
    for proc in psutil.process_iter(["pid", "cmdline", "ppid"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if "uwsgi" in cmd and master_port_hint in cmd:
            try:
                parent = psutil.Process(proc.info["ppid"])
                if "uwsgi" in " ".join(parent.cmdline()):  # a worker, not the master
                    out[proc.info["pid"]] = proc.memory_info().rss / 2**20
            except psutil.Error:
                pass
    return out


def run(clients: int, seconds: float, kill_at: float | None) -> tuple[str, int]:
    """Run the load; returns the Markdown report and the number of failed requests."""
    root = tempfile.mkdtemp(prefix="prism-load-")
    os.chmod(root, 0o755)
    sock = os.path.join(root, "uwsgi.sock")
    env = {"PRISM_SOCKET": sock}
    requests = []
    for path, fields, rel in MIX:
        data = (SHARED / rel).read_bytes()
        requests.append((path, *_multipart(fields, Path(rel).name, data)))
    try:
        with running(env, log_path=os.path.join(root, "uwsgi.log")) as base:
            hint = f"prism_http={base[len('http://'):]}"
            port = free_port()
            nginx = start_nginx(root, render(Settings.from_env(env), f"127.0.0.1:{port}", sock), port)
            try:
                for _ in range(3):  # warm every model in both workers
                    for path, body, headers in requests:
                        post(port, path, body, headers)
                rss_before = workers_rss(hint)
                results: list[tuple[str, int, float]] = []
                lock = threading.Lock()
                stop = time.monotonic() + seconds

                def client(index: int) -> None:
                    i = index
                    while time.monotonic() < stop:
                        path, body, headers = requests[i % len(requests)]
                        start = time.perf_counter()
                        status = post(port, path, body, headers)
                        with lock:
                            results.append((path, status, (time.perf_counter() - start) * 1000))
                        i += 1

                threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
                started = time.monotonic()
                for t in threads:
                    t.start()
                killed = None
                if kill_at is not None:
                    time.sleep(kill_at)
                    victims = sorted(workers_rss(hint))
                    if victims:
                        killed = victims[0]
                        os.kill(killed, signal.SIGKILL)
                for t in threads:
                    t.join()
                elapsed = time.monotonic() - started
                time.sleep(1.0)
                rss_after = workers_rss(hint)
            finally:
                nginx.terminate()
                nginx.wait(timeout=10)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    lines = [f"{clients} clients × {seconds:g} s through Nginx → uWSGI (2 processes × 1 thread), "
             f"{os.cpu_count()} cores; mix: " + ", ".join(p for p, _, _ in MIX)
             + (f"; worker pid {killed} sent SIGKILL at {kill_at:g} s" if kill_at is not None else ""),
             "", "| endpoint | requests | failed | p50 ms | p95 ms | p99 ms | req/s |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    failed_total = 0
    for path in [p for p, _, _ in MIX] + ["all"]:
        rows = [r for r in results if path == "all" or r[0] == path]
        if not rows:
            continue
        ms = np.array([r[2] for r in rows])
        failed = sum(1 for r in rows if r[1] != 200)
        if path == "all":
            failed_total = failed
        lines.append(f"| {path} | {len(rows)} | {failed} | {np.percentile(ms, 50):.0f} | "
                     f"{np.percentile(ms, 95):.0f} | {np.percentile(ms, 99):.0f} | "
                     f"{len(rows) / elapsed:.2f} |")
    statuses = sorted({r[1] for r in results})
    lines += ["", f"Statuses seen: {statuses}. Worker RSS MB before: "
              + ", ".join(f"{v:.0f}" for v in rss_before.values())
              + "; after: " + ", ".join(f"{v:.0f}" for v in rss_after.values()) + "."]
    return "\n".join(lines), failed_total


def main() -> int:
    """Command line; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python bench/load.py")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--kill-worker-at", type=float, default=None)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "load.md")
    args = parser.parse_args()
    report, failed = run(args.clients, args.seconds, args.kill_worker_at)
    print(report)
    with open(args.out, "a") as fh:
        fh.write(f"\n## {time.strftime('%Y-%m-%d %H:%M')}\n\n{report}\n")
    return 1 if failed and args.kill_worker_at is None else 0


if __name__ == "__main__":
    sys.exit(main())
