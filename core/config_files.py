"""Where the shipped defaults in ``config/`` live once installed.

``config/`` at the top of the source tree is installed as the package ``interviewminds_config``
(``package_dir`` in setup.py), so a wheel carries it and a server started from any directory
finds it. An operator's file, named by a setting, always wins.
"""
from __future__ import annotations

import tomllib
from importlib.resources import files
from pathlib import Path

CONFIG_PACKAGE = "interviewminds_config"


def config_path(override: str | Path | None, name: str) -> Path:
    """The operator's ``override`` if set, else the shipped default ``config/<name>``."""
    if override:
        return Path(override)
    return Path(str(files(CONFIG_PACKAGE) / name))


def read_override_table(path: str | Path, table: str, error: type[Exception], hint: str) -> dict:
    """The one ``[table]`` of an operator's TOML overrides file (empty when absent).

    A file that cannot be read, is not TOML, or has other tables raises ``error`` naming it.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise error(f"{path}: cannot be read: {exc.strerror}") from None
    unknown = sorted(set(data) - {table})
    if unknown:
        raise error(f"{path}: unknown table [{unknown[0]}] ({hint})")
    return data.get(table, {})
