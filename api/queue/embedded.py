"""The embedded job store and workers of ``make run``: with ``PRISM_REDIS_URL`` unset, the
uWSGI master also runs a private ``redis-server`` (unix socket, AOF on, data under
``PRISM_VAR_DIR``) and ``PRISM_JOB_WORKERS`` workers (``python -m api worker``) as attached
daemons (uWSGI's ``attach-daemon2``): one command starts the API, the store and the workers,
the master restarts any that dies, and stopping uWSGI stops them all.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from ..settings import Settings
from .store import embedded_socket


def redis_conf(settings: Settings) -> Path:
    """Write ``redis.conf`` into ``PRISM_VAR_DIR`` (created ``0700``) and return its path:
    no TCP port, the unix socket of :func:`api.queue.store.embedded_socket` (``0700``),
    append-only file with an fsync every second (queued jobs survive a restart), and a
    SIGTERM that always stops it."""
    var = Path(settings.var_dir)
    var.mkdir(parents=True, exist_ok=True)
    os.chmod(var, 0o700)
    conf = var / "redis.conf"
    conf.write_text("\n".join([
        "# Written by api/queue/embedded.py at every start; edits are lost.",
        "port 0", f"unixsocket {embedded_socket(settings)}", "unixsocketperm 700",
        f"dir {var}", "appendonly yes", "appendfsync everysec", "daemonize no",
        "save 300 1", "loglevel warning", f"logfile {var / 'redis.log'}",
        f"pidfile {var / 'redis.pid'}",
        # stop on SIGTERM even when the last snapshot cannot be written (the AOF is flushed
        # anyway): without it a failed save kept the server running after uWSGI had gone
        "shutdown-on-sigterm nosave force", ""]))
    return conf


def daemon_args(settings: Settings) -> list[str]:
    """uWSGI ``--attach-daemon2`` arguments for the embedded Redis (only when
    ``PRISM_REDIS_URL`` is empty) and the ``PRISM_JOB_WORKERS`` workers. Without
    ``redis-server`` (and no ``PRISM_REDIS_URL``) it warns and starts neither: the
    synchronous endpoints work, ``/jobs`` answers 503."""
    args: list[str] = []
    if not settings.redis_url:
        server = shutil.which("redis-server")
        if server is None:
            print("Prism: redis-server is not installed (make system) and PRISM_REDIS_URL "
                  "is empty; async jobs (/jobs) are off", file=sys.stderr, flush=True)
            return []
        args += ["--attach-daemon2", f"cmd={server} {redis_conf(settings)},stopsignal=15"]
    for _ in range(max(0, settings.job_workers)):
        args += ["--attach-daemon2", f"cmd={sys.executable} -m api worker,stopsignal=15"]
    return args


def redis_pid(settings: Settings) -> int | None:
    """The embedded ``redis-server``'s pid from its pid file (``None`` when there is none;
    Redis removes it as it shuts down, so read it before stopping the service)."""
    try:
        return int((Path(settings.var_dir) / "redis.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def stop_redis(pid: int | None, timeout_s: float = 5.0) -> None:
    """Make sure the embedded ``redis-server`` ``pid`` (:func:`redis_pid`) has exited:
    wait for it, SIGTERM, then SIGKILL, ``timeout_s`` each. A backstop for when uWSGI's
    master went before its daemons did (seen in test runs: a server outlived its service)."""
    import signal
    import time

    if pid is None:
        return
    for sig in (0, signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
