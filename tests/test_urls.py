"""image_url fetching against servers on loopback: the guard, redirects, slow and endless bodies."""

from __future__ import annotations

import http.server
import ipaddress
import threading
import time

import pytest

from api import inputs
from api.problems import BadRequest

from .conftest import shared
from .helpers import assert_problem

PAGE = shared("data/eval/ocr/tesseract_phototest.png").read_bytes()


class _Handler(http.server.BaseHTTPRequestHandler):
    hits: list[str]
    redirect_to: str = ""

    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        self.hits.append(self.path)
        if self.path == "/page.png":
            self._send(200, PAGE, "image/png")
        elif self.path == "/page.html":
            self._send(200, b"<!doctype html><html><body>hi</body></html>", "text/html")
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", self.redirect_to)
            self.end_headers()
        elif self.path == "/loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.end_headers()
        elif self.path == "/slow":
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            deadline = time.monotonic() + 8
            try:
                while time.monotonic() < deadline:
                    self.wfile.write(b"\x00")
                    self.wfile.flush()
                    time.sleep(0.3)
            except OSError:
                pass
        elif self.path == "/endless":
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            try:
                for _ in range(2000):  # bounded: 2000 × 64 KiB
                    self.wfile.write(b"\x89PNG" + b"\x00" * 65532)
            except OSError:
                pass
        else:
            self._send(404, b"no", "text/plain")

    def _send(self, status, body, ctype):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _serve(host: str):
    handler = type("H", (_Handler,), {"hits": []})
    server = http.server.ThreadingHTTPServer((host, 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, handler


@pytest.fixture()
def origin():
    server, handler = _serve("127.0.0.1")
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()


@pytest.fixture()
def inner():
    """A second loopback host standing in for an internal service."""
    server, handler = _serve("127.0.0.2")
    yield f"http://127.0.0.2:{server.server_address[1]}", handler
    server.shutdown()


def test_private_urls_refused_by_default(client, origin):
    url, handler = origin
    assert_problem(client.post("/ocr", json={"image_url": url + "/page.png"}), 400)
    assert_problem(client.post("/ocr", json={"image_url": "http://localhost/page.png"}), 400)
    assert handler.hits == []


def test_image_url_fetches_when_allowed(make_client, origin):
    url, _ = origin
    r = make_client(allow_private_urls=True).post("/ocr", json={"image_url": url + "/page.png",
                                                                 "lang": "en"})
    assert r.status_code == 200, r.text
    assert "quick brown dog" in r.json()["pages"][0]["text"]


def test_html_page_is_415(make_client, origin):
    url, _ = origin
    c = make_client(allow_private_urls=True)
    assert_problem(c.post("/ocr", json={"image_url": url + "/page.html"}), 415)
    assert_problem(c.post("/ocr", json={"image_url": url + "/missing.png"}), 422)


def test_redirect_to_internal_host_is_refused(make_client, origin, inner, monkeypatch):
    """127.0.0.1 plays a public host; 127.0.0.2 an internal one. The redirect is re-checked
    and the internal host never receives a request."""
    url, handler = origin
    inner_url, inner_handler = inner
    handler.redirect_to = inner_url + "/page.png"
    real = inputs.remote._address_allowed
    public = ipaddress.ip_address("127.0.0.1")
    monkeypatch.setattr(inputs.remote, "_address_allowed",
                        lambda ip, allow_private: ip == public or real(ip, allow_private))
    c = make_client()
    assert_problem(c.post("/ocr", json={"image_url": url + "/redirect"}), 400)
    assert handler.hits == ["/redirect"] and inner_handler.hits == []
    # the same redirect to the "public" host itself is followed
    handler.redirect_to = url + "/page.png"
    assert c.post("/ocr", json={"image_url": url + "/redirect"}).status_code == 200


def test_redirect_loop_is_422(make_client, origin):
    url, handler = origin
    assert_problem(make_client(allow_private_urls=True).post(
        "/ocr", json={"image_url": url + "/loop"}), 422)
    assert len(handler.hits) == 4  # the first request + 3 redirects


def test_slow_body_times_out(make_client, origin):
    url, _ = origin
    c = make_client(allow_private_urls=True, url_connect_timeout_s=1.0, url_read_timeout_s=1.0)
    start = time.monotonic()
    assert_problem(c.post("/ocr", json={"image_url": url + "/slow"}), 422)
    assert time.monotonic() - start < 5


def test_endless_body_is_capped(make_client, origin):
    url, _ = origin
    c = make_client(allow_private_urls=True, max_upload_bytes=300_000)
    assert_problem(c.post("/ocr", json={"image_url": url + "/endless"}), 413)


def test_urls_can_be_disabled(make_client):
    assert_problem(make_client(allow_urls=False).post(
        "/ocr", json={"image_url": "https://example.org/a.png"}), 400)


@pytest.mark.parametrize("address,allowed", [
    ("8.8.8.8", True), ("127.0.0.1", False), ("10.1.2.3", False), ("192.168.1.1", False),
    ("172.16.0.1", False), ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False),
    ("224.0.0.1", False), ("::1", False), ("::ffff:127.0.0.1", False), ("fe80::1", False),
    ("fd00::1", False), ("2606:4700::1111", True),
])
def test_address_policy(address, allowed):
    assert inputs.remote._address_allowed(ipaddress.ip_address(address), False) is allowed


@pytest.mark.parametrize("address", [
    "2002:7f00:1::",            # 6to4 of 127.0.0.1
    "2002:a9fe:a9fe::1",        # 6to4 of 169.254.169.254
    "2002:808:808::",           # 6to4 even of a public IPv4: the relay decides where it goes
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "64:ff9b::7f00:1",          # NAT64 of 127.0.0.1
    "64:ff9b:1::a00:1",         # local-use NAT64
    "::7f00:1",                 # IPv4-compatible 127.0.0.1
])
def test_ipv6_forms_that_embed_ipv4_are_refused(monkeypatch, address):
    """The resolver is stubbed: nothing is contacted, the name 'resolves' to ``address``."""
    import socket

    def resolver(host, port, *args, **kwargs):
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    with pytest.raises(BadRequest, match="IPv4-embedding"):
        inputs.resolve_public("images.example", 443, allow_private=False)


def test_a_public_ipv6_address_is_still_allowed(monkeypatch):
    import socket

    def resolver(host, port, *args, **kwargs):
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2a00:1450:4001:80b::200e", port, 0, 0))]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    assert inputs.resolve_public("images.example", 443, allow_private=False) == \
        "2a00:1450:4001:80b::200e"
