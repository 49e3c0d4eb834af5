"""Where a cohort runs: the cluster's description, Dask's quiet settings, the workers' fork server.

Imports only the standard library (and dask once a cluster starts), so that ``nenscope cohort
run`` can start the local workers' fork server (:func:`worker_fork_server`) before anything
else: the server's import of the analysis stack is what the first study waits for.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from nenscope.cohort.errors import CohortError

__all__ = [
    "FORK_SERVER_PRELOAD",
    "QUIET_DASK_CONFIG",
    "ClusterSpec",
    "analysis_threads_environ",
    "worker_fork_server",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterSpec:
    """Where the work runs: a local cluster of ``workers`` processes, or ``scheduler``.

    Parameters
    ----------
    workers
        Worker processes of the local cluster (one thread each).
    scheduler
        Address of a running Dask scheduler (``tcp://host:8786``); overrides ``workers``.
    dashboard
        Report the Dask dashboard's address. A local cluster binds its dashboard (when
        ``bokeh`` is installed) to a free port on 127.0.0.1: a fixed port (8787) may be taken
        by another cluster on the same machine. Without it no dashboard is started.
    quiet
        Run the local cluster with :data:`QUIET_DASK_CONFIG` (Dask's background monitoring
        at a low rate); False keeps Dask's defaults (the benchmark compares both).
    """

    workers: int = 2
    scheduler: str | None = None
    dashboard: bool = True
    quiet: bool = True

    def __post_init__(self) -> None:
        if self.scheduler is None and self.workers < 1:
            raise CohortError(f"--workers must be at least 1, not {self.workers}.")


QUIET_DASK_CONFIG: dict[str, Any] = {
    # Event-loop health check, every 20 ms by default in each process: 1 s still catches a
    # blocked loop (Dask warns after tick.limit = 3 s).
    "distributed.admin.tick.interval": "1s",
    # Host CPU/memory/network sampling for the dashboard, every 500 ms by default.
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.admin.system-monitor.gil.enabled": False,
    # The statistical profiler samples the task thread's stack every 10 ms.
    "distributed.worker.profile.enabled": False,
    # The nanny's memory check (pause/spill/kill at the limits), every 100 ms by default; a
    # study's analysis grows its memory over seconds, not milliseconds.
    "distributed.worker.memory.monitor-interval": "500ms",
    # Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 in its workers (freed memory goes back
    # to the system at once): every large array is then page-faulted in afresh. Measured on
    # the small studies: 7x the page faults, sys CPU 0.20-0.22 instead of 0.04-0.07 s/study.
    # One-thread BLAS/OpenMP (Dask's other defaults here) is kept: it also saves CPU.
    "distributed.nanny.pre-spawn-environ": {
        "OMP_NUM_THREADS": 1,
        "MKL_NUM_THREADS": 1,
        "OPENBLAS_NUM_THREADS": 1,
    },
}
"""Dask settings of a local cluster that run background work per unit of wall time.

