"""``image_url`` fetching through the SSRF guard: public addresses only, resolved once and
connected to by IP, redirects re-checked, size and time bounded."""

from __future__ import annotations

import ipaddress
import socket
import time
from urllib.parse import urljoin, urlsplit

from ..problems import BadRequest, PayloadTooLarge, Unprocessable
from ..settings import Settings

# -- URL fetching with an SSRF guard ---------------------------------------------------------

#: IPv6 ranges that carry an IPv4 address inside (RFC 3056 6to4, RFC 4380 Teredo, RFC 6052
#: NAT64, RFC 4291 IPv4-compatible): a relay or translator may deliver them to that IPv4
#: host, e.g. 2002:7f00:1:: is 127.0.0.1 by 6to4. Refused outright.
_EMBEDDED_IPV4 = tuple(ipaddress.ip_network(n) for n in (
    "2002::/16", "2001::/32", "64:ff9b::/96", "64:ff9b:1::/48", "::/96"))


def _address_allowed(ip: ipaddress._BaseAddress, allow_private: bool) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_unspecified or ip.is_multicast:
        return False
    if allow_private:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and any(ip in net for net in _EMBEDDED_IPV4):
        return False
    return ip.is_global and not (ip.is_reserved or ip.is_link_local or ip.is_loopback
                                 or ip.is_private)


def resolve_public(host: str, port: int, allow_private: bool, field: str = "image_url") -> str:
    """Resolve ``host`` and return an address that may be contacted.

    Every address the name resolves to must be allowed (public unicast, unless
    ``allow_private``), so a name that also points inside cannot be used. Raises 400
    naming ``field``.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise BadRequest(f"{field} host {host!r} does not resolve.")
    addresses = []
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%")[0])
        if not _address_allowed(ip, allow_private):
            raise BadRequest(f"{field} points to a private, loopback, link-local, "
                             "reserved or IPv4-embedding IPv6 address; only public http(s) "
                             "URLs are contacted.")
        addresses.append(str(ip))
    if not addresses:
        raise BadRequest(f"{field} host {host!r} does not resolve.")
    return addresses[0]


def check_url(url: str, settings: Settings, field: str = "callback_url") -> tuple:
    """Check an outgoing ``url`` as :func:`fetch_url` does (absolute http/https, a port,
    every address allowed) and return ``(parts, port, address)``. Raises 400."""
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadRequest(f"{field} must be an absolute http:// or https:// URL.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise BadRequest(f"{field} has an invalid port.")
    return parts, port, resolve_public(parts.hostname, port, settings.allow_private_urls,
                                       field)


def _connection(url: str, settings: Settings, field: str):
    """``(pool, path, Host header)`` for ``url`` after :func:`check_url`: a urllib3 pool to
    the checked address (TLS still verifies the name), the ``image_url`` timeouts, no
    retries."""
    import urllib3

    parts, port, address = check_url(url, settings, field)
    timeout = urllib3.Timeout(connect=settings.url_connect_timeout_s,
                              read=settings.url_read_timeout_s)
    if parts.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(address, port, timeout=timeout, retries=False,
                                           server_hostname=parts.hostname,
                                           assert_hostname=parts.hostname)
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host_header = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    return pool, path, host_header


def post_json(url: str, payload: dict, settings: Settings) -> int:
    """POST ``payload`` as JSON to ``url`` through the same guard (checked again now, no
    redirects followed, the ``image_url`` timeouts). Returns the HTTP status; raises 400
    (refused) or 422 (unreachable)."""
    import json

    import urllib3

    pool, path, host_header = _connection(url, settings, "callback_url")
    try:
        response = pool.urlopen("POST", path, body=json.dumps(payload).encode(),
                                headers={"Host": host_header, "User-Agent": "Prism/1.0",
                                         "Content-Type": "application/json"},
                                redirect=False)
        return response.status
    except urllib3.exceptions.HTTPError as exc:
        raise Unprocessable(f"callback_url could not be reached ({type(exc).__name__}).")
    finally:
        pool.close()


def fetch_url(url: str, settings: Settings) -> bytes:
    """Download ``url`` with the SSRF guard.

    http/https only; the host is resolved and checked, and the connection goes to that
    checked address (TLS still verifies the name); each redirect (at most
    ``url_max_redirects``) is checked again; connect/read timeouts and a total time budget;
    the body is streamed and capped at ``max_upload_bytes``.
    Raises 400 (refused), 413 (too large), 422 (unreachable, HTTP error, too slow).
    """
    import urllib3

    if not settings.allow_urls:
        raise BadRequest("image_url is disabled on this server; upload the file instead.")
    started = time.monotonic()
    budget = settings.url_connect_timeout_s + settings.url_read_timeout_s
    for _ in range(settings.url_max_redirects + 1):
        pool, path, host_header = _connection(url, settings, "image_url")
        try:
            response = pool.urlopen("GET", path, headers={"Host": host_header,
                                                          "User-Agent": "Prism/1.0",
                                                          "Accept": "image/*,application/pdf"},
                                    redirect=False, preload_content=False)
        except urllib3.exceptions.HTTPError as exc:
            pool.close()
            raise Unprocessable(f"image_url could not be fetched ({type(exc).__name__}).")
        try:
            if response.status in (301, 302, 303, 307, 308):
                location = response.headers.get("Location")
                if not location:
                    raise Unprocessable("image_url redirected without a Location.")
                url = urljoin(url, location)
                continue
            if response.status != 200:
                raise Unprocessable(f"image_url answered HTTP {response.status}.")
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > settings.max_upload_bytes:
                raise PayloadTooLarge(f"image_url body is {int(length)} bytes; the limit is "
                                      f"{settings.max_upload_bytes}.")
            chunks, size = [], 0
            try:
                while True:
                    # read1: one socket read at a time, so a trickling body meets the budget
                    chunk = response.read1(64 * 1024)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > settings.max_upload_bytes:
                        raise PayloadTooLarge(f"image_url body exceeds {settings.max_upload_bytes}"
                                              " bytes.")
                    if time.monotonic() - started > budget:
                        raise Unprocessable(f"image_url took longer than {budget:g} s.")
                    chunks.append(chunk)
            except urllib3.exceptions.HTTPError as exc:
                raise Unprocessable(f"image_url could not be read ({type(exc).__name__}).")
            return b"".join(chunks)
        finally:
            response.release_conn()
            pool.close()
    raise Unprocessable(f"image_url redirected more than {settings.url_max_redirects} times.")
