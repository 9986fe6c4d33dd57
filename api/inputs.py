"""Request inputs → images: uploads, base64, URLs, PDFs; limits and the URL guard.

Every endpoint takes an image as a multipart ``file`` part, or JSON ``image_base64`` /
``image_url`` (ObjectCut's field names). The type comes from magic bytes, never the file
name. Images are returned as ``(H, W, 3)`` uint8 RGB arrays, EXIF orientation applied and
grayscale / palette / CMYK / 16-bit / alpha normalised (alpha composited over white).
PDF pages are rendered with PyMuPDF at the requested ``dpi``.

Errors raised (all :mod:`api.errors`): 400 bad parameters or refused URL, 413 over a size,
pixel or page limit, 415 unsupported type, 422 undecodable image/PDF or unfetchable URL.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import io
import re
import socket
import time
import warnings
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from .problems import BadRequest, PayloadTooLarge, Unprocessable, UnsupportedMediaType
from .settings import Settings

IMAGE_KINDS = ("png", "jpeg", "webp", "tiff", "bmp", "gif")


@dataclass
class Page:
    """One image to process: ``image`` ``(H, W, 3)`` uint8 RGB; ``page`` 1-based index in its
    file; ``dpi`` the render resolution for PDF pages (``None`` for images)."""

    image: np.ndarray
    page: int = 1
    dpi: int | None = None


@dataclass
class Budget:
    """What one request may still decode: ``pages`` and ``pixels`` left, from
    ``PRISM_MAX_REQUEST_PAGES`` and ``PRISM_MAX_REQUEST_MP``. Charged from image headers and
    PDF page sizes before any pixel is decoded or rendered."""

    pages: int
    pixels: int
    settings: Settings

    @classmethod
    def for_request(cls, settings: Settings) -> "Budget":
        """A full budget for a new request."""
        return cls(settings.max_request_pages, int(settings.max_request_mp * 1e6), settings)

    def charge(self, pages: int, pixels: int) -> None:
        """Spend ``pages`` and ``pixels``; raises 413 naming the limit when either runs out."""
        if pages > self.pages:
            raise PayloadTooLarge(
                f"The request holds more than {self.settings.max_request_pages} pages in all "
                "files together; send fewer files or choose pages with `pages`.")
        if pixels > self.pixels:
            raise PayloadTooLarge(
                f"The request's pages add up to more than {self.settings.max_request_mp:g} MP "
                "decoded; send fewer pages or a lower `dpi`.")
        self.pages -= pages
        self.pixels -= pixels


@dataclass
class Document:
    """A decoded input: ``filename`` as sent (or ``image``), ``kind`` from magic bytes;
    ``data`` keeps a PDF's bytes for pipelines that read its objects (``None`` for images)."""

    filename: str
    kind: str
    pages: list[Page]
    data: bytes | None = None


def sniff(data: bytes) -> str | None:
    """Identify ``data`` by its magic bytes: one of :data:`IMAGE_KINDS`, ``pdf``, or ``None``."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if data.startswith(b"BM"):
        return "bmp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if b"%PDF-" in data[:1024]:
        return "pdf"
    return None


def _to_rgb(image: Image.Image) -> np.ndarray:
    """Normalise any Pillow mode to 8-bit RGB (alpha over white, CMYK/16-bit converted)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(image, dtype=np.float64)
        top = arr.max() if arr.max() > 255 else 255.0
        image = Image.fromarray((arr * (255.0 / max(top, 1.0))).astype(np.uint8), "L")
    elif image.mode == "F":
        arr = np.asarray(image, dtype=np.float64)
        span = max(arr.max() - arr.min(), 1e-9)
        image = Image.fromarray(((arr - arr.min()) * 255.0 / span).astype(np.uint8), "L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image)
    if image.mode != "RGB":  # convert() copies even when the mode already matches
        image = image.convert("RGB")
    return np.ascontiguousarray(np.asarray(image))


_JPEG_EOI, _PNG_IEND = b"\xff\xd9", b"IEND\xaeB`\x82"
#: EXIF Orientation value → the transpose that makes the image upright (EXIF 2.32, 4.6.4).
_ORIENT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
           4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
           6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
           8: Image.Transpose.ROTATE_90}


