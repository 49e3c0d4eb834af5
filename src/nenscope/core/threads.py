"""Two cores for one analysis: independent steps run side by side in threads.

NumPy, SciPy's ndimage filters and labelling, file reads and the first touch of fresh memory
release the GIL, so two independent whole-volume steps (smoothing the PET and resampling the
CT onto it; the two halves of a series' slices) take about the wall time of the longer one
on a 2-core machine. Results and errors are those of the same calls made one after the
other: each call's result comes back in order, and an error is that of the first failing call
in order. Workers run in a copy of the caller's context, so that
:func:`nenscope.core.diagnostics.warn` messages reach the caller's collector.
"""

from __future__ import annotations

import contextvars
import itertools
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TypeVar

from nenscope.core.errors import InvalidArgumentError

__all__ = ["THREADS", "THREADS_VARIABLE", "for_each_in_runs", "side_by_side"]

T = TypeVar("T")
U = TypeVar("U")

THREADS_VARIABLE = "NENSCOPE_THREADS"
"""Environment variable that sets the number of threads (1: every step in the calling thread,
e.g. in a Dask worker that already runs one analysis per core, or to compare timings)."""


def _threads_from_environment() -> int | str:
    text = os.environ.get(THREADS_VARIABLE, "").strip()
    if not text:
        # The cores this process may run on (a container's or taskset's share), at most 2:
        # more only contend on a 2-core machine and multiply with a Dask worker's threads.
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
        return min(2, cores or os.cpu_count() or 1)
    if text.isdigit() and int(text) >= 1:
        return int(text)
    return text


THREADS: int | str = _threads_from_environment()
"""Threads of one analysis step (see :data:`THREADS_VARIABLE`); a string is an invalid setting,
refused at the first threaded step."""


def _threads() -> int:
    if isinstance(THREADS, str):
        raise InvalidArgumentError(
            f"{THREADS_VARIABLE}={THREADS!r} is not a number of threads; set a whole number "
            "of at least 1 (1: no threads), or unset it for the default (up to 2)."
        )
    return THREADS


def side_by_side(first: Callable[[], T], second: Callable[[], U]) -> tuple[T, U]:
    """Return ``(first(), second())``, with ``second`` in a worker thread meanwhile.

    Examples
    --------
    >>> side_by_side(lambda: 1 + 1, lambda: "two")
    (2, 'two')
    """
    if _threads() < 2:
        return first(), second()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="nenscope") as pool:
        future = pool.submit(contextvars.copy_context().run, second)
        try:
            result = first()
        finally:
            wait([future])
    return result, future.result()


def for_each_in_runs(call: Callable[[int], None], n: int, *, min_run: int = 1) -> None:
    """Call ``call(i)`` for ``i`` in ``0 .. n - 1``, each thread a contiguous run of indices.

    The calling thread takes the first run; no run is shorter than ``min_run`` (a short loop
    stays in the calling thread). Each run stops at its first error, and the runs are checked
    in order: the error raised is that of the first failing index, as in a plain loop.

    Examples
    --------
    >>> seen = [0] * 100
    >>> def mark(i: int) -> None:
    ...     seen[i] += 1
    >>> for_each_in_runs(mark, 100, min_run=10)
    >>> seen == [1] * 100
    True
    """
    workers = min(_threads(), max(1, n // max(min_run, 1)))
    bounds = [n * w // workers for w in range(workers + 1)]

    def run(lo: int, hi: int) -> None:
        for i in range(lo, hi):
            call(i)

    if workers == 1:
        run(0, n)
        return
    futures: list[Future[None]] = []
    with ThreadPoolExecutor(max_workers=workers - 1, thread_name_prefix="nenscope") as pool:
        futures = [
            pool.submit(contextvars.copy_context().run, run, lo, hi)
            for lo, hi in itertools.pairwise(bounds[1:])
        ]
        try:
            run(bounds[0], bounds[1])
        finally:
            wait(futures)
    for future in futures:
        future.result()
