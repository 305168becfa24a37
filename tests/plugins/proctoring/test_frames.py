"""decode_frame: accepts JPEG/PNG base64 and data URLs, refuses everything else clearly."""
from __future__ import annotations

import base64
import os
import struct
import zlib

import cv2
import numpy as np
import pytest

from plugins.proctoring.frames import FrameError, decode_frame


def _image(width=64, height=48):
    image = np.zeros((height, width, 3), np.uint8)
    image[:, : width // 2] = (0, 0, 255)  # left half red, so decoding is checkable
    image[:, width // 2:] = (255, 0, 0)
    return image


def _encode(ext, image=None):
    ok, buf = cv2.imencode(ext, _image() if image is None else image)
    assert ok
    return buf.tobytes()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _png_with_header(width, height, idat=b"\x00" * 16):
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(idat))
            + _png_chunk(b"IEND", b""))


def _reject(payload, status, *words, **limits):
    with pytest.raises(FrameError) as info:
        decode_frame(payload, **limits)
    assert info.value.status == status, info.value.message
    for word in words:
        assert word in info.value.message.lower(), info.value.message
    return info.value


@pytest.mark.parametrize("ext", [".jpg", ".png"])
def test_decodes_jpeg_and_png_to_bgr(ext):
    image = decode_frame(_b64(_encode(ext)))
    assert image.shape == (48, 64, 3)
    assert image[10, 5, 2] > 200 and image[10, 5, 0] < 50  # red on the left (BGR order)
    assert image[10, 60, 0] > 200 and image[10, 60, 2] < 50  # blue on the right


def test_accepts_data_url_with_surrounding_whitespace():
    image = decode_frame("  data:image/jpeg;base64," + _b64(_encode(".jpg")) + "\n")
    assert image.shape == (48, 64, 3)


def test_decodes_a_real_640x480_set_frame():
    path = os.path.join(os.path.dirname(__file__), "..", "..", "data", "proctoring", "clean_astronaut_01.jpg")
    with open(path, "rb") as handle:
        image = decode_frame(_b64(handle.read()))
    assert image.shape == (480, 640, 3)


@pytest.mark.parametrize("value", [None, 123, b"abcd", ["x"]])
def test_non_string_is_400(value):
    _reject(value, 400, "string")


@pytest.mark.parametrize("value", ["", "   ", "data:image/png;base64,"])
def test_empty_is_400(value):
    _reject(value, 400, "empty")


def test_malformed_data_url_is_400():
    _reject("data:text/plain;base64," + _b64(_encode(".jpg")), 400, "data url")


@pytest.mark.parametrize("text", ["not base64 at all!", "abc", "YWJj\nZA==", "@@@@"])
def test_invalid_base64_is_400(text):
    _reject(text, 400, "base64")


def test_oversized_text_is_refused_before_decoding():
    # 40 MB of characters that are not even base64: only a length check can answer 413 here.
    _reject("!" * (40 * 1024 * 1024), 413, "larger than")


def test_decoded_size_over_limit_is_413():
    data = _encode(".png")
    # The text fits the length pre-check for max_bytes=len-1 (padding slack), the bytes do not.
    limit = len(data) - 1
    text = _b64(data)
    assert len(text) <= 4 * ((limit + 2) // 3)
    _reject(text, 413, "larger than", max_bytes=limit)


@pytest.mark.parametrize(
    "data,name",
    [
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "gif"),
        (b"BM" + b"\x00" * 60, "bmp"),
        (b"hello, this is plain text", "jpeg or png"),
    ],
)
def test_other_formats_are_400(data, name):
    error = _reject(_b64(data), 400, name)
    assert "jpeg" in error.message.lower() and "png" in error.message.lower()


def test_png_bomb_header_is_413_without_decoding():
    data = _png_with_header(100_000, 100_000)
    assert len(data) < 200  # a tiny file claiming 10 gigapixels
    _reject(_b64(data), 413, "decompression bomb", "100000x100000")


def test_png_side_over_max_side_is_413():
    _reject(_b64(_png_with_header(9000, 10)), 413, "decompression bomb")


def test_jpeg_bomb_header_is_413():
    data = bytearray(_encode(".jpg"))
    sof = data.find(b"\xff\xc0")
    assert sof > 0
    data[sof + 5:sof + 9] = struct.pack(">HH", 60000, 60000)  # height, width
    _reject(_b64(bytes(data)), 413, "decompression bomb", "60000x60000")


def test_pixel_limit_is_configurable():
    data = _encode(".jpg")
    _reject(_b64(data), 413, "decompression bomb", max_pixels=64 * 48 - 1)
    assert decode_frame(_b64(data), max_pixels=64 * 48).shape == (48, 64, 3)


def test_truncated_jpeg_is_400():
    data = _encode(".jpg", _image(320, 240))
    _reject(_b64(data[: len(data) // 2]), 400, "truncated")


def test_truncated_png_is_400():
    data = _encode(".png", _image(320, 240))
    _reject(_b64(data[: len(data) - 20]), 400, "truncated")


def test_jpeg_cut_inside_headers_is_400():
    _reject(_b64(_encode(".jpg")[:40]), 400, "truncated")


def test_corrupt_jpeg_is_400():
    data = _encode(".jpg")
    # Headers and end marker intact, image data missing: only the decoder notices.
    corrupt = data[: data.find(b"\xff\xda")] + b"\xff\xd9"
    _reject(_b64(corrupt), 400, "corrupt")


def test_corrupt_png_is_400():
    _reject(_b64(_png_with_header(64, 48, idat=b"\x07" * 5)), 400, "corrupt")


def test_png_declaring_zero_size_is_400():
    _reject(_b64(_png_with_header(0, 10)), 400, "empty")
