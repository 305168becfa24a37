"""Decode a client-supplied webcam frame (base64 JPEG/PNG) safely.

Everything a client can get wrong is refused with a :class:`FrameError` that carries an
HTTP status (400 for malformed input, 413 for input that is too large) and a message a
client can act on. Sizes are checked before any expensive work: the base64 text length
before decoding it, and the image dimensions (read from the PNG IHDR chunk or the JPEG
SOFn segment) before handing the bytes to OpenCV, so a small file that claims a huge
canvas (a "decompression bomb") never gets decoded.
"""
from __future__ import annotations

import base64
import binascii
import re
import struct

import cv2
import numpy as np

from core.errors import GradedInputError

DEFAULT_MAX_BYTES = 2 * 1024 * 1024
DEFAULT_MAX_PIXELS = 4096 * 4096
DEFAULT_MAX_SIDE = 8192

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SOI = b"\xff\xd8\xff"
_JPEG_EOI = b"\xff\xd9"
_DATA_URL = re.compile(r"^data:image/[A-Za-z0-9.+-]+;base64,", re.IGNORECASE)

# SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG extension) and CC (DAC) share the range.
_JPEG_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers that stand alone, without a length field.
_JPEG_STANDALONE = frozenset(range(0xD0, 0xD8)) | {0x01}

# Names for formats we recognise only to say clearly that they are not accepted.
_OTHER_SIGNATURES = (
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
    (b"RIFF", "RIFF/WebP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)


class FrameError(GradedInputError):
    """A frame that cannot be accepted: 400, or 413 when it is too large."""


def decode_frame(
    frame_data: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_side: int = DEFAULT_MAX_SIDE,
) -> np.ndarray:
    """Decode base64 (raw or ``data:image/...;base64,`` URL) JPEG/PNG text to a BGR image.

    Raises :class:`FrameError` (status 400 or 413) for anything that is not a complete,
    reasonably sized JPEG or PNG.
    """
    raw = _decode_base64(frame_data, max_bytes)
    kind = _sniff_format(raw)
    width, height = _png_size(raw) if kind == "PNG" else _jpeg_size(raw)
    if width <= 0 or height <= 0:
        raise FrameError(f"{kind} header declares an empty image ({width}x{height})", 400)
    if width > max_side or height > max_side or width * height > max_pixels:
        raise FrameError(
            f"{kind} header declares {width}x{height} pixels, over the limit of "
            f"{max_pixels} pixels and {max_side} per side (decompression bomb refused)",
            413,
        )
    _require_complete(raw, kind)
    image = cv2.imdecode(np.frombuffer(raw, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise FrameError(f"frame is a corrupt {kind} image that cannot be decoded", 400)
    return image


def _decode_base64(frame_data: object, max_bytes: int) -> bytes:
    if not isinstance(frame_data, str):
        raise FrameError("frameData must be a base64-encoded string", 400)
    text = frame_data.strip()
    match = _DATA_URL.match(text)
    if match:
        text = text[match.end():]
    elif text[:5].lower() == "data:":
        raise FrameError(
            "frameData data URL must look like data:image/<type>;base64,<data>", 400
        )
    if not text:
        raise FrameError("frameData is empty", 400)
    # 4 base64 characters carry 3 bytes: refuse oversized text before decoding it.
    if len(text) > 4 * ((max_bytes + 2) // 3):
        raise FrameError(f"frame is larger than the limit of {max_bytes} bytes", 413)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise FrameError("frameData is not valid base64", 400) from None
    if len(raw) > max_bytes:
        raise FrameError(f"frame is larger than the limit of {max_bytes} bytes", 413)
    if not raw:
        raise FrameError("frameData is empty", 400)
    return raw


def _sniff_format(raw: bytes) -> str:
    if raw.startswith(_PNG_SIGNATURE):
        return "PNG"
    if raw.startswith(_JPEG_SOI):
        return "JPEG"
    for signature, name in _OTHER_SIGNATURES:
        if raw.startswith(signature):
            raise FrameError(f"frame is a {name} image; only JPEG and PNG are accepted", 400)
    raise FrameError("frame is not a JPEG or PNG image", 400)


def _png_size(raw: bytes) -> tuple[int, int]:
    # The IHDR chunk must come first: length(4) type(4) width(4) height(4) ...
    header = raw[8:24]
    if len(header) < 16 or header[4:8] != b"IHDR":
        raise FrameError("PNG is truncated or corrupt: IHDR header missing", 400)
    return struct.unpack(">II", header[8:16])


def _jpeg_size(raw: bytes) -> tuple[int, int]:
    """Walk the JPEG marker segments up to the first SOFn and return (width, height)."""
    pos, end = 2, len(raw)
    while pos < end:
        if raw[pos] != 0xFF:
            raise FrameError("JPEG is corrupt: bad marker structure before the frame header", 400)
        while pos < end and raw[pos] == 0xFF:  # fill bytes may pad a marker
            pos += 1
        if pos >= end:
            break
        marker = raw[pos]
        pos += 1
        if marker in _JPEG_STANDALONE:
            continue
        if marker in (0xD9, 0xDA):  # EOI or start of scan before any frame header
            raise FrameError("JPEG is corrupt: no frame header before the image data", 400)
        if pos + 2 > end:
            break
        (length,) = struct.unpack(">H", raw[pos:pos + 2])
        if length < 2:
            raise FrameError("JPEG is corrupt: invalid segment length", 400)
        if marker in _JPEG_SOF_MARKERS:
            if pos + 7 > end:
                break
            height, width = struct.unpack(">HH", raw[pos + 3:pos + 7])
            return width, height
        pos += length
    raise FrameError("JPEG is truncated: frame header missing", 400)


def _require_complete(raw: bytes, kind: str) -> None:
    if kind == "JPEG":
        # Some encoders pad after EOI; tolerate trailing zero bytes only.
        if not raw.rstrip(b"\x00").endswith(_JPEG_EOI):
            raise FrameError("JPEG is truncated: end-of-image marker missing", 400)
    elif b"IEND" not in raw[-64:]:
        raise FrameError("PNG is truncated: IEND chunk missing", 400)