def exif_orientation(image: Image.Image) -> int:
    """The EXIF Orientation tag (1–8) of an opened image; 1 when absent or unreadable.

    Only this tag is read, and defensively: Pillow's ``exif_transpose`` also rewrites the
    other tags, and a malformed block (a DateTime declared RATIONAL, a wrong count) made it
    raise ``AttributeError``/``TypeError`` from inside Pillow.
    """
    try:
        value = image.getexif().get(0x0112, 1)
    except Exception:  # any malformed EXIF block: treat as upright
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _check_tiles(image: Image.Image, settings: Settings) -> None:
    """413 when one TIFF tile would decode to more than ``max_image_mp``: a 64 × 64 TIFF may
    declare a 40,000 × 40,000 Deflate tile, which libtiff inflates whole (1.6 GB) although
    Pillow's size check sees 64 × 64. (Strips cannot outgrow the image: libtiff caps
    RowsPerStrip at the image height.)"""
    tags = getattr(image, "tag_v2", None)
    if tags is None:
        return
    tile = (tags.get(322) or 0) * (tags.get(323) or 0)  # TileWidth × TileLength
    if tile > settings.max_pixels:
        raise PayloadTooLarge(f"A TIFF tile of {tile / 1e6:.0f} MP exceeds the "
                              f"{settings.max_image_mp:g} MP limit.")


def _fast_decode(data: bytes, kind: str, image: Image.Image) -> np.ndarray | None:
    """Decode a plain 8-bit RGB or grey JPEG/PNG with OpenCV (libjpeg-turbo/libpng) straight
    into an ``(H, W, 3)`` uint8 RGB array; ``None`` when the file is not that simple case.

    Pillow keeps RGB as 4 bytes per pixel and packs it again for NumPy, which costs more
    than the decode itself: an A4 page at 300 dpi (8.7 MP) takes ~65 ms through Pillow and
    ~25 ms here, with identical pixels. Only files that end properly (JPEG EOI, PNG IEND),
    carry no EXIF rotation, alpha, palette or 16-bit samples take this path, so truncated
    and unusual files keep Pillow's checks and conversions. ``image`` is the opened, not yet
    loaded, Pillow image (its header gives mode and size).
    """
    if image.mode not in ("RGB", "L"):
        return None
    if kind == "jpeg":
        if _JPEG_EOI not in data[-16:] or exif_orientation(image) != 1:
            return None
    elif kind == "png":
        if (data[24:25] != b"\x08" or _PNG_IEND not in data[-16:] or "transparency" in image.info
                or b"eXIf" in data):
            return None
    else:
        return None
    array = cv2.imdecode(np.frombuffer(data, np.uint8),
                         cv2.IMREAD_COLOR_RGB | cv2.IMREAD_IGNORE_ORIENTATION)
    if array is None or array.shape[:2] != (image.size[1], image.size[0]):
        return None
    return array


def decode_image(data: bytes, settings: Settings, budget: Budget | None = None) -> np.ndarray:
    """Decode image bytes to ``(H, W, 3)`` uint8 RGB (first frame of animations).

    Raises 415 for non-image bytes, 413 over ``max_image_mp`` (checked from the header, and
    per TIFF tile, before any pixel is decoded), 422 when truncated or corrupt or a
    side is under ``min_image_side``; ``budget`` (the request's, if given) is charged one
    page and the header's pixels, and raises 413 when spent.
    """
    kind = sniff(data)
    if kind not in IMAGE_KINDS:
        raise UnsupportedMediaType(
            "Expected a PNG, JPEG, WebP, TIFF, BMP or GIF image"
            + (" (this endpoint does not take PDFs)." if kind == "pdf" else "."))
    Image.MAX_IMAGE_PIXELS = settings.max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > settings.max_pixels:
                raise PayloadTooLarge(
                    f"The image is {width}×{height} = {width * height / 1e6:.1f} MP; "
                    f"the limit is {settings.max_image_mp:g} MP.")
            _check_side(width, height, settings, "The image")
            _check_tiles(image, settings)
            if budget is not None:
                budget.charge(1, width * height)
            if (fast := _fast_decode(data, kind, image)) is not None:
                return fast
            orientation = exif_orientation(image)
            image.seek(0)
            image.load()
            if orientation in _ORIENT:
                image = image.transpose(_ORIENT[orientation])
    except (PayloadTooLarge, Unprocessable):
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PayloadTooLarge(f"The image exceeds the {settings.max_image_mp:g} MP limit.")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise Unprocessable(f"The {kind.upper()} image could not be decoded "
                            f"({type(exc).__name__}).")
    try:
        return _to_rgb(image)
    except (OSError, ValueError) as exc:
        raise Unprocessable(f"The image could not be converted to RGB ({type(exc).__name__}).")