A worker's own CPU beyond its tasks grows with wall time, not with work: on small studies
under load it was +50 % per study with Dask's defaults (docs/cohort.md). Workers started by
``dask worker`` for ``--scheduler`` take the same settings from their Dask configuration
(YAML or ``DASK_*`` environment variables; docs/cohort.md)."""


FORK_SERVER_PRELOAD = ("__main__", "nenscope.cohort.worker_stack")
"""What the local cluster's fork server imports once, so that every worker forked from it
starts with it: the main module (which a spawned worker would import again), then Dask's
worker and the analysis stack (:mod:`nenscope.cohort.worker_stack`)."""


def analysis_threads_environ(cluster: ClusterSpec) -> dict[str, str]:
    """Return ``{NENSCOPE_THREADS: "1"}`` when the local workers take every core, else ``{}``.

    One analysis runs two steps side by side where it can (:mod:`nenscope.core.threads`);
    when there are as many single-threaded workers as cores, each core already runs an
    analysis and a second thread per worker only adds switching (measured on the small
    studies, 2 workers on 2 cores: 0.41-0.42 CPU-s a study in one thread, 0.43-0.44 in
    two). Fewer workers than cores keep the threads. A value already set in this process wins.
    """
    from nenscope.core.threads import THREADS_VARIABLE

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if THREADS_VARIABLE in os.environ or cluster.workers < (cores or 1):
        return {}
    return {THREADS_VARIABLE: "1"}


def _fork_server_environ(cluster: ClusterSpec) -> dict[str, str]:
    """Return the environment Dask's nanny sets before it starts a worker, and ours.

    Its ``pre-spawn-environ``: one-thread BLAS must be set before NumPy is imported: in the
    fork server, not in the forked worker; so must :func:`analysis_threads_environ`. Variables
    already set in this process win, as with Dask's nanny, and so does its fixed hash seed
    for the workers.
    """
    pre_spawn: Mapping[str, Any] = QUIET_DASK_CONFIG["distributed.nanny.pre-spawn-environ"]
    environ = {name: os.environ.get(name, str(value)) for name, value in pre_spawn.items()}
    if os.environ.get("PYTHONHASHSEED") in (None, "0"):
        environ["PYTHONHASHSEED"] = "6640"
    return {**environ, **analysis_threads_environ(cluster)}


@contextmanager
def worker_fork_server(cluster: ClusterSpec) -> Iterator[bool]:
    """Start the fork server of a quiet local cluster's workers now; stop it at the end.

    Yields whether the workers will be forked from it (a local cluster with the quiet
    settings) or not (``--scheduler``, or Dask's defaults: nothing is started).

    The server imports :data:`FORK_SERVER_PRELOAD` while this process goes on (reads the
    manifest and the store, imports distributed, starts the scheduler): the sooner it starts,
    the sooner the first study runs, so ``nenscope cohort run`` enters this before anything
    else and :func:`~nenscope.cohort.run.run_cohort` enters it again (a second user of the
    same server). Each worker is then a fork of it (a few ms) that needs no import of its
    own, and that ends without an interpreter's shutdown. The server is Python's one fork
    server of this process (``multiprocessing.forkserver``); the last user to leave stops it,
    so no process outlives the run and a later run starts it afresh. Its environment is that
    of the first user's ``cluster`` (:func:`analysis_threads_environ`).
    """
    if cluster.scheduler is not None or not cluster.quiet:
        yield False
        return
    with _FORK_SERVER_USERS.lock:  # runs in threads of one process share the one server
        if _FORK_SERVER_USERS.count == 0:
            _FORK_SERVER_USERS.owned = _start_fork_server(cluster)
        _FORK_SERVER_USERS.count += 1
    try:
        yield True
    finally:
        with _FORK_SERVER_USERS.lock:
            _FORK_SERVER_USERS.count -= 1
            if _FORK_SERVER_USERS.count == 0 and _FORK_SERVER_USERS.owned:
                _stop_fork_server()


class _ForkServerUsers:
    """How many runs of this process use its one fork server: the last one stops it.

    Unless it was running before the first of them (another user of this process's fork
    server, whose workers lack the preloaded stack): then it is left running.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0
        self.owned = False


_FORK_SERVER_USERS = _ForkServerUsers()


def _start_fork_server(cluster: ClusterSpec) -> bool:
    """Start the fork server; return False if one was running already (left as it is)."""
    import multiprocessing
    from multiprocessing import forkserver

    if getattr(forkserver._forkserver, "_forkserver_pid", None) is not None:
        return False
    multiprocessing.get_context("forkserver").set_forkserver_preload(list(FORK_SERVER_PRELOAD))
    environ = _fork_server_environ(cluster)
    saved = {name: os.environ.get(name) for name in environ}
    os.environ.update(environ)
    try:
        forkserver.ensure_running()  # returns at once; the server imports in the background
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return True


def _stop_fork_server() -> None:
    """Stop the fork server, whose workers ended with the cluster.

    SIGTERM ends it at once: the shutdown it would run when told to stop, an interpreter's
    teardown of the whole analysis stack, takes 0.6 s. ``_stop`` (which the standard
    library's own tests use) then reaps it and forgets it, so that a later run starts anew.
    """
    from multiprocessing import forkserver

    server = forkserver._forkserver
    pid = getattr(server, "_forkserver_pid", None)
    stop = getattr(server, "_stop", None)
    if pid is None or stop is None:  # not started, or another Python: it ends with us
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)  # our child, not yet reaped: the pid is still its own
    stop()
