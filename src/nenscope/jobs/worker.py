"""What one worker process does with one job: analyse, then store the result atomically."""

from __future__ import annotations

import logging
import os
import shutil
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from nenscope.core.errors import WorkbenchError
from nenscope.jobs.analysis import STAGE_PROGRESS, AnalysisOutcome, run_analysis, run_response
from nenscope.store.analyses import record_result
from nenscope.store.audit import record_event
from nenscope.store.db import Store
from nenscope.store.models import (
    Analysis,
    AnalysisState,
    Instance,
    Job,
    JobState,
    Response,
    Series,
    Study,
    StudyState,
    utc_now,
)

__all__ = ["WorkerSettings", "analysis_dir", "link_study", "run_job", "version_dir"]

_log = logging.getLogger(__name__)


WORKER_NICENESS = 10
"""How much lower than the server's the CPU priority of an analysis worker is (``nice``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerSettings:
    """Where a worker finds the store: data folder and database URL (picklable)."""

    data_dir: Path
    db_url: str | None


def analysis_dir(store: Store, analysis_id: int) -> Path:
    """Folder of an analysis's files (one sub-folder per computed version)."""
    return store.outputs_dir / str(analysis_id)


def version_dir(store: Store, analysis_id: int) -> Path:
    """Folder of the analysis run's report files and arrays (``run``)."""
    return analysis_dir(store, analysis_id) / "run"


def _progress(store: Store, job_id: int, value: float) -> None:
    with store.session() as session:
        job = session.get(Job, job_id)
        if job is not None:
            job.progress = value


def link_study(store: Store, session: Session, study_id: int, folder: Path) -> int:
    """Link a stored study's DICOM files (content-addressed) into ``folder``; returns the count."""
    return _link_study(store, session, study_id, folder)


def _link_study(store: Store, session: Session, study_id: int, folder: Path) -> int:
    rows = session.execute(
        select(Series.series_instance_uid, Instance.sop_instance_uid, Instance.sha256)
        .join(Instance, Instance.series_id == Series.id)
        .where(Series.study_id == study_id)
    ).all()
    for series_uid, sop_uid, sha in rows:
        store.files.link_into(sha, folder / series_uid / f"{sop_uid}.dcm")
    return len(rows)


def _save_arrays(outcome: AnalysisOutcome, folder: Path) -> None:
    if outcome.suv is not None and outcome.affine is not None:
        np.save(folder / "suv.npy", outcome.suv)
        np.save(folder / "affine.npy", outcome.affine)
    if outcome.labels is not None:
        np.save(folder / "labels.npy", outcome.labels)


def _stage_progress(store: Store, job_id: int) -> Callable[[str], None]:
    """Return the pipeline's ``on_stage`` callback: the job's progress as each stage starts.

    Progress only rises (a stage run twice, e.g. NETPET's FDG study, does not move it back);
    a failure to write it is logged, never raised into the analysis.
    """
    reached = [0.0]

    def on_stage(name: str) -> None:
        value = STAGE_PROGRESS.get(name)
        if value is None or value <= reached[0]:
            return
        reached[0] = value
        try:
            _progress(store, job_id, value)
        except Exception:  # progress is a display; the analysis goes on
            _log.warning("Progress of job %s not written:\n%s", job_id, traceback.format_exc())

    return on_stage


def _commit_result(
    store: Store, job_id: int, analysis_id: int, result: dict[str, Any], errors: tuple[str, ...]
) -> None:
    with store.session() as session:
        job = session.get(Job, job_id)
        analysis = session.get(Analysis, analysis_id)
        if job is None or analysis is None:
            return
        record_result(session, analysis, result, errors)
        job.state = JobState.DONE.value
        job.progress = 1.0
        job.finished_at = utc_now()


def _fail(store: Store, job_id: int, analysis_id: int, reason: str) -> None:
    with store.session() as session:
        job = session.get(Job, job_id)
        analysis = session.get(Analysis, analysis_id)
        if job is not None:
            job.state = JobState.FAILED.value
            job.error = reason
            job.finished_at = utc_now()
        if analysis is not None:
            analysis.status = AnalysisState.FAILED.value
            analysis.error = reason
            study = session.get(Study, analysis.study_id)
            if study is not None:
                study.status = StudyState.FAILED.value
            record_event(
                session,
                user=None,
                action="analysis.failed",
                object_type="analysis",
                object_id=analysis_id,
                after={"error": reason},
            )