def _check_side(width: int, height: int, settings: Settings, what: str) -> None:
    if min(width, height) < settings.min_image_side:
        raise Unprocessable(f"{what} is {width}×{height} pixels; each side must be at least "
                            f"{settings.min_image_side} px.")


_PAGES_RE = re.compile(r"^\s*\d+\s*(-\s*\d+\s*)?(,\s*\d+\s*(-\s*\d+\s*)?)*$")


def parse_pages(spec: str | None, page_count: int) -> list[int]:
    """Parse a 1-based page selection like ``"1-3,5"`` into sorted 0-based indices.

    ``None`` or ``""`` selects every page. Raises 400 for malformed ranges, page 0, reversed
    ranges or pages past ``page_count``.
    """
    if spec is None or not str(spec).strip():
        return list(range(page_count))
    if not _PAGES_RE.match(spec):
        raise BadRequest(f"pages={spec!r} is not a page list like '1-3,5'.")
    chosen: set[int] = set()
    for part in spec.split(","):
        lo, _, hi = part.strip().partition("-")
        first, last = int(lo), int(hi or lo)
        if first < 1 or last < first:
            raise BadRequest(f"pages={spec!r}: range {part.strip()!r} is invalid.")
        if last > page_count:
            raise BadRequest(f"pages={spec!r}: the PDF has {page_count} page(s).")
        if last - first > 100_000:
            raise BadRequest(f"pages={spec!r}: range too large.")
        chosen.update(range(first - 1, last))
    return sorted(chosen)


def render_pdf(data: bytes, settings: Settings, pages: str | None = None,
               dpi: int | None = None, budget: Budget | None = None) -> list[Page]:
    """Render selected PDF pages with PyMuPDF.

    Args: ``pages`` 1-based selection (see :func:`parse_pages`); ``dpi`` render resolution
    (default ``settings.default_dpi``, at most ``settings.max_dpi``).
    Raises 422 for corrupt, encrypted or empty PDFs; 413 when more than ``max_pdf_pages``
    pages are selected or a rendered page would exceed the pixel limit, or when the selected
    pages (their sizes at ``dpi``, read before any is rendered) overrun ``budget``; 400 for
    bad options.
    """
    import pymupdf

    dpi = settings.default_dpi if dpi is None else int(dpi)
    if not 36 <= dpi <= settings.max_dpi:
        raise BadRequest(f"dpi={dpi} is outside 36–{settings.max_dpi}.")
    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except Exception as exc:  # PyMuPDF raises several private types for broken files
        raise Unprocessable(f"The PDF could not be opened ({type(exc).__name__}).")
    with doc:
        if doc.needs_pass or doc.is_encrypted:
            raise Unprocessable("The PDF is encrypted; send an unencrypted copy.")
        count = doc.page_count
        if count == 0:
            raise Unprocessable("The PDF has no pages.")
        indices = parse_pages(pages, count)
        if len(indices) > settings.max_pdf_pages:
            raise PayloadTooLarge(
                f"{len(indices)} pages selected; the limit is {settings.max_pdf_pages}. "
                "Choose fewer with `pages`, e.g. pages=1-5.")
        if budget is not None:
            try:
                sizes = [doc[i].rect for i in indices]
            except Exception as exc:
                raise Unprocessable(f"The PDF's pages could not be read ({type(exc).__name__}).")
            budget.charge(len(indices), int(sum(r.width * r.height for r in sizes)
                                            * (dpi / 72) ** 2))
        out = []
        for index in indices:
            try:
                page = doc.load_page(index)
                w_pt, h_pt = page.rect.width, page.rect.height
                if (w_pt * dpi / 72) * (h_pt * dpi / 72) > settings.max_pixels:
                    raise PayloadTooLarge(
                        f"Page {index + 1} at {dpi} dpi exceeds the "
                        f"{settings.max_image_mp:g} MP limit; lower `dpi`.")
                _check_side(round(w_pt * dpi / 72), round(h_pt * dpi / 72), settings,
                            f"Page {index + 1} at {dpi} dpi")
                pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csRGB, alpha=False)
            except (PayloadTooLarge, Unprocessable):
                raise
            except Exception as exc:
                raise Unprocessable(f"Page {index + 1} could not be rendered "
                                    f"({type(exc).__name__}).")
            _check_side(pix.width, pix.height, settings, f"Page {index + 1} at {dpi} dpi")
            arr = np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.width, pix.n)
            out.append(Page(image=np.ascontiguousarray(arr[:, :, :3]), page=index + 1, dpi=dpi))
        return out


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


