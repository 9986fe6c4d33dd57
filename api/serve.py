"""Start the service: uWSGI with ``uwsgi.ini`` and values from the ``PRISM_*`` settings,
behind Nginx by default.

``python -m api.serve [extra uwsgi args]`` (``make run``) with ``PRISM_FRONT=nginx`` (the
default) runs uWSGI on a unix socket and Nginx (:mod:`api.nginx`) on
``PRISM_HOST:PRISM_PORT`` in front of it, and stops both on SIGTERM/SIGINT or when either
exits; with ``PRISM_FRONT=uwsgi`` (or no ``nginx`` on the PATH) it replaces itself with
uWSGI serving HTTP directly. The ini keeps the fixed choices; this fills its
``%(prism_*)`` placeholders so every default stays in :class:`api.settings.Settings`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from .queue.embedded import daemon_args, redis_pid, stop_redis
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
        "prism_worker_max_rss": settings.worker_max_rss_mb,
    }
    argv = [uwsgi, "--ini", str(REPO_ROOT / "uwsgi.ini")]
    for key, value in placeholders.items():
        argv += ["--set-ph", f"{key}={value}"]
    argv += daemon_args(settings)  # the embedded Redis and the job workers
    if settings.socket and is_tcp(settings.socket):  # Nginx on another host (compose)
        argv += ["--socket", settings.socket]
    elif settings.socket:  # the uwsgi protocol for Nginx, readable by its www-data workers
        argv += ["--socket", settings.socket, "--chmod-socket=660"]
        if os.geteuid() == 0:  # as another user, Nginx's workers run as that user too
            argv += [f"--chown-socket={settings.socket_owner}"]
    return argv + list(extra or [])


def is_tcp(address: str) -> bool:
    """True for a ``HOST:PORT`` uwsgi-protocol address, False for a unix socket path
    (anything with a ``/``, or without a numeric port)."""
    host, sep, port = address.rpartition(":")
    return bool(sep) and "/" not in address and port.isdigit()


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_socket(proc: subprocess.Popen, path: str, log, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not os.path.exists(path):
        if proc.poll() is not None or time.monotonic() > deadline:
            output = ""
            if log is not None:
                log.seek(0)
                output = log.read().decode(errors="replace")[-3000:]
            raise RuntimeError(f"uWSGI did not create {path}:\n{output}")
        time.sleep(0.1)


@contextlib.contextmanager
def _processes(settings: Settings, env, log=None, nginx_listen: tuple[str, int] | None = None,
               extra: list[str] | None = None, timeout_s: float = 60.0):
    """uWSGI for ``settings`` (its HTTP socket on ``settings.host:port``) and, when
    ``nginx_listen`` ``(host, port)`` is given, a unix socket with Nginx on that address in
    front of it. Yields the child processes (uWSGI first) once they are started; stops them
    all on the way out. uWSGI's output goes to ``log`` (a binary file; None: inherited).

    uWSGI runs in its own session and the group is killed last: a worker the master respawned
    while stopping (the memory-cap test kills workers on purpose) outlived it otherwise.
    """
    from .nginx import render, start_nginx

    root = tempfile.mkdtemp(prefix="prism-") if nginx_listen else None
    if root:
        os.chmod(root, 0o755)  # Nginx's www-data workers must reach the socket
        settings = dataclasses.replace(settings, socket=os.path.join(root, "uwsgi.sock"))
    uwsgi = subprocess.Popen(uwsgi_command(settings, extra), cwd=REPO_ROOT,
                             env=worker_environ(env, settings.huge_pages),
                             stdin=subprocess.DEVNULL, stdout=log,
                             stderr=subprocess.STDOUT if log else None, start_new_session=True)
    children = [uwsgi]
    try:
        if root:
            _wait_for_socket(uwsgi, settings.socket, log, timeout_s)
            host, port = nginx_listen
            children.append(start_nginx(root, render(settings, f"{host}:{port}",
                                                     settings.socket), port, host))
        yield children
    finally:
        redis = None if settings.redis_url else redis_pid(settings)
        for child in reversed(children):  # Nginx first, so no request reaches a dying uWSGI
            child.terminate()
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(uwsgi.pid, signal.SIGKILL)
        stop_redis(redis)
        if root:
            shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def running(env: dict[str, str] | None = None, timeout_s: float = 60.0,
            log_path: str | None = None, front: str = "uwsgi"):
    """Run the service in the background on free loopback ports until the ``with`` block ends.

    Args: ``env`` extra ``PRISM_*`` variables; ``front`` ``uwsgi`` (clients talk to uWSGI's
    HTTP socket) or ``nginx`` (to Nginx in front of its unix socket, as ``make run``).
    Yields the base URL (``http://127.0.0.1:P``) once ``/health`` answers there; uWSGI's log
    goes to ``log_path`` (default: a temporary file). Unless ``env`` says otherwise the
    instance starts no job workers and keeps its embedded Redis in a temporary folder.
    Raises ``RuntimeError`` (with uWSGI's last output) when it exits or does not answer
    within ``timeout_s``. Used by tests and the benchmark.
    """
    port = free_port()
    var = tempfile.mkdtemp(prefix="prism-var-")  # this instance's own embedded Redis
    full_env = {"PRISM_JOB_WORKERS": "0", "PRISM_VAR_DIR": var, **os.environ, **(env or {}),
                "PRISM_HOST": "127.0.0.1", "PRISM_PORT": str(port)}
    settings = Settings.from_env(full_env)
    listen = ("127.0.0.1", free_port()) if front == "nginx" else None
    base = f"http://127.0.0.1:{listen[1] if listen else port}"
    try:
        # uWSGI's log goes to a file: an unread pipe fills up and blocks the workers.
        with (open(log_path, "w+b") if log_path else tempfile.TemporaryFile()) as log, \
                _processes(settings, full_env, log, listen, timeout_s=timeout_s) as children:
            uwsgi, deadline = children[0], time.monotonic() + timeout_s
            while True:
                if uwsgi.poll() is not None:
                    log.seek(0)
                    output = log.read().decode(errors="replace")[-3000:]
                    raise RuntimeError(f"uWSGI exited with {uwsgi.returncode}:\n{output}")
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
        shutil.rmtree(var, ignore_errors=True)


def _serve_behind_nginx(settings: Settings, extra: list[str]) -> int:
    """Run uWSGI (unix socket, plus its HTTP socket on a loopback port for probes) and Nginx
    on ``settings.host:port`` until a signal or either exits; returns the exit status."""
    def stop(*_args) -> None:
        raise SystemExit(0)  # unwinds through _processes, which stops both

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    inner = dataclasses.replace(settings, host="127.0.0.1", port=free_port())
    with _processes(inner, os.environ, None, (settings.host, settings.port), extra,
                    timeout_s=120) as children:
        print(f"Prism: Nginx on http://{settings.host}:{settings.port} in front of uWSGI "
              f"(probes on http://127.0.0.1:{inner.port})", flush=True)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        return next((c.returncode for c in children if c.returncode), 0)


def main() -> None:
    """Serve behind Nginx (``PRISM_FRONT=nginx``), else exec uWSGI (never returns)."""
    settings = Settings.from_env()
    if settings.front not in ("nginx", "uwsgi"):
        raise SystemExit(f"PRISM_FRONT={settings.front!r}: choose nginx or uwsgi")
    if settings.front == "nginx":
        if shutil.which("nginx"):
            sys.exit(_serve_behind_nginx(settings, sys.argv[1:]))
        print("Prism: nginx is not installed (make system); serving uWSGI's HTTP socket "
              "directly, which slow clients can tie up", file=sys.stderr, flush=True)
    argv = uwsgi_command(settings, sys.argv[1:])
    os.execve(argv[0], argv, worker_environ(os.environ, settings.huge_pages))


if __name__ == "__main__":
    main()
