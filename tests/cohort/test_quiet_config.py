"""The local cluster's workers run with the quiet Dask settings (docs/cohort.md, overhead).

As ``run_cohort`` starts them (forked from a fork server that imported the analysis stack
once) and as ``_client`` alone starts them (spawned, Dask's way): the same settings.
"""

from __future__ import annotations

import os
from contextlib import nullcontext
from pathlib import Path

import pytest

from nenscope.cohort.run import ClusterSpec, _client, _fork_server

pytest.importorskip("distributed")


@pytest.mark.slow
@pytest.mark.parametrize("forked", [True, False], ids=["fork-server", "spawned"])
def test_workers_get_the_quiet_settings(forked: bool) -> None:
    def worker_view() -> dict[str, object]:
        # Defined here: the probe travels by value (a forked worker cannot import tests/,
        # which pytest's importlib mode leaves off sys.path).
        import os
        import sys
        from pathlib import Path

        import dask

        return {
            "malloc_trim": os.environ.get("MALLOC_TRIM_THRESHOLD_"),
            "omp": os.environ.get("OMP_NUM_THREADS"),
            "tick": dask.config.get("distributed.admin.tick.interval"),
            "profile": dask.config.get("distributed.worker.profile.enabled"),
            "stack_loaded": "nenscope.cohort.worker_stack" in sys.modules,
            "parent": os.getppid(),
            # The process it was forked from ran one thread (a fork copies only the caller).
            "parent_threads": len(list(Path(f"/proc/{os.getppid()}/task").iterdir())),
        }

    spec = ClusterSpec(workers=1, dashboard=False)
    with _fork_server(spec) if forked else nullcontext(False) as fork_server:
        assert fork_server is forked
        client = _client(spec, fork_server=fork_server)
        try:
            views = list(client.run(worker_view).values())
        finally:
            cluster = client.cluster
            client.close()
            cluster.close()
    # No MALLOC_TRIM_THRESHOLD_ (7x the page faults per study), one-thread BLAS kept.
    mine = ("parent", "parent_threads")
    assert [{k: v for k, v in view.items() if k not in mine} for view in views] == [
        {"malloc_trim": None, "omp": "1", "tick": "1s", "profile": False, "stack_loaded": forked}
    ]
    # A forked worker is the fork server's child, not a child of this process, and the fork
    # server has no thread but its own (pyarrow, which starts one, is not preloaded).
    assert (views[0]["parent"] != os.getpid()) is forked
    if forked:
        assert views[0]["parent_threads"] == 1


def test_local_cluster_without_quiet_settings_or_with_a_scheduler_forks_nothing() -> None:
    for spec in (
        ClusterSpec(workers=1, quiet=False),
        ClusterSpec(scheduler="tcp://127.0.0.1:1"),
    ):
        with _fork_server(spec) as fork_server:
            assert fork_server is False


def _fork_servers() -> int:
    """This process's children that are a multiprocessing fork server (Linux /proc)."""
    me, count = str(os.getpid()), 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = stat.read_text(encoding="utf-8").rsplit(")", 1)[1].split()[1]
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError):  # ended meanwhile
            continue
        count += parent == me and b"multiprocessing.forkserver" in cmdline
    return count


def test_the_last_run_using_the_fork_server_stops_it() -> None:
    spec = ClusterSpec(workers=1, dashboard=False)
    assert _fork_servers() == 0
    with _fork_server(spec):
        with _fork_server(spec):  # a second run in another thread of this process
            assert _fork_servers() == 1
        assert _fork_servers() == 1  # the first run's workers still need it
    assert _fork_servers() == 0
