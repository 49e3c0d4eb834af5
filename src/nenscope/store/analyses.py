"""Queueing an analysis: the analysis row, its job, the study's state and the audit event."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nenscope.store.audit import record_event
from nenscope.store.db import Store
from nenscope.store.models import (
    Analysis,
    AnalysisState,
    AnalysisVersion,
    Job,
    JobState,
    Study,
    StudyState,
    User,
)
from nenscope.store.review import replace_lesion_rows

__all__ = ["UnknownStudyError", "has_analysis", "queue_analysis", "record_result"]


class UnknownStudyError(LookupError):
    """No study with that id."""


def queue_analysis(
    store: Store, study_id: int, options: Mapping[str, Any], *, user: User | None
) -> tuple[int, int]:
    """Create an analysis and its queued job; return ``(job_id, analysis_id)``.

    ``options`` must already be validated (``nenscope.jobs.analysis.parse_analysis_options``).
    """
    with store.session() as session:
        study = session.get(Study, study_id)
        if study is None:
            raise UnknownStudyError(f"No study with id {study_id}.")
        analysis = Analysis(
            study_id=study.id,
            status=AnalysisState.QUEUED.value,
            options=dict(options),
            created_by=None if user is None else user.id,
        )
        session.add(analysis)
        session.flush()
        job = Job(kind="analysis", analysis_id=analysis.id, state=JobState.QUEUED.value)
        session.add(job)
        before = study.status
        study.status = StudyState.QUEUED.value
        session.flush()
        record_event(
            session,
            user=user,
            action="analysis.queue",
            object_type="study",
            object_id=study.id,
            before={"status": before},
            after={"status": study.status, "analysis_id": analysis.id, "options": dict(options)},
        )
        return job.id, analysis.id


def has_analysis(store: Store, study_id: int) -> bool:
    """Whether the study has any analysis (queued, running or finished)."""
    with store.session() as session:
        found = session.scalar(select(Analysis.id).where(Analysis.study_id == study_id).limit(1))
        return found is not None


def record_result(
    session: Session, analysis: Analysis, result: Mapping[str, Any], errors: Sequence[str]
) -> None:
    """Make ``result`` version 1 of ``analysis``: lesion rows, states and the audit event.

    The one way a computed result enters the store (the service's jobs and
    ``nenscope cohort run --db``); the caller's session commits it in one transaction.
    """
    session.add(
        AnalysisVersion(analysis_id=analysis.id, version=1, result=dict(result), reason="analysis")
    )
    replace_lesion_rows(session, analysis.id, result)
    analysis.version = 1
    analysis.status = AnalysisState.DONE.value
    analysis.error = " ".join(errors) or None
    study = session.get(Study, analysis.study_id)
    if study is not None:
        study.status = StudyState.ANALYSED.value
    record_event(
        session,
        user=None,
        action="analysis.done",
        object_type="analysis",
        object_id=analysis.id,
        after={"version": 1, "errors": list(errors)},
    )
