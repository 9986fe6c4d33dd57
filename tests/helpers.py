"""What several test modules share: problem+json checks, builders of hostile inputs and
multipart bodies (no test module imports another)."""

from __future__ import annotations

import io
import random
import socket
import struct
import uuid
import zlib

import numpy as np
import pymupdf
from PIL import Image

#: Real stamp pages of ../shared/data with hand boxes in tests/data/stamps_truth.json.
STAVER = [f"eval/stamps/staver_image_{i}.png" for i in (1, 2, 3, 5, 6)]
FAKTURA = "eval/stamps/mullevik_stamps_faktura-237279.jpg"
#: (page, stamp index) of every stamp whose ring or frame must be whole: StaVer's round seals
#: and the faktura page's ZAPLATENÉ (pink) and ATLANTIS (black) stamps, as the issue names.
WHOLE = [(rel, 0) for rel in STAVER] + [(FAKTURA, 0), (FAKTURA, 1)]
#: pixels: the hand boxes are read on 10 px grids; antialiased ring edges are 1–3 px.
SLACK = 4


def exif_jpeg(entries: list[tuple[int, int, int, bytes]], size=(16, 12),
              image: Image.Image | None = None) -> bytes:
    """A JPEG of ``image`` (default: a small grey one of ``size``) whose EXIF block holds
    ``entries`` ``(tag, type, count, payload)`` exactly as given — types and counts need not
    agree with the payload (little-endian TIFF, one IFD; payloads over 4 bytes stored after).
    """
    ifd = struct.pack("<H", len(entries))
    data_off = 8 + 2 + 12 * len(entries) + 4
    extra = b""
    for tag, typ, count, payload in entries:
        if len(payload) <= 4:
            ifd += struct.pack("<HHI", tag, typ, count) + payload.ljust(4, b"\0")
        else:
            ifd += struct.pack("<HHII", tag, typ, count, data_off + len(extra))
            extra += payload
    tiff = b"II*\0" + struct.pack("<I", 8) + ifd + b"\0\0\0\0" + extra
    buf = io.BytesIO()
    image = image or Image.fromarray(np.full((size[1], size[0], 3), 128, np.uint8))
    image.save(buf, "JPEG", exif=b"Exif\0\0" + tiff)
    return buf.getvalue()


#: Orientation 6 (rotate) with the DateTime tag declared RATIONAL: Pillow's exif_transpose
#: raised AttributeError on it (679 bytes in the issue's report).
BAD_EXIF = [(0x0112, 3, 1, struct.pack("<H", 6)), (0x0132, 5, 1, b"\x01\0\0\0\x02\0\0\0")]


def random_exif(rng: random.Random) -> list[tuple[int, int, int, bytes]]:
    """An Orientation entry plus up to six entries of random tag, type, count and bytes."""
    entries = [(0x0112, 3, 1, struct.pack("<H", rng.randint(0, 9)))]
    for _ in range(rng.randint(0, 6)):
        tag = rng.choice([0x0132, 0x010F, 0x0110, 0x8769, 0x8825, 0x0131, 0x9003, 0x0112,
                          0x011A, 0x0128, rng.randrange(65536)])
        count = rng.choice([0, 1, 2, 4, 20, 2 ** 31, rng.randrange(2 ** 32)])
        payload = bytes(rng.randrange(256) for _ in range(rng.choice([0, 2, 4, 8, 24])))
        entries.append((tag, rng.randint(0, 14), count, payload))
    rng.shuffle(entries)
    return entries


