"""Render ``nginx/prism.conf.template`` for the current settings.

``python -m api.nginx [--listen 80] [--socket /run/prism/uwsgi.sock] > /etc/nginx/sites-enabled/prism``
fills the body limit from ``PRISM_MAX_UPLOAD_BYTES`` and the read timeout from
``PRISM_REQUEST_TIMEOUT_S`` (5 s above it, 5 s below uWSGI's harakiri), so the three never
drift apart.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time

from .serve import is_tcp, nginx_read_timeout_s
from .settings import REPO_ROOT, Settings

TEMPLATE = REPO_ROOT / "nginx" / "prism.conf.template"


def render(settings: Settings, listen: str, socket: str | list[str],
           static: str | None = None) -> str:
    """The server configuration text. ``socket`` may be one address or several (one upstream
    server line each, for several uWSGI instances): a unix socket path, or ``HOST:PORT`` for
    the uwsgi protocol over TCP (a host name that resolves to several addresses, like a
    compose service with replicas, becomes one upstream server per address when Nginx
    starts). ``static`` is where Nginx finds the frontend's files (default: this checkout's
    ``static/``)."""
    sockets = [socket] if isinstance(socket, str) else list(socket)
    text = TEMPLATE.read_text()
    first = "    server unix:@SOCKET@ max_fails=1 fail_timeout=5s;"
    text = text.replace(first, "\n".join(
        first.replace("unix:@SOCKET@", s if is_tcp(s) else f"unix:{s}") for s in sockets))
    from .app import SECURITY_HEADERS

    headers = "\n".join(f'    add_header {name} "{value}" always;\n    uwsgi_hide_header {name};'
                        for name, value in SECURITY_HEADERS.items())
    return (text.replace("@LISTEN@", listen)
                .replace("@SECURITY_HEADERS@", headers)
                .replace("@STATIC@", static or str(REPO_ROOT / "static"))
                .replace("@MAX_BODY@", str(settings.max_upload_bytes))
                .replace("@READ_TIMEOUT@", f"{nginx_read_timeout_s(settings)}s"))


def start_nginx(root: str, site: str, port: int, host: str = "127.0.0.1") -> subprocess.Popen:
    """Run Debian's nginx with ``site`` (listening on ``port``), its temp folders, pid and
    logs under ``root``; workers run as www-data when started as root, else as the caller.
    Returns once ``host:port`` accepts (a wildcard host is probed on 127.0.0.1); raises
    ``RuntimeError`` (with the error log's tail) when it exits or does not listen in 20 s."""
    probe = "127.0.0.1" if host in ("", "0.0.0.0", "::", "[::]") else host.strip("[]")
    as_root = os.geteuid() == 0
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        os.makedirs(os.path.join(root, name), exist_ok=True)
        if as_root:
            shutil.chown(os.path.join(root, name), "www-data", "www-data")
    conf = os.path.join(root, "nginx.conf")
    with open(conf, "w") as fh:
        fh.write(f"""{"user www-data;" if as_root else ""}
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    access_log {root}/access.log;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
{site}
}}
""")
    proc = subprocess.Popen(["nginx", "-c", conf, "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            with open(os.path.join(root, "error.log")) as fh:
                raise RuntimeError(f"nginx exited: {fh.read()[-2000:]}")
        try:
            socket.create_connection((probe, port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("nginx did not listen within 20 s")


def main(argv: list[str] | None = None) -> int:
    """CLI: print the rendered configuration."""
    parser = argparse.ArgumentParser(prog="python -m api.nginx")
    parser.add_argument("--listen", default="80")
    parser.add_argument("--socket", action="append", default=None,
                        help="uWSGI socket path or HOST:PORT (repeat for several instances)")
    parser.add_argument("--static", help="the static/ folder as Nginx sees it")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    sys.stdout.write(render(settings, args.listen,
                            args.socket or [settings.socket or "/run/prism/uwsgi.sock"],
                            args.static))
    return 0


if __name__ == "__main__":
    sys.exit(main())
