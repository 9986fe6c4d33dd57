"""Start uWSGI with ``uwsgi.ini`` and values from the ``PRISM_*`` settings.

``python -m api.serve [extra uwsgi args]`` replaces this process with uWSGI. The ini keeps
the fixed choices; this fills its ``%(prism_*)`` placeholders so every default stays in
:class:`api.settings.Settings`.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from .settings import REPO_ROOT, Settings


def uwsgi_command(settings: Settings, extra: list[str] | None = None) -> list[str]:
    """The uWSGI argv for ``settings`` (placeholders set with ``--set-ph``)."""
    uwsgi = shutil.which("uwsgi", path=str(Path(sys.executable).parent)) or "uwsgi"
    placeholders = {
        "prism_venv": sys.prefix,
        "prism_processes": settings.processes,
        "prism_threads": settings.threads,
        "prism_http": f"{settings.host}:{settings.port}",
        "prism_harakiri": max(settings.harakiri_s, int(settings.request_timeout_s) + 10),
        "prism_max_requests": settings.max_requests,
        # uWSGI's own cut-off drops the connection without a body; keep it well above the
        # app's limit so the app answers 413 problem+json for any plausible oversize upload.
        "prism_limit_post": 2 * settings.max_upload_bytes + 1024 * 1024,
    }
    argv = [uwsgi, "--ini", str(REPO_ROOT / "uwsgi.ini")]
    for key, value in placeholders.items():
        argv += ["--set-ph", f"{key}={value}"]
    return argv + list(extra or [])


def main() -> None:
    """Exec uWSGI (never returns)."""
    argv = uwsgi_command(Settings.from_env(), sys.argv[1:])
    os.execv(argv[0], argv)


if __name__ == "__main__":
    main()
