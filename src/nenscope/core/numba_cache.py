"""Where numba keeps its compiled kernels: the user's cache folder, never the installed package.

``numba.njit(cache=True)`` writes its cache beside the module (``__pycache__`` inside the
installed package) unless ``NUMBA_CACHE_DIR`` says otherwise: a hospital install in a
read-only or shared ``site-packages`` must neither be written into nor fail. The one call
:func:`configure_numba_cache`, made by the module that compiles the kernels before it
decorates them, points numba at :func:`numba_cache_dir`. A ``NUMBA_CACHE_DIR`` set by the
user is honoured. This module does not import numba (it sets ``numba.core.config`` only when
numba is imported already), so it stays a plain part of ``core``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

__all__ = ["CACHE_ENV", "configure_numba_cache", "numba_cache_dir"]

CACHE_ENV = "NUMBA_CACHE_DIR"
"""numba's own environment variable for its cache folder."""


def _platform_cache_root() -> Path:
    """Return the per-user cache folder of the platform (XDG on Linux)."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "nenscope" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "nenscope"
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base_path = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base_path / "nenscope"


def numba_cache_dir() -> Path:
    """Return the folder numba should cache into, creating it; a temporary one if needed.

    ``NUMBA_CACHE_DIR`` if the user set it, else ``<platform cache>/nenscope/numba``
    (``$XDG_CACHE_HOME/nenscope/numba`` or ``~/.cache/nenscope/numba`` on Linux). When that
    cannot be created (no home folder, a read-only home), a per-user folder in the system's
    temporary directory.
    """
    given = os.environ.get(CACHE_ENV, "")
    if given:
        return Path(given)
    candidates = (
        _platform_cache_root() / "numba",
        Path(tempfile.gettempdir())
        / f"nenscope-numba-{os.getuid() if hasattr(os, 'getuid') else 0}",
    )
    for folder in candidates:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            return folder
    return candidates[-1]


def configure_numba_cache() -> Path:
    """Point numba's cache at :func:`numba_cache_dir` (before any ``cache=True`` kernel).

    Sets ``NUMBA_CACHE_DIR`` for numba imports to come (and subprocesses) unless the user set
    it, and ``numba.core.config.CACHE_DIR`` when numba is imported already. Returns the folder.
    """
    folder = numba_cache_dir()
    os.environ.setdefault(CACHE_ENV, str(folder))
    config = sys.modules.get("numba.core.config")
    if config is not None and not getattr(config, "CACHE_DIR", ""):
        config.CACHE_DIR = str(folder)  # type: ignore[attr-defined]  # numba's module global
    return folder
