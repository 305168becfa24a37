"""Finding 9: frame CPU amplification. Small files whose header declares many pixels, a wide aspect,
16-bit samples or many scans must be refused from the header, before OpenCV decodes anything, and
a frame larger than the analysis size is decoded reduced. Normal frames decode as before."""
from __future__ import annotations

import base64
import struct
import zlib

import cv2
import numpy as np
import pytest

from plugins.proctoring import frames
from plugins.proctoring.frames import FrameError, decode_frame

DATA = "tests/data/proctoring/clean_astronaut_02.jpg"  # a 640x480 webcam frame with one face
# The app passes its settings; their defaults are these (test_the_apps_defaults_are_the_modules).
APP_LIMITS = {"max_bytes": frames.DEFAULT_MAX_BYTES, "max_pixels": frames.DEFAULT_MAX_PIXELS,
              "max_side": frames.DEFAULT_MAX_SIDE}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def png(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    assert ok
    return buf.tobytes()


def jpeg(image: np.ndarray, progressive: bool = False) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85, cv2.IMWRITE_JPEG_PROGRESSIVE, int(progressive)])
    assert ok
    return buf.tobytes()


def webcam(width: int, height: int) -> np.ndarray:
    return cv2.resize(cv2.imread(DATA), (width, height), interpolation=cv2.INTER_AREA)


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def sixteen_bit_rgba_png(width: int, height: int) -> bytes:
    """A 16-bit RGBA PNG of zeros, written by hand so that its size stays small at any width."""
    ihdr = struct.pack(">IIBBBBB", width, height, 16, 6, 0, 0, 0)
    row = b"\x00" + b"\x00" * (width * 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


@pytest.fixture
def no_decoding(monkeypatch):
    """cv2.imdecode must not run: the header alone decides."""
    def refuse(*args, **kwargs):
        raise AssertionError("cv2.imdecode was called for a frame the header should have refused")

    monkeypatch.setattr(frames.cv2, "imdecode", refuse)


def refused(payload: str, status: int, *words: str, **limits) -> FrameError:
    with pytest.raises(FrameError) as info:
        decode_frame(payload, **(limits or APP_LIMITS))
    assert info.value.status == status, info.value.message
    for word in words:
        assert word in info.value.message.lower(), info.value.message
    return info.value


def test_the_reviewers_16_bit_rgba_4096_png_is_refused_from_its_header(no_decoding):
    data = sixteen_bit_rgba_png(4096, 4096)
    assert len(data) < 200_000  # about 130 KB, as reported
    refused(b64(data), 413, "4096x4096")


def test_a_16_bit_png_of_normal_size_is_refused_as_16_bit(no_decoding):
    refused(b64(sixteen_bit_rgba_png(640, 480)), 400, "16-bit", "8-bit")
    refused(b64(png(np.zeros((480, 640, 3), np.uint16))), 400, "16-bit")


def test_an_8_bit_4096x4096_rgba_png_is_over_the_apps_pixel_limit(no_decoding):
    refused(b64(png(np.zeros((4096, 4096, 4), np.uint8))), 413, "decompression bomb")


def test_the_reviewers_640x8192_jpeg_is_refused(no_decoding):
    refused(b64(jpeg(np.zeros((8192, 640, 3), np.uint8))), 413, "640x8192")


def test_a_narrow_frame_within_the_pixel_limit_is_refused_for_its_aspect_ratio(no_decoding):
    refused(b64(jpeg(np.zeros((2400, 400, 3), np.uint8))), 400, "aspect ratio")
    refused(b64(png(np.zeros((10, 1000, 3), np.uint8))), 400, "aspect ratio")


def test_twelve_bit_and_lossless_jpeg_are_refused_from_the_header(no_decoding):
    data = jpeg(webcam(64, 48))
    sof = data.find(b"\xff\xc0")
    twelve = bytearray(data)
    twelve[sof + 4] = 12  # the precision byte of SOF0
    refused(b64(bytes(twelve)), 400, "12-bit", "8-bit")
    lossless = bytearray(data)
    lossless[sof + 1] = 0xC3
    refused(b64(bytes(lossless)), 400, "baseline or progressive")


def test_a_jpeg_with_hundreds_of_scans_is_refused(no_decoding):
    data = jpeg(webcam(64, 48), progressive=True)
    last_scan = data.rfind(b"\xff\xda")
    scan = data[last_scan:data.rfind(b"\xff\xd9")]
    padded = data[:last_scan] + scan * 300 + b"\xff\xd9"
    refused(b64(padded), 400, "scans")


def test_a_frame_larger_than_the_analysis_size_is_decoded_reduced(monkeypatch):
    calls = []
    real = cv2.imdecode

    def recording(buf, flag):
        calls.append(flag)
        return real(buf, flag)

    monkeypatch.setattr(frames.cv2, "imdecode", recording)
    image = decode_frame(b64(jpeg(webcam(2560, 1440))), **APP_LIMITS)
    assert calls == [cv2.IMREAD_REDUCED_COLOR_2]
    assert image.shape == (720, 1280, 3)
    assert decode_frame(b64(jpeg(webcam(1920, 1080))), **APP_LIMITS).shape == (540, 960, 3)


@pytest.mark.parametrize("size", [(640, 480), (1280, 720), (480, 640)])
def test_normal_frames_decode_whole_and_unchanged(size):
    data = jpeg(webcam(*size))
    image = decode_frame(b64(data), **APP_LIMITS)
    assert image.shape == (size[1], size[0], 3)
    assert np.array_equal(image, cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR))


def test_the_set_frame_decodes_exactly_as_before():
    with open(DATA, "rb") as handle:
        data = handle.read()
    image = decode_frame(b64(data), **APP_LIMITS)
    assert np.array_equal(image, cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR))


def test_the_apps_defaults_are_the_modules():
    from plugins.proctoring.config import SETTINGS

    defaults = {s.name: s.default for s in SETTINGS}
    assert (defaults["frame.max_bytes"], defaults["frame.max_pixels"], defaults["frame.max_side"]) == (
        frames.DEFAULT_MAX_BYTES, frames.DEFAULT_MAX_PIXELS, frames.DEFAULT_MAX_SIDE)
    assert defaults["frame.max_pixels"] < 4096 * 4096 and defaults["frame.max_side"] < 8192
