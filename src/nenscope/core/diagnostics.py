"""Warnings that an analysis returns instead of printing, without process-global state.

``warnings.catch_warnings`` swaps the module-global filters of the :mod:`warnings` module, so
two analyses running in two threads (FastAPI workers, Dask threads) would lose or steal each
other's warnings. nenscope's own readers therefore report a deviation through :func:`warn`:
inside :func:`collect_warnings` (which a pipeline stage opens) the message goes to that
collector, which belongs to the current thread or asyncio task only (a
:class:`contextvars.ContextVar`); outside one it is an ordinary :func:`warnings.warn`, so a
caller of the reader on its own still sees it.

Libraries (highdicom, pydicom) warn through the :mod:`warnings` module only; the few blocks
that call them where a warning must become report text use :func:`capture_library_warnings`,
those that drop or count them :func:`suppress_library_warnings` /
:func:`record_library_warnings` (``dicom/_io.quiet_pydicom``, ``deidentify_folder``); all
three hold one lock for the block, so that two threads never interleave the module's global
state.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from nenscope.core.errors import WorkbenchWarning

__all__ = [
    "capture_library_warnings",
    "collect_warnings",
    "record_library_warnings",
    "suppress_library_warnings",
    "warn",
]

_COLLECTOR: ContextVar[list[str] | None] = ContextVar("nenscope_warning_collector", default=None)
"""The open collector of the current thread / task (``None``: warn normally)."""


def warn(message: str, category: type[Warning] = WorkbenchWarning, *, stacklevel: int = 1) -> None:
    """Report a warning to the open collector of this context, or warn normally.

    Parameters
    ----------
    message
        The warning text (what was accepted, on which input, and what it means).
    category
        Warning class used when no collector is open.
    stacklevel
        As for :func:`warnings.warn`, counted from the caller of this function.
    """
    collector = _COLLECTOR.get()
    if collector is None:
        warnings.warn(message, category, stacklevel=stacklevel + 1)
    elif message not in collector:
        collector.append(message)


@contextmanager
def collect_warnings() -> Iterator[list[str]]:
    """Collect the :func:`warn` messages of this thread / task in the yielded list.

    Examples
    --------
    >>> with collect_warnings() as caught:
    ...     warn("height estimated")
    >>> caught
    ['height estimated']
    """
    collected: list[str] = []
    token = _COLLECTOR.set(collected)
    try:
        yield collected
    finally:
        _COLLECTOR.reset(token)


_LIBRARY_LOCK = threading.RLock()
"""Serialises :func:`capture_library_warnings` blocks (``warnings.catch_warnings`` swaps the
module-global filters and is not thread-safe)."""


@contextmanager
def capture_library_warnings() -> Iterator[None]:
    """Turn the warnings a library raises inside the block into :func:`warn` messages.

    The block runs under a process-wide lock (one thread at a time): use it around a call into
    a library that can only warn through the :mod:`warnings` module (highdicom's person-name
    check when writing a DICOM SEG), not around long computations.
    """
    with _LIBRARY_LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for item in caught:
        warn(" ".join(str(item.message).split()), item.category)


@contextmanager
def suppress_library_warnings() -> Iterator[None]:
    """Drop the warnings a library raises inside the block (under the same process-wide lock).

    For readers that report what matters themselves (pydicom's value-validation warnings on
    a tolerant read). Holding the lock means that two threads never interleave the swaps of
    the module's global filters, which would otherwise leave them silenced for good.
    """
    with _LIBRARY_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@contextmanager
def record_library_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Record (and keep from showing) the warnings a library raises inside the block.

    The caller decides what to do with them (count them, say them without their values);
    under the same process-wide lock as :func:`capture_library_warnings`.
    """
    with _LIBRARY_LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught
