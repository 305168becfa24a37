"""Where the shipped defaults in ``config/`` live once installed.

``config/`` at the top of the source tree is installed as the package ``interviewminds_config``
(``package_dir`` in setup.py), so a wheel carries it and a server started from any directory
finds it. An operator's file, named by a setting, always wins.
"""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

CONFIG_PACKAGE = "interviewminds_config"


def config_path(override: str | Path | None, name: str) -> Path:
    """The operator's ``override`` if set, else the shipped default ``config/<name>``."""
    if override:
        return Path(override)
    return Path(str(files(CONFIG_PACKAGE) / name))
