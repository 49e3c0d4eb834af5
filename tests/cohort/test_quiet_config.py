"""The local cluster's workers run with the quiet Dask settings (docs/cohort.md, overhead)."""

from __future__ import annotations

import os

import pytest

from nenscope.cohort.run import ClusterSpec, _client

pytest.importorskip("distributed")


def _worker_view() -> dict[str, object]:
    import dask

    return {
        "malloc_trim": os.environ.get("MALLOC_TRIM_THRESHOLD_"),
        "omp": os.environ.get("OMP_NUM_THREADS"),
        "tick": dask.config.get("distributed.admin.tick.interval"),
        "profile": dask.config.get("distributed.worker.profile.enabled"),
    }


@pytest.mark.slow
def test_workers_get_the_quiet_settings() -> None:
    client = _client(ClusterSpec(workers=1, dashboard=False))
    try:
        views = list(client.run(_worker_view).values())
    finally:
        cluster = client.cluster
        client.close()
        cluster.close()
    # No MALLOC_TRIM_THRESHOLD_ (7x the page faults per study), one-thread BLAS kept.
    assert views == [{"malloc_trim": None, "omp": "1", "tick": "1s", "profile": False}]
