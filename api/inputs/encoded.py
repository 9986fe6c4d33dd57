"""``image_base64`` (plain or a ``data:`` URL) → bytes, bounded by the upload limit."""

from __future__ import annotations

import base64
import binascii

from ..problems import BadRequest, PayloadTooLarge
from ..settings import Settings


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
