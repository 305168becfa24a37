"""Private files that several processes may create at once (dev signing key, dev encryption key)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable


def read_or_create_private(path: str | os.PathLike, make: Callable[[], bytes]) -> bytes:
    """The bytes in ``path``; if it is missing, create it (mode 0600) with ``make()`` first.

    Creation is atomic: the content goes to a private temp file that is hard-linked into place,
    so when a web app and a worker start together both read the same complete file.
    """
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")  # created 0600
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(make())
            try:
                os.link(temp, path)
            except FileExistsError:
                pass  # another process won the race; use its file
        finally:
            os.unlink(temp)
    return path.read_bytes()
