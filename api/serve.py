"""Start uWSGI with ``uwsgi.ini`` and values from the ``PRISM_*`` settings.

``python -m api.serve [extra uwsgi args]`` replaces this process with uWSGI. The ini keeps
the fixed choices; this fills its ``%(prism_*)`` placeholders so every default stays in
:class:`api.settings.Settings`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from .settings import REPO_ROOT, Settings
from .worker import worker_environ


def harakiri_s(settings: Settings) -> int:
    """uWSGI's hard limit: ``PRISM_HARAKIRI_S``, kept 10 s above the soft request deadline
    (and so 5 s above Nginx's read timeout, :func:`nginx_read_timeout_s`)."""
    return max(settings.harakiri_s, int(settings.request_timeout_s) + 10)


def nginx_read_timeout_s(settings: Settings) -> int:
    """Nginx's wait for a response: between the soft deadline and harakiri, so a worker stuck
    in native code (it cannot answer its own 504) gets Nginx's 504 problem+json first and
    is then killed and respawned by harakiri."""
    return int(settings.request_timeout_s) + 5


def uwsgi_command(settings: Settings, extra: list[str] | None = None) -> list[str]:
    """The uWSGI argv for ``settings`` (placeholders set with ``--set-ph``)."""
    uwsgi = shutil.which("uwsgi", path=str(Path(sys.executable).parent)) or "uwsgi"
    placeholders = {
        "prism_venv": sys.prefix,
        "prism_processes": settings.processes,
        "prism_threads": settings.threads,
        "prism_http": f"{settings.host}:{settings.port}",
        "prism_harakiri": harakiri_s(settings),
        "prism_max_requests": settings.max_requests,
        "prism_max_requests_delta": max(1, settings.max_requests // 10),
        "prism_reload_on_rss": settings.reload_on_rss_mb,
        # uWSGI's own cut-off drops the connection without a body; keep it well above the
        # app's limit so the app answers 413 problem+json for any plausible oversize upload.
        "prism_limit_post": 2 * settings.max_upload_bytes + 1024 * 1024,
    }
    argv = [uwsgi, "--ini", str(REPO_ROOT / "uwsgi.ini")]
    for key, value in placeholders.items():
        argv += ["--set-ph", f"{key}={value}"]
    if settings.socket:  # the uwsgi protocol for Nginx, readable by its www-data workers
        argv += ["--socket", settings.socket, "--chmod-socket=660",
                 f"--chown-socket={settings.socket_owner}"]
    return argv + list(extra or [])


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running(env: dict[str, str] | None = None, timeout_s: float = 60.0,
            log_path: str | None = None):
    """Run uWSGI in the background on a free loopback port until the ``with`` block ends.

    Args: ``env`` extra ``PRISM_*`` variables. Yields the base URL (``http://127.0.0.1:P``)
    once ``/health`` answers; uWSGI's log goes to ``log_path`` (default: a temporary file).
    Raises ``RuntimeError`` (with uWSGI's last output) when it
    exits or does not answer within ``timeout_s``. Used by tests and the benchmark.
    """
    port = free_port()
    full_env = {**os.environ, **(env or {}), "PRISM_HOST": "127.0.0.1", "PRISM_PORT": str(port)}
    settings = Settings.from_env(full_env)
    full_env = worker_environ(full_env, settings.huge_pages)
    argv = uwsgi_command(settings)
    # uWSGI's log goes to a file: an unread pipe fills up and blocks the workers.
    log = open(log_path, "w+b") if log_path else tempfile.TemporaryFile()
    proc = subprocess.Popen(argv, cwd=REPO_ROOT, env=full_env, stdin=subprocess.DEVNULL,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                log.seek(0)
                output = log.read().decode(errors="replace")[-3000:]
                raise RuntimeError(f"uWSGI exited with {proc.returncode}:\n{output}")
            try:
                with urllib.request.urlopen(base + "/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"uWSGI did not answer /health within {timeout_s:g} s")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def main() -> None:
    """Exec uWSGI (never returns)."""
    settings = Settings.from_env()
    argv = uwsgi_command(settings, sys.argv[1:])
    os.execve(argv[0], argv, worker_environ(os.environ, settings.huge_pages))


if __name__ == "__main__":
    main()
