"""Request inputs → images: uploads, base64, URLs, PDFs; limits and the URL guard.

Every endpoint takes an image as a multipart ``file`` part, or JSON ``image_base64`` /
``image_url`` (ObjectCut's field names). The type comes from magic bytes, never the file
name. Images are returned as ``(H, W, 3)`` uint8 RGB arrays, EXIF orientation applied and
grayscale / palette / CMYK / 16-bit / alpha normalised (alpha composited over white).
PDF pages are rendered with PyMuPDF at the requested ``dpi``.

One module per concern: :mod:`.document` (pages, documents, the request budget, type
sniffing), :mod:`.decode` (images), :mod:`.pdf`, :mod:`.remote` (URLs and the SSRF guard),
:mod:`.encoded` (base64); :func:`load_document` puts them together.

Errors raised (all :mod:`api.problems`): 400 bad parameters or refused URL, 413 over a size,
pixel or page limit, 415 unsupported type, 422 undecodable image/PDF or unfetchable URL.
"""

from __future__ import annotations

from ..problems import BadRequest, PayloadTooLarge, UnsupportedMediaType
from ..settings import Settings
from .decode import decode_image, exif_orientation
from .document import IMAGE_KINDS, Budget, Document, Page, sniff
from .encoded import decode_base64
from .pdf import parse_pages, render_pdf
from .remote import fetch_url, resolve_public

__all__ = ["IMAGE_KINDS", "Budget", "Document", "Page", "decode_base64", "decode_image",
           "exif_orientation", "fetch_url", "load_document", "parse_pages", "render_pdf",
           "resolve_public", "sniff"]


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
