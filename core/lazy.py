"""Modules imported on first use, for heavy libraries most processes never call.

OpenCV and NumPy take about 0.15 s to import (a third of building an app with every
first-party plugin), yet only a request that analyses a frame, audio or a multimodal payload,
or the proctoring health check, uses them. A plugin module writes::

    from core.lazy import lazy_module

    cv2 = lazy_module("cv2")
    np = lazy_module("numpy")

and uses ``cv2.imdecode(...)`` / ``np.asarray(...)`` as usual; the real import happens at the
first attribute access (thread-safe: Python's import lock). Annotations such as
``np.ndarray`` cost nothing under ``from __future__ import annotations``; a module-level
constant built with the library would import it at once, so build those in functions.
``tests/security/test_lazy_imports.py`` checks that building an app with every plugin imports
neither library.

Why not ``importlib.util.LazyLoader`` (which also works with OpenCV): it puts a placeholder
into ``sys.modules`` for every importer in the process. This proxy is private to the modules
that ask for it, so other libraries get the real module unchanged and ``"cv2" in sys.modules``
stays a true sign that OpenCV was really imported (what the test above checks).
"""
from __future__ import annotations

import importlib
import sys
from types import ModuleType


class LazyModule:
    """Stands for module ``name`` until an attribute is read, then forwards to it."""

    __slots__ = ("_name", "_module")

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_module", None)

    def _load(self) -> ModuleType:
        module = self._module
        if module is None:
            module = importlib.import_module(self._name)
            object.__setattr__(self, "_module", module)
        return module

    def __getattr__(self, attr: str):
        return getattr(self._load(), attr)

    def __setattr__(self, attr: str, value) -> None:
        setattr(self._load(), attr, value)

    def __repr__(self) -> str:
        state = "loaded" if self._module is not None else "not loaded yet"
        return f"<lazy module {self._name!r} ({state})>"


def lazy_module(name: str):
    """Module ``name``: the module itself when already imported, else a :class:`LazyModule`."""
    return sys.modules.get(name) or LazyModule(name)
