"""What decoded inputs are: :class:`Page`, :class:`Document`, the request :class:`Budget`, and
type sniffing from magic bytes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..problems import PayloadTooLarge
from ..settings import Settings

IMAGE_KINDS = ("png", "jpeg", "webp", "tiff", "bmp", "gif")


@dataclass
class Page:
    """One image to process: ``image`` ``(H, W, 3)`` uint8 RGB; ``page`` 1-based index in its
    file of ``page_count`` pages; ``dpi`` the render resolution for PDF pages (``None`` for
    images)."""

    image: np.ndarray
    page: int = 1
    dpi: int | None = None
    page_count: int = 1


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
