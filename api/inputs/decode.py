"""Image bytes → ``(H, W, 3)`` uint8 RGB: EXIF orientation, mode normalisation, size limits."""

from __future__ import annotations

import io
import warnings

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from ..problems import PayloadTooLarge, Unprocessable, UnsupportedMediaType
from ..settings import Settings
from .document import IMAGE_KINDS, Budget, sniff


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
