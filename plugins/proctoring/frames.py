"""Decode a client-supplied webcam frame (base64 JPEG/PNG) safely.

Everything a client can get wrong is refused with a :class:`FrameError` that carries an
HTTP status (400 for malformed input, 413 for input that is too large) and a message a
client can act on. Sizes are checked before any expensive work: the base64 text length
before decoding it, and the image header (the PNG IHDR chunk or the JPEG SOFn segment)
before handing the bytes to OpenCV, so a small file that claims a huge canvas (a
"decompression bomb") never gets decoded.

Decoding cost grows with the pixel count, the bit depth and (for progressive JPEG) the
number of scans, not with the file size, so a 130 KB file can cost ten normal frames. From
the header alone, before decoding:

- width x height at most ``max_pixels`` (default 2560x1440) and each side at most
  ``max_side`` (4096): 413;
- aspect ratio at most :data:`MAX_ASPECT` (4:1 either way; webcams send 4:3 to 16:9): 400;
- 8 bits per sample: 16-bit PNG and 12-bit JPEG are refused (400); JPEG must be baseline,
  extended or progressive (SOF0-SOF2) with 1 or 3 components and at most :data:`MAX_JPEG_SCANS`
  scans (400).

A JPEG larger than the analysis size (:data:`ANALYSIS_SIZE`, 640x480: the analysis itself
works on a 320-pixel-wide copy) is decoded reduced, with ``cv2.IMREAD_REDUCED_COLOR_2/4/8``
(libjpeg scales while decoding, so a 2560x1440 frame costs about a 1280x720 one): the largest
factor that keeps the image at least 640x480 (long side x short side). Frames up to 1279 pixels
wide, the usual webcam frames, are decoded whole as before, so their analysis is unchanged.
PNG has no reduced decoding (OpenCV decodes it whole, then resizes); the pixel cap bounds it.
"""
from __future__ import annotations

import base64
import binascii
import re
import struct

from core.lazy import lazy_module

cv2 = lazy_module("cv2")  # imported on first use: most processes never need it
np = lazy_module("numpy")

from core.errors import GradedInputError

DEFAULT_MAX_BYTES = 2 * 1024 * 1024
DEFAULT_MAX_PIXELS = 2560 * 1440
DEFAULT_MAX_SIDE = 4096
#: Widest accepted ratio of the long side to the short side.
MAX_ASPECT = 4.0
#: Most scans (SOS segments) a JPEG may have; a progressive libjpeg file has about 10.
MAX_JPEG_SCANS = 32
#: (long side, short side) a reduced JPEG decode never goes below.
ANALYSIS_SIZE = (640, 480)
# Names, not values: cv2 is imported on first use (core.lazy), not when this module is.
_REDUCED = ((8, "IMREAD_REDUCED_COLOR_8"), (4, "IMREAD_REDUCED_COLOR_4"), (2, "IMREAD_REDUCED_COLOR_2"))

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SOI = b"\xff\xd8\xff"
_JPEG_EOI = b"\xff\xd9"
_DATA_URL = re.compile(r"^data:image/[A-Za-z0-9.+-]+;base64,", re.IGNORECASE)

# SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG extension) and CC (DAC) share the range.
_JPEG_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Accepted: baseline, extended sequential and progressive Huffman (what cameras and browsers write).
# Lossless, hierarchical and arithmetic-coded JPEG are refused.
_JPEG_ACCEPTED_SOF = {0xC0: "baseline", 0xC1: "extended", 0xC2: "progressive"}
_JPEG_SOS = b"\xff\xda"
# PNG colour types and the bit depths the PNG spec allows for each; only depths <= 8 are accepted.
_PNG_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
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
    header = _png_header(raw) if kind == "PNG" else _jpeg_header(raw)
    width, height = header.width, header.height
    if width <= 0 or height <= 0:
        raise FrameError(f"{kind} header declares an empty image ({width}x{height})", 400)
    if width > max_side or height > max_side or width * height > max_pixels:
        raise FrameError(
            f"{kind} header declares {width}x{height} pixels, over the limit of "
            f"{max_pixels} pixels and {max_side} per side (decompression bomb refused)",
            413,
        )
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise FrameError(
            f"{kind} header declares {width}x{height} pixels: aspect ratio over {MAX_ASPECT:g}:1 "
            "(send the camera frame as captured)",
            400,
        )
    if header.problem:
        raise FrameError(f"{kind} {header.problem}", 400)
    _require_complete(raw, kind)
    if kind == "JPEG":
        scans = raw.count(_JPEG_SOS)  # entropy-coded data escapes 0xFF, so each one is a real marker
        if scans > MAX_JPEG_SCANS:
            raise FrameError(f"JPEG has {scans} scans, over the limit of {MAX_JPEG_SCANS}", 400)
    image = cv2.imdecode(np.frombuffer(raw, dtype=np.uint8), _read_flag(kind, width, height))
    if image is None or image.size == 0:
        raise FrameError(f"frame is a corrupt {kind} image that cannot be decoded", 400)
    return image


class _Header:
    """What the image header declares: size, and why the format is refused (``problem``) if it is."""

    __slots__ = ("width", "height", "problem")

    def __init__(self, width: int, height: int, problem: str | None = None) -> None:
        self.width, self.height, self.problem = width, height, problem


def _read_flag(kind: str, width: int, height: int) -> int:
    """``cv2.IMREAD_REDUCED_COLOR_<n>`` for a JPEG at least n times the analysis size, else
    ``cv2.IMREAD_COLOR``."""
    if kind == "JPEG":
        long_side, short_side = max(width, height), min(width, height)
        for factor, flag in _REDUCED:
            if long_side // factor >= ANALYSIS_SIZE[0] and short_side // factor >= ANALYSIS_SIZE[1]:
                return getattr(cv2, flag)
    return cv2.IMREAD_COLOR


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


def _png_header(raw: bytes) -> _Header:
    # The IHDR chunk must come first: length(4) type(4) width(4) height(4) depth(1) colour type(1) ...
    header = raw[8:26]
    if len(header) < 18 or header[4:8] != b"IHDR":
        raise FrameError("PNG is truncated or corrupt: IHDR header missing", 400)
    width, height, depth, colour = struct.unpack(">IIBB", header[8:18])
    if depth not in _PNG_DEPTHS.get(colour, ()):
        return _Header(width, height, f"header declares bit depth {depth} with colour type {colour}, "
                                      "which is not a valid PNG")
    if depth > 8:
        return _Header(width, height, f"is {depth}-bit per sample; only 8-bit (or less) PNG is accepted")
    return _Header(width, height)


def _jpeg_header(raw: bytes) -> _Header:
    """Walk the JPEG marker segments up to the first SOFn: its size, precision and components."""
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
            if pos + 8 > end:
                break
            precision = raw[pos + 2]
            height, width = struct.unpack(">HH", raw[pos + 3:pos + 7])
            components = raw[pos + 7]
            if marker not in _JPEG_ACCEPTED_SOF:
                return _Header(width, height, f"uses frame type SOF{marker - 0xC0} (lossless, hierarchical or "
                                              "arithmetic-coded); only baseline or progressive JPEG is accepted")
            if precision != 8:
                return _Header(width, height, f"is {precision}-bit per sample; only 8-bit JPEG is accepted")
            if components not in (1, 3):
                return _Header(width, height, f"has {components} colour components; only grayscale or "
                                              "colour (YCbCr) JPEG is accepted")
            return _Header(width, height)
        pos += length
    raise FrameError("JPEG is truncated: frame header missing", 400)


def _require_complete(raw: bytes, kind: str) -> None:
    if kind == "JPEG":
        # Some encoders pad after EOI; tolerate trailing zero bytes only.
        if not raw.rstrip(b"\x00").endswith(_JPEG_EOI):
            raise FrameError("JPEG is truncated: end-of-image marker missing", 400)
    elif b"IEND" not in raw[-64:]:
        raise FrameError("PNG is truncated: IEND chunk missing", 400)