def _run_response(store: Store, job_id: int, response_id: int) -> None:
    with store.session() as session:
        response = session.get(Response, response_id)
        if response is None:
            return
        response.status = AnalysisState.RUNNING.value
        pair = (response.baseline_study_id, response.followup_study_id)
    work = store.data_dir / "work" / f"job-{job_id}"
    out = store.data_dir / "responses" / str(response_id)
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    try:
        with store.session() as session:
            for label, study_id in zip(("baseline", "followup"), pair, strict=True):
                _link_study(store, session, study_id, work / label)
        _progress(store, job_id, 0.1)
        result = run_response(work / "baseline", work / "followup", out / "run.partial", {})
        (out / "run.partial").rename(out / "run")
        with store.session() as session:
            job, response = session.get(Job, job_id), session.get(Response, response_id)
            if job is None or response is None:
                return
            response.result = result
            response.status = AnalysisState.DONE.value
            response.error = " ".join(result["errors"]) or None
            job.state, job.progress, job.finished_at = JobState.DONE.value, 1.0, utc_now()
            record_event(
                session,
                user=None,
                action="response.done",
                object_type="response",
                object_id=response_id,
                after={"errors": result["errors"]},
            )
    except Exception as err:  # any failure is recorded on the job with its reason
        reason = str(err) if isinstance(err, WorkbenchError) else f"Internal error: {err!r}"
        _log.error("Response job %s failed:\n%s", job_id, traceback.format_exc())
        with store.session() as session:
            job, response = session.get(Job, job_id), session.get(Response, response_id)
            if job is not None:
                job.state, job.error, job.finished_at = JobState.FAILED.value, reason, utc_now()
            if response is not None:
                response.status, response.error = AnalysisState.FAILED.value, reason
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_job(settings: WorkerSettings, job_id: int) -> None:
    """Run one queued analysis job (the target of a worker process).

    The result becomes visible only in the final transaction, after the output folder has
    been renamed from ``run.partial`` to ``run``; a process killed before that leaves the job
    ``running``, which the runner turns into ``failed`` with the reason.
    """
    # Analyses yield the CPU to the web server: browsing stays responsive while they run.
    os.nice(WORKER_NICENESS)
    store = Store(settings.data_dir, settings.db_url, migrate=False)
    try:
        with store.session() as session:
            job = session.get(Job, job_id)
            if job is None:
                return
            job.worker_pid = os.getpid()
            response_id = job.response_id
        if response_id is not None:
            _run_response(store, job_id, response_id)
            return
        with store.session() as session:
            job = session.get(Job, job_id)
            if job is None or job.analysis_id is None:
                return
            analysis = session.get(Analysis, job.analysis_id)
            if analysis is None:
                return
            analysis_id, study_id, options = analysis.id, analysis.study_id, dict(analysis.options)
            analysis.status = AnalysisState.RUNNING.value
            job.worker_pid = os.getpid()
            study = session.get(Study, study_id)
            if study is not None:
                study.status = StudyState.ANALYSING.value
        work = store.data_dir / "work" / f"job-{job_id}"
        shutil.rmtree(work, ignore_errors=True)
        partial = analysis_dir(store, analysis_id) / "run.partial"
        shutil.rmtree(partial, ignore_errors=True)
        try:
            with store.session() as session:
                _link_study(store, session, study_id, work / "study")
            _progress(store, job_id, 0.05)
            outcome = run_analysis(
                work / "study",
                partial,
                options,
                on_stage=_stage_progress(store, job_id),
                viewer_dir=store.data_dir / "viewer" / str(study_id),
            )
            if outcome.suv is None:
                # Nothing was measured (no readable PET): that is a failed job, not a result.
                raise WorkbenchError(
                    "The study could not be analysed: "
                    + (" ".join(outcome.errors) or "no PET series was read.")
                )
            _progress(store, job_id, 0.97)
            _save_arrays(outcome, partial)
            final = version_dir(store, analysis_id)
            shutil.rmtree(final, ignore_errors=True)
            partial.rename(final)
            _commit_result(store, job_id, analysis_id, outcome.result, outcome.errors)
        except WorkbenchError as err:
            _fail(store, job_id, analysis_id, str(err))
        except Exception as err:  # a bug in the analysis must not take the job down silently
            _log.error("Analysis job %s failed:\n%s", job_id, traceback.format_exc())
            _fail(store, job_id, analysis_id, f"Internal error in the analysis: {err!r}")
        finally:
            shutil.rmtree(work, ignore_errors=True)
    finally:
        store.close()
