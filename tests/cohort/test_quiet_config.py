"""The local cluster's workers run with the quiet Dask settings (docs/cohort.md, overhead).

As ``run_cohort`` starts them (forked from a fork server that imported the analysis stack
once) and as ``_client`` alone starts them (spawned, Dask's way): the same settings.
"""

from __future__ import annotations

import os
from contextlib import nullcontext
from pathlib import Path

import pytest

from nenscope.cohort.cluster import ClusterSpec, analysis_threads_environ, worker_fork_server
from nenscope.cohort.run import _client
from nenscope.cohort.task import PARTS_DIR, StudyTask, run_study
from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study

pytest.importorskip("distributed")


@pytest.mark.slow
@pytest.mark.parametrize("forked", [True, False], ids=["fork-server", "spawned"])
def test_workers_get_the_quiet_settings(forked: bool, tmp_path: Path) -> None:
    study = tmp_path / "s0"
    write_phantom_study(study, PhantomSettings(size="small", seed=0))
    (tmp_path / PARTS_DIR).mkdir()

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
            "threads_variable": os.environ.get("NENSCOPE_THREADS"),
            "tick": dask.config.get("distributed.admin.tick.interval"),
            "profile": dask.config.get("distributed.worker.profile.enabled"),
            "stack_loaded": "nenscope.cohort.worker_stack" in sys.modules,
            "analysis_threads": sys.modules["nenscope.core.threads"].THREADS
            if "nenscope.core.threads" in sys.modules
            else None,
            "parent": os.getppid(),
            # The process it was forked from ran one thread (a fork copies only the caller).
            "parent_threads": len(list(Path(f"/proc/{os.getppid()}/task").iterdir())),
        }

    # As many workers as cores: each analysis runs in its worker's one thread.
    spec = ClusterSpec(workers=len(os.sched_getaffinity(0)), dashboard=False)
    with worker_fork_server(spec) if forked else nullcontext(False) as fork_server:
        assert fork_server is forked
        client = _client(spec, fork_server=fork_server)
        try:
            views = list(client.run(worker_view).values())
            if forked:  # a study's part is JSON: the worker never loads pyarrow (nor pandas)
                task = StudyTask(study="s0", path=str(study), out_dir=str(tmp_path))
                assert client.submit(run_study, task).result().state == "done"
                assert set(client.run(_tabular_libraries).values()) == {()}
        finally:
            cluster = client.cluster
            client.close()
            cluster.close()
    # No MALLOC_TRIM_THRESHOLD_ (7x the page faults per study), one-thread BLAS kept.
    mine = ("parent", "parent_threads")
    quiet = {
        "malloc_trim": None,
        "omp": "1",
        "threads_variable": "1",
        "tick": "1s",
        "profile": False,
    }
    assert [{k: v for k, v in view.items() if k not in mine} for view in views] == [
        {**quiet, "stack_loaded": forked, "analysis_threads": 1 if forked else None}
    ] * spec.workers
    # A forked worker is the fork server's child, not a child of this process, and the fork
    # server has no thread but its own (pyarrow, which starts one, is not preloaded).
    assert (views[0]["parent"] != os.getpid()) is forked
    if forked:
        assert views[0]["parent_threads"] == 1


def _tabular_libraries() -> tuple[str, ...]:
    import sys

    return tuple(m for m in ("pyarrow", "pandas") if m in sys.modules)


def test_local_cluster_without_quiet_settings_or_with_a_scheduler_forks_nothing() -> None:
    for spec in (
        ClusterSpec(workers=1, quiet=False),
        ClusterSpec(scheduler="tcp://127.0.0.1:1"),
    ):
        with worker_fork_server(spec) as fork_server:
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
    with worker_fork_server(spec):
        with worker_fork_server(spec):  # a second run in another thread of this process
            assert _fork_servers() == 1
        assert _fork_servers() == 1  # the first run's workers still need it
    assert _fork_servers() == 0


def test_workers_on_every_core_analyse_in_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NENSCOPE_THREADS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    assert analysis_threads_environ(ClusterSpec(workers=2)) == {"NENSCOPE_THREADS": "1"}
    assert analysis_threads_environ(ClusterSpec(workers=3)) == {"NENSCOPE_THREADS": "1"}
    assert analysis_threads_environ(ClusterSpec(workers=1)) == {}  # a core left: two threads
    monkeypatch.setenv("NENSCOPE_THREADS", "2")  # the user's setting wins
    assert analysis_threads_environ(ClusterSpec(workers=2)) == {}
