"""Background jobs: a pool of worker processes that run queued analyses.

Each job runs in its own process started from a fork server that has the analysis code
imported already, at most ``workers`` at a time. The parent (a thread of the web server)
claims queued jobs in the database, starts their processes and watches them:

- a job's outputs are written to a ``.partial`` folder and its result is committed in one
  transaction with the state ``done``, so nothing half-written is ever shown as done;
- a worker that dies (``kill -9``, out of memory) leaves its job ``running`` in the database;
  the parent sees the exit status and marks it ``failed`` with the reason;
- one study's failure is recorded on its job; other jobs go on;
- on start, jobs left ``running`` by a previous server are marked failed (interrupted), and
  queued jobs are picked up again.
"""

from __future__ import annotations

import logging
import multiprocessing
import shutil
import signal
import threading
from multiprocessing.process import BaseProcess

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from nenscope.jobs.worker import WorkerSettings, run_job
from nenscope.store.db import Store
from nenscope.store.models import (
    Analysis,
    AnalysisState,
    Job,
    JobState,
    Response,
    Study,
    StudyState,
    utc_now,
)

__all__ = ["JobRunner", "WorkerSettings"]

_log = logging.getLogger(__name__)

POLL_INTERVAL_S = 0.25
"""How often the runner looks for finished workers and queued jobs."""


def _exit_reason(code: int | None, pid: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        how = f"was killed by {name}"
    else:
        how = f"exited with status {code}"
    return (
        f"The worker process (pid {pid}) {how} before the analysis finished; no result was "
        "stored. Start the analysis again; if it fails again, check the server's memory."
    )


class JobRunner:
    """Runs queued jobs in worker processes until :meth:`stop`.

    Parameters
    ----------
    store
        The server's store (the runner's own connections).
    settings
        What a worker needs to open the store itself.
    workers
        Most analyses running at once.
    """

    def __init__(self, store: Store, settings: WorkerSettings, *, workers: int = 2) -> None:
        self._store = store
        self._settings = settings
        self._workers = max(1, workers)
        self._running: dict[int, BaseProcess] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["nenscope.jobs.worker"])

    def start(self) -> None:
        """Recover from a previous server, then start watching the queue."""
        self._fail_interrupted()
        self._thread = threading.Thread(target=self._loop, name="nenscope-jobs", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look at the queue now (called after a job is queued)."""
        self._wake.set()

    def stop(self, *, timeout_s: float = 10.0) -> None:
        """Stop starting jobs; running workers are terminated and their jobs marked failed."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        for process in self._running.values():
            process.terminate()
        for job_id, process in list(self._running.items()):
            process.join(timeout_s)
            self._finish(job_id, process)

    def _fail_interrupted(self) -> None:
        with self._store.session() as session:
            for job in session.scalars(select(Job).where(Job.state == JobState.RUNNING.value)):
                self._mark_failed(
                    session,
                    job,
                    "The server stopped while this analysis was running; no result was stored. "
                    "Start the analysis again.",
                )

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._reap()
                self._claim()
            except Exception:  # keep serving; the error is logged with its traceback
                _log.exception("Job runner step failed")
            self._wake.wait(POLL_INTERVAL_S)
            self._wake.clear()

    def _reap(self) -> None:
        for job_id, process in list(self._running.items()):
            if not process.is_alive():
                process.join()
                self._finish(job_id, process)

    def _finish(self, job_id: int, process: BaseProcess) -> None:
        self._running.pop(job_id, None)
        with self._store.session() as session:
            job = session.get(Job, job_id)
            if job is not None and job.state == JobState.RUNNING.value:
                self._mark_failed(session, job, _exit_reason(process.exitcode, process.pid))

    def _mark_failed(self, session: Session, job: Job, reason: str) -> None:
        job.state = JobState.FAILED.value
        job.error = reason
        job.finished_at = utc_now()
        if job.response_id is not None:
            response = session.get(Response, job.response_id)
            if response is not None:
                response.status, response.error = AnalysisState.FAILED.value, reason
        if job.analysis_id is not None:
            analysis = session.get(Analysis, job.analysis_id)
            if analysis is not None and analysis.status in (
                AnalysisState.QUEUED.value,
                AnalysisState.RUNNING.value,
            ):
                analysis.status = AnalysisState.FAILED.value
                analysis.error = reason
                study = session.get(Study, analysis.study_id)
                if study is not None:
                    study.status = StudyState.FAILED.value
                partial = self._store.outputs_dir / str(analysis.id)
                for leftover in partial.glob("*.partial"):
                    shutil.rmtree(leftover, ignore_errors=True)

    def _claim(self) -> None:
        while len(self._running) < self._workers and not self._stop.is_set():
            with self._store.session() as session:
                job_id = session.scalar(
                    select(Job.id)
                    .where(Job.state == JobState.QUEUED.value)
                    .order_by(Job.id)
                    .limit(1)
                )
                if job_id is None:
                    return
                outcome = session.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.state == JobState.QUEUED.value)
                    .values(state=JobState.RUNNING.value, started_at=utc_now(), progress=0.0)
                )
                claimed = getattr(outcome, "rowcount", 0)
            if claimed != 1:
                continue
            process = self._context.Process(
                target=run_job, args=(self._settings, job_id), name=f"nenscope-job-{job_id}"
            )
            process.start()
            self._running[job_id] = process
            with self._store.session() as session:
                session.execute(update(Job).where(Job.id == job_id).values(worker_pid=process.pid))