def resolve_public(host: str, port: int, allow_private: bool) -> str:
    """Resolve ``host`` and return an address that may be contacted.

    Every address the name resolves to must be allowed (public unicast, unless
    ``allow_private``), so a name that also points inside cannot be used. Raises 400.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise BadRequest(f"image_url host {host!r} does not resolve.")
    addresses = []
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%")[0])
        if not _address_allowed(ip, allow_private):
            raise BadRequest("image_url points to a private, loopback, link-local, "
                             "reserved or IPv4-embedding IPv6 address; only public http(s) "
                             "URLs are fetched.")
        addresses.append(str(ip))
    if not addresses:
        raise BadRequest(f"image_url host {host!r} does not resolve.")
    return addresses[0]


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
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BadRequest("image_url must be an absolute http:// or https:// URL.")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise BadRequest("image_url has an invalid port.")
        address = resolve_public(parts.hostname, port, settings.allow_private_urls)
        timeout = urllib3.Timeout(connect=settings.url_connect_timeout_s,
                                  read=settings.url_read_timeout_s)
        host_header = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
        if parts.scheme == "https":
            pool = urllib3.HTTPSConnectionPool(address, port, timeout=timeout, retries=False,
                                               server_hostname=parts.hostname,
                                               assert_hostname=parts.hostname)
        else:
            pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
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


def decode_base64(text: str, settings: Settings) -> bytes:
    """Decode ``image_base64`` (plain or a ``data:`` URL). Raises 400 when invalid, 413 when
    the decoded bytes exceed ``max_upload_bytes``."""
    if text.startswith("data:"):
        text = text.partition(",")[2]
    text = "".join(text.split())
    if len(text) * 3 // 4 > settings.max_upload_bytes:
        raise PayloadTooLarge("image_base64 is over the upload limit.")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("image_base64 is not valid base64.")


def load_document(data: bytes, filename: str, settings: Settings, *, allow_pdf: bool,
                  pages: str | None = None, dpi: int | None = None,
                  budget: Budget | None = None) -> Document:
    """Turn raw bytes into a :class:`Document` of RGB pages (see module doc for errors),
    charging the request's ``budget`` when one is given."""
    if not data:
        raise BadRequest("The file is empty.")
    if len(data) > settings.max_upload_bytes:
        raise PayloadTooLarge(f"The file is {len(data)} bytes; the limit is "
                              f"{settings.max_upload_bytes}.")
    kind = sniff(data)
    if kind == "pdf":
        if not allow_pdf:
            raise UnsupportedMediaType("This endpoint takes images, not PDFs.")
        return Document(filename, "pdf", render_pdf(data, settings, pages, dpi, budget), data)
    if kind is None:
        raise UnsupportedMediaType(
            "The file is not a supported image (PNG, JPEG, WebP, TIFF, BMP, GIF)"
            + (" or PDF." if allow_pdf else "."))
    return Document(filename, kind, [Page(image=decode_image(data, settings, budget))])