def tiff_tile_bomb(side: int = 64, tile: int = 40000, data_bytes: int | None = None) -> bytes:
    """A grey TIFF declaring a ``side × side`` image stored in one ``tile × tile`` Deflate tile
    of zeros. ``data_bytes`` None compresses the whole tile (1.5 MB for 40,000², ~6 s to
    build: libtiff would inflate it to 1.6 GB); a number stores only that many zeros."""
    total = tile * tile if data_bytes is None else data_bytes
    comp, parts, zero = zlib.compressobj(9), [], bytes(1 << 24)
    while total > 0:
        n = min(len(zero), total)
        parts.append(comp.compress(zero[:n]))
        total -= n
    data = b"".join(parts) + comp.flush()
    tags = [(256, 4, side), (257, 4, side), (258, 3, 8), (259, 3, 8), (262, 3, 1), (277, 3, 1),
            (322, 4, tile), (323, 4, tile), (324, 4, 0), (325, 4, len(data))]
    data_off = 8 + 2 + 12 * len(tags) + 4
    out = b"II*\0" + struct.pack("<I", 8) + struct.pack("<H", len(tags))
    for tag, typ, value in tags:
        value = data_off if tag == 324 else value
        packed = struct.pack("<I", value) if typ == 4 else struct.pack("<HH", value, 0)
        out += struct.pack("<HHI", tag, typ, 1) + packed
    return out + b"\0\0\0\0" + data


def thin_pdf(width_pt: float = 14400, height_pt: float = 3) -> bytes:
    """A one-page PDF whose MediaBox is ``width_pt × height_pt`` (the issue's was 615 bytes)."""
    doc = pymupdf.open()
    doc.new_page(width=width_pt, height=height_pt)
    return doc.tobytes()


def png(array: np.ndarray) -> bytes:
    """PNG bytes of a uint8 array."""
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "PNG")
    return buf.getvalue()


def nested_xobject_pdf(depth: int = 9, fanout: int = 10) -> bytes:
    """A one-page PDF whose content draws Form XObject 1, which draws XObject 2 ``fanout``
    times, and so on ``depth`` levels down to a filled square: ``fanout ** depth`` draws
    from ~2.6 kB (it held MuPDF for minutes and 6 GB)."""
    objects = []  # (number, body bytes)
    first = 4
    for level in range(depth):
        number = first + level
        if level == depth - 1:
            stream = b"0 0 1 1 re f"
            resources = b""
        else:
            stream = b" ".join(b"q 1 0 0 1 0.01 0.01 cm /X Do Q" for _ in range(fanout))
            resources = b"/Resources << /XObject << /X %d 0 R >> >>" % (number + 1)
        objects.append((number, b"<< /Type /XObject /Subtype /Form /BBox [0 0 100 100] %s "
                                b"/Length %d >>\nstream\n%s\nendstream" % (resources, len(stream),
                                                                         stream)))
    page_stream = b"/X Do"
    objects = [(1, b"<< /Type /Catalog /Pages 2 0 R >>"),
               (2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
               (3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Resources << "
                   b"/XObject << /X %d 0 R >> >> /Contents %d 0 R >>" % (first, first + depth)),
               *objects,
               (first + depth, b"<< /Length %d >>\nstream\n%s\nendstream" % (len(page_stream),
                                                                           page_stream))]
    out, offsets = b"%PDF-1.7\n", {}
    for number, body in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1)
    out += b"".join(b"%010d 00000 n \n" % offsets[n] for n in sorted(offsets))
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(offsets) + 1,
                                                                                xref)
    return out


def raw_http(port: int, request: bytes, host: str = "127.0.0.1") -> bytes:
    """Send ``request`` bytes as they are to ``host:port`` and return all that comes back."""
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(request)
        out = b""
        while chunk := sock.recv(65536):
            out += chunk
    return out


def assert_problem(response, status: int):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    text = response.text
    assert "Traceback" not in text and "/work" not in text and ".py" not in text
    return body


def huge_png_header(width: int, height: int) -> bytes:
    """A valid PNG signature + IHDR claiming width×height, with a tiny IDAT: a pixel bomb."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def multipart(fields: dict, files: dict | list) -> tuple[bytes, str]:
    """A multipart body; ``files`` maps part name → (filename, bytes), or is a list of
    (name, (filename, bytes)) pairs when a name repeats."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n".encode())
    for name, (filename, data) in (files.items() if isinstance(files, dict) else files):
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
                     .encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
