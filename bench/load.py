"""Load test (not a test): k clients for t seconds on each endpoint, through Nginx → uWSGI.

``make load`` (``python bench/load.py --clients 4 --seconds 60``) starts uWSGI on a unix
socket (PRISM_* defaults: 2 processes × 1 thread, every model preloaded) behind Debian's
Nginx rendered from ``nginx/prism.conf.template``, warms up with ``--warmup`` seconds of the
same load on each endpoint, then for each endpoint in turn runs ``--clients`` threads posting
its request in a loop for ``--seconds``. It reports per endpoint requests, failures (anything
but 200), p50/p95/p99 latency and throughput, and each worker's RSS after warm-up and after
each endpoint (the target: flat within 5 %). ``--kill-worker-at S`` sends SIGKILL to one
uWSGI worker S seconds into the first endpoint's run (the master respawns it; a request in
flight on it may fail, which is counted). ``--endpoints /ocr,/cut`` limits the run. Appends
to ``bench/load.md``; exit status 1 when a request failed (without ``--kill-worker-at``) or
RSS grew more than 5 %.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from common import ENDPOINTS, REPO_ROOT, hammer, models_dir, requests_for, workers_rss

from api.nginx import render, start_nginx
from api.serve import free_port, running
from api.settings import Settings

RSS_TOLERANCE = 0.05


def run(clients: int, seconds: float, kill_at: float | None, only: list[str],
        warmup: float = 10.0) -> tuple[str, bool]:
    """Run the load; returns the Markdown report and whether it met its targets."""
    root = tempfile.mkdtemp(prefix="prism-load-")
    os.chmod(root, 0o755)
    sock = os.path.join(root, "uwsgi.sock")
    chosen = [(e, r) for e, r in zip(ENDPOINTS, requests_for()) if not only or e[0] in only]
    rows, killed = [], None
    try:
        models, kosmos = models_dir(Path(root))
        env = {"PRISM_SOCKET": sock, "PRISM_PRELOAD": "all", "PRISM_MODELS_DIR": str(models)}
        with running(env, log_path=os.path.join(root, "uwsgi.log")) as base:
            hint = f"prism_http={base[len('http://'):]}"
            port = free_port()
            settings = Settings.from_env({**os.environ, **env})
            nginx = start_nginx(root, render(settings, f"127.0.0.1:{port}", sock), port)
            try:
                for _, request in chosen:  # warm-up: each endpoint under the same load
                    hammer(port, request, clients, warmup)
                rss_before = workers_rss(hint)
                rss_steps = []
                for i, ((path, _, _), request) in enumerate(chosen):
                    timer = None
                    if kill_at is not None and i == 0:
                        def kill():
                            nonlocal killed
                            killed = sorted(workers_rss(hint))[0]
                            os.kill(killed, signal.SIGKILL)
                        timer = threading.Timer(kill_at, kill)
                        timer.start()
                    results, elapsed = hammer(port, request, clients, seconds)
                    if timer:
                        timer.join()
                    rows.append((path, results, elapsed))
                    time.sleep(1.0)  # let the last responses' heap trim finish
                    rss_steps.append((path, sum(len(r) for _, r, _ in rows), workers_rss(hint)))
                rss_after = rss_steps[-1][2]
            finally:
                nginx.terminate()
                nginx.wait(timeout=10)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    total = sum(len(r) for _, r, _ in rows)
    lines = [f"{clients} clients × {seconds:g} s per endpoint through Nginx → uWSGI "
             f"({settings.processes} processes × {settings.threads} thread, models preloaded), "
             f"{os.cpu_count()} cores; "
             f"/generate-text: {kosmos}"
             + (f"; worker pid {killed} sent SIGKILL {kill_at:g} s into {rows[0][0]}"
                if killed else ""),
             "", "| endpoint | requests | failed | p50 ms | p95 ms | p99 ms | req/s |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    failed = 0
    for path, results, elapsed in rows:
        ms = np.array([r[1] for r in results])
        bad = sum(1 for r in results if r[0] != 200)
        failed += bad
        lines.append(f"| {path} | {len(results)} | {bad} | {np.percentile(ms, 50):.0f} | "
                     f"{np.percentile(ms, 95):.0f} | {np.percentile(ms, 99):.0f} | "
                     f"{len(results) / elapsed:.2f} |")
    statuses = sorted({r[0] for _, results, _ in rows for r in results})
    growth = {pid: rss_after[pid] / mb - 1 for pid, mb in rss_before.items() if pid in rss_after}
    flat = bool(growth) and all(g <= RSS_TOLERANCE for g in growth.values())
    lines += ["", f"Statuses seen: {statuses}; {total} requests, {failed} failed.", "",
              f"Worker RSS after warm-up → after the {total} requests: "
              + "; ".join(f"pid {pid}: {rss_before[pid]:.0f} → {rss_after[pid]:.0f} MB "
                          f"({growth[pid] * 100:+.1f} %)" for pid in growth)
              + (" (a worker was replaced)" if len(growth) < len(rss_before) else "")
              + f". Target: flat within {RSS_TOLERANCE * 100:.0f} % — "
              + ("met." if flat else "NOT met."), "",
              "| after | requests so far | " + " | ".join(f"pid {p} MB" for p in rss_before) + " |",
              "|---|---:|" + "---:|" * len(rss_before),
              "| warm-up | 0 | " + " | ".join(f"{mb:.0f}" for mb in rss_before.values()) + " |"]
    for path, count, rss in rss_steps:
        lines.append(f"| {path} | {count} | "
                     + " | ".join(f"{rss[p]:.0f}" if p in rss else "—" for p in rss_before) + " |")
    ok = kill_at is not None or (failed == 0 and flat)
    return "\n".join(lines), ok


def main() -> int:
    """Command line; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python bench/load.py")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--kill-worker-at", type=float, default=None)
    parser.add_argument("--warmup", type=float, default=10.0,
                        help="seconds of the same load on each endpoint before RSS is taken")
    parser.add_argument("--endpoints", default="", help="comma-separated paths (default: all)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "load.md")
    args = parser.parse_args()
    only = [p for p in args.endpoints.split(",") if p]
    report, ok = run(args.clients, args.seconds, args.kill_worker_at, only, args.warmup)
    print(report)
    with open(args.out, "a") as fh:
        fh.write(f"\n## {time.strftime('%Y-%m-%d %H:%M')}\n\n{report}\n")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
