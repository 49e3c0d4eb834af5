"""Background jobs: a killed worker fails its job with the reason; failures stay isolated;
queued jobs survive a restart."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from sqlalchemy import select

from nenscope.jobs.worker import version_dir
from nenscope.store import Store
from nenscope.store.models import AnalysisVersion, Job
from tests.service_components import study_files
from tests.web.api.service_client import service, token, wait_job

WAIT_S = 120.0


def _upload(client, headers, files) -> int:  # type: ignore[no-untyped-def]
    answer = client.post(
        "/api/studies", headers=headers, files=[("files", (n, d)) for n, d in files]
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["study_id"])


def test_killed_worker_fails_the_job_with_its_reason(tmp_path: Path, phantom_study: Path) -> None:
    with service(tmp_path / "data") as client:
        tech = token(client, "tech")
        study_id = _upload(client, tech, study_files(phantom_study))
        queued = client.post(f"/api/studies/{study_id}/analyses", headers=tech, json={}).json()
        store: Store = client.app.state.store  # type: ignore[attr-defined]
        deadline = time.monotonic() + WAIT_S
        pid = None
        while time.monotonic() < deadline and pid is None:
            with store.session() as session:
                job = session.get(Job, queued["job_id"])
                assert job is not None
                if job.state == "running" and job.worker_pid and job.progress >= 0.1:
                    pid = job.worker_pid
            time.sleep(0.05)
        assert pid is not None, "the job never started"
        os.kill(pid, signal.SIGKILL)
        job = wait_job(client, tech, queued["job_id"])
        assert job["state"] == "failed"
        assert "SIGKILL" in job["error"]
        assert "no result was stored" in job["error"]
        analysis = client.get(f"/api/analyses/{queued['analysis_id']}", headers=tech).json()
        assert analysis["status"] == "failed"
        assert analysis["lesions"] == []
        with store.session() as session:
            assert session.scalars(select(AnalysisVersion)).all() == []
        assert not version_dir(store, queued["analysis_id"]).exists()
        assert not list(version_dir(store, queued["analysis_id"]).parent.glob("*.partial"))


def test_one_failure_does_not_stop_another(
    tmp_path: Path, phantom_study: Path, other_phantom_study: Path
) -> None:
    with service(tmp_path / "data") as client:
        tech = token(client, "tech")
        ct_only = _upload(client, tech, study_files(other_phantom_study / "CT"))
        full = _upload(client, tech, study_files(phantom_study))
        bad = client.post(f"/api/studies/{ct_only}/analyses", headers=tech, json={}).json()
        good = client.post(f"/api/studies/{full}/analyses", headers=tech, json={}).json()
        bad_job = wait_job(client, tech, bad["job_id"])
        assert bad_job["state"] == "failed"
        assert "PET" in bad_job["error"]
        assert wait_job(client, tech, good["job_id"])["state"] == "done"
        studies = {
            s["study_id"]: s["status"] for s in client.get("/api/studies", headers=tech).json()
        }
        assert studies == {ct_only: "failed", full: "analysed"}


def test_bad_options_are_refused_before_queueing(tmp_path: Path, phantom_study: Path) -> None:
    with service(tmp_path / "data", run_jobs=False) as client:
        tech = token(client, "tech")
        study_id = _upload(client, tech, study_files(phantom_study)[:1])
        answer = client.post(
            f"/api/studies/{study_id}/analyses", headers=tech, json={"suv_treshold": 3}
        )
        assert answer.status_code == 422
        assert "Did you mean 'suv_threshold'" in answer.json()["detail"]


def test_queued_jobs_survive_a_restart(tmp_path: Path, phantom_study: Path) -> None:
    data = tmp_path / "data"
    with service(data, run_jobs=False) as client:
        tech = token(client, "tech")
        study_id = _upload(client, tech, study_files(phantom_study))
        queued = client.post(f"/api/studies/{study_id}/analyses", headers=tech, json={}).json()
        assert (
            client.get(f"/api/jobs/{queued['job_id']}", headers=tech).json()["state"] == "queued"
        )
    # A new server on the same data folder picks the queued job up.
    with service(data, create_users=False) as client:
        tech = token(client, "tech")
        assert wait_job(client, tech, queued["job_id"])["state"] == "done"
