"""Job progress follows the pipeline's stages (on_stage), not three fixed steps."""

from __future__ import annotations

from pathlib import Path

import pytest

from nenscope.jobs.analysis import STAGE_PROGRESS
from nenscope.jobs.worker import _stage_progress
from nenscope.store import Store
from nenscope.store.models import Job


def _progress(store: Store, job_id: int) -> float:
    with store.session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job.progress


def test_each_stage_moves_the_progress_forward_only(tmp_path: Path) -> None:
    store = Store(tmp_path / "data")
    try:
        with store.session() as session:
            job = Job(kind="analysis")
            session.add(job)
            session.flush()
            job_id = job.id
        on_stage = _stage_progress(store, job_id)
        seen = []
        for name in ("read + SUV", "reference regions", "lesions", "report", "PDF", "viewer"):
            on_stage(name)
            seen.append(_progress(store, job_id))
        assert seen == [
            STAGE_PROGRESS[n]
            for n in ("read + SUV", "reference regions", "lesions", "report", "PDF", "viewer")
        ]
        assert seen == sorted(seen)
        assert len(set(seen)) == len(seen)
        on_stage("read + SUV")  # NETPET's FDG study reads again: no step back
        on_stage("a stage added later")
        assert _progress(store, job_id) == pytest.approx(STAGE_PROGRESS["viewer"])
    finally:
        store.close()


def test_the_stage_names_are_the_pipeline_s() -> None:
    # A renamed stage would silently stop the progress: the names must be the pipeline's.
    sources = "".join(
        p.read_text(encoding="utf-8") for p in Path("src/nenscope/pipeline").glob("*.py")
    )
    for name in STAGE_PROGRESS:
        if name != "viewer":
            assert f'stage("{name}")' in sources, name
