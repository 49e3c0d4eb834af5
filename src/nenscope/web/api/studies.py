"""Studies: upload, worklist, details, analyses to start; patients and their history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, File, HTTPException, Query, Request, Response, UploadFile
from pydantic import BaseModel
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from nenscope.jobs.analysis import parse_analysis_options
from nenscope.store.analyses import queue_analysis
from nenscope.store.audit import record_event
from nenscope.store.imports import ImportLimits, ImportResult, UploadError, expand_upload
from nenscope.store.imports import import_instances as store_instances
from nenscope.store.models import (
    Analysis,
    AnalysisState,
    Instance,
    Job,
    JobState,
    Lesion,
    Patient,
    Series,
    Study,
)
from nenscope.store.models import Response as ResponseRow
from nenscope.web.api._deps import (
    Importer,
    Reader,
    SettingsDep,
    StoreDep,
    get_or_404,
    patient_label,
)

__all__ = ["import_answer", "router"]

router = APIRouter(tags=["studies"])

MAX_PAGE = 1000
"""Largest page of a list."""


def import_answer(result: ImportResult, response: Response) -> dict[str, Any]:
    """Answer of an import: 201 for a new study, 200 with its id for one already stored."""
    response.status_code = 201 if result.created else 200
    return {
        "study_id": result.study_id,
        "created": result.created,
        "added": result.added,
        "already_stored": result.already_stored,
        "skipped": list(result.skipped),
    }


async def _read_uploads(files: list[UploadFile], limit: int) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    total = 0
    for upload in files:
        data = await upload.read(limit - total + 1)
        total += len(data)
        if total > limit:
            raise HTTPException(
                413, detail=f"The upload is larger than the limit of {limit} bytes."
            )
        out.append((upload.filename or "upload", data))
    return out


@router.post("/studies", status_code=201)
async def upload_study(
    request: Request,
    response: Response,
    store: StoreDep,
    settings: SettingsDep,
    user: Importer,
    files: Annotated[list[UploadFile], File(description="DICOM files or one .zip")],
) -> dict[str, Any]:
    """Import a study from DICOM files or a zip; a study already stored answers 200."""
    declared = int(request.headers.get("content-length") or 0)
    if declared > settings.max_upload_bytes * 2:
        raise HTTPException(413, detail=f"Upload of {declared} bytes refused (limit).")
    raw = await _read_uploads(files, settings.max_upload_bytes)
    limits = ImportLimits(max_total_bytes=settings.max_upload_bytes)
    try:
        expanded = expand_upload(raw, limits)
    except UploadError as err:
        status_code = 413 if "limit" in str(err) or "bomb" in str(err) else 422
        raise HTTPException(status_code, detail=str(err)) from err

    result = await run_in_threadpool(store_instances, store, expanded, user=user, source="upload")
    return import_answer(result, response)


@router.get("/studies")
def list_studies(  # noqa: PLR0913 - one parameter per query filter (FastAPI)
    response: Response,
    store: StoreDep,
    settings: SettingsDep,
    user: Reader,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    status: Annotated[str | None, Query(description="stored, analysed, signed, …")] = None,
    patient_id: Annotated[str | None, Query(description="DICOM PatientID")] = None,
    modality: Annotated[str | None, Query(description="e.g. PT")] = None,
    date_from: Annotated[str | None, Query(description="YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, Query(description="YYYY-MM-DD")] = None,
) -> list[dict[str, Any]]:
    """Return the worklist, newest first; ``X-Total-Count`` gives the number of matches."""
    query = select(
        Study.id,
        Patient.patient_key,
        Study.study_date,
        Study.modalities,
        Study.status,
        Study.description,
        Study.study_instance_uid,
    ).join(Patient, Patient.id == Study.patient_id)
    if status:
        query = query.where(Study.status == status)
    if patient_id:
        query = query.where(Patient.patient_key == patient_id)
    if modality:
        query = query.where(Study.modalities.contains(modality))
    if date_from:
        query = query.where(Study.study_date >= date_from)
    if date_to:
        query = query.where(Study.study_date <= date_to)
    with store.session() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.execute(query.order_by(Study.id.desc()).limit(limit).offset(offset)).all()
    response.headers["X-Total-Count"] = str(total or 0)
    salt = settings.pseudonym_salt
    return [
        {
            "study_id": row.id,
            "patient_id": patient_label(user, row.patient_key, salt),
            "study_date": row.study_date,
            "modalities": [m for m in row.modalities.split(",") if m],
            "status": row.status,
            "description": row.description,
            "study_instance_uid": row.study_instance_uid,
        }
        for row in rows
    ]


@router.get("/studies/{study_id}")
def get_study(
    study_id: int, store: StoreDep, settings: SettingsDep, user: Reader
) -> dict[str, Any]:
    """Return a study with its series and analyses."""
    with store.session() as session:
        study = get_or_404(session, Study, study_id, "study")
        series = session.execute(
            select(Series, func.count(Instance.id))
            .outerjoin(Instance, Instance.series_id == Series.id)
            .where(Series.study_id == study_id)
            .group_by(Series.id)
            .order_by(Series.id)
        ).all()
        analyses = session.scalars(
            select(Analysis).where(Analysis.study_id == study_id).order_by(Analysis.id)
        ).all()
        return {
            "study_id": study.id,
            "study_instance_uid": study.study_instance_uid,
            "patient_id": patient_label(user, study.patient.patient_key, settings.pseudonym_salt),
            "study_date": study.study_date,
            "description": study.description,
            "modalities": [m for m in study.modalities.split(",") if m],
            "status": study.status,
            "source": study.source,
            "series": [
                {
                    "series_instance_uid": s.series_instance_uid,
                    "modality": s.modality,
                    "description": s.description,
                    "radiopharmaceutical": s.radiopharmaceutical,
                    "instances": n,
                }
                for s, n in series
            ],
            "analyses": [
                {"analysis_id": a.id, "status": a.status, "version": a.version} for a in analyses
            ],
        }


@router.post("/studies/{study_id}/analyses", status_code=202)
def start_analysis(
    study_id: int,
    request: Request,
    store: StoreDep,
    user: Importer,
    options: Annotated[dict[str, Any] | None, Body()] = None,
) -> dict[str, int]:
    """Queue an analysis of the study (options: ``suv_threshold``, ``min_volume_ml``, …)."""
    payload = dict(options or {})
    parse_analysis_options(payload)  # refuse bad options now, not in the worker
    with store.session() as session:
        get_or_404(session, Study, study_id, "study")
    job_id, analysis_id = queue_analysis(store, study_id, payload, user=user)
    runner = request.app.state.runner
    if runner is not None:
        runner.wake()
    return {"job_id": job_id, "analysis_id": analysis_id}


@router.get("/patients")
def list_patients(
    store: StoreDep,
    settings: SettingsDep,
    user: Reader,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    """Patients with their number of studies."""
    with store.session() as session:
        rows = session.execute(
            select(Patient, func.count(Study.id))
            .outerjoin(Study, Study.patient_id == Patient.id)
            .group_by(Patient.id)
            .order_by(Patient.id)
            .limit(limit)
            .offset(offset)
        ).all()
    return [
        {
            "id": p.id,
            "patient_id": patient_label(user, p.patient_key, settings.pseudonym_salt),
            "studies": n,
        }
        for p, n in rows
    ]


def _burden(session: Any, analysis: Analysis) -> dict[str, Any]:
    lesions = session.scalars(
        select(Lesion).where(Lesion.analysis_id == analysis.id, Lesion.status != "rejected")
    ).all()
    suvmax = [les.suvmax for les in lesions if les.suvmax is not None]
    return {
        "analysis_id": analysis.id,
        "version": analysis.version,
        "lesions": len(lesions),
        "suvmax": max(suvmax) if suvmax else None,
        "tlg": sum(les.tlg for les in lesions if les.tlg is not None),
        "volume_ml": sum(les.volume_ml for les in lesions if les.volume_ml is not None),
    }


@router.get("/patients/{patient_pk}/timeline")
def patient_timeline(patient_pk: int, store: StoreDep, _user: Reader) -> dict[str, Any]:
    """Return a patient's studies in time with SUVmax, total TLG and tumour volume (for a plot).

    Each study contributes its latest finished analysis; rejected lesions are left out.
    """
    with store.session() as session:
        get_or_404(session, Patient, patient_pk, "patient")
        studies = session.scalars(
            select(Study).where(Study.patient_id == patient_pk).order_by(Study.study_date)
        ).all()
        points = []
        for study in studies:
            analysis = session.scalar(
                select(Analysis)
                .where(
                    Analysis.study_id == study.id,
                    Analysis.version > 0,
                    Analysis.status.in_([AnalysisState.DONE.value, AnalysisState.SIGNED.value]),
                )
                .order_by(Analysis.id.desc())
                .limit(1)
            )
            point: dict[str, Any] = {"study_id": study.id, "study_date": study.study_date}
            point.update(_burden(session, analysis) if analysis is not None else {})
            points.append(point)
    return {
        "patient": patient_pk,
        "units": {"suvmax": "g/mL", "tlg": "g", "volume_ml": "mL"},
        "points": points,
    }


class ResponseRequest(BaseModel):
    """The two studies of one patient to compare."""

    baseline_study_id: int
    followup_study_id: int


@router.post("/patients/{patient_pk}/responses", status_code=202)
def start_response(
    patient_pk: int, body: ResponseRequest, request: Request, store: StoreDep, user: Importer
) -> dict[str, int]:
    """Queue a response assessment (PERCIST, RECIST, Choi) between two of the patient's studies.

    Both studies are analysed again in the job (the registration of the two CTs needs the
    images); the answer gives the job to follow and the response to read.
    """
    if body.baseline_study_id == body.followup_study_id:
        raise HTTPException(422, detail="Baseline and follow-up must be two different studies.")
    with store.session() as session:
        get_or_404(session, Patient, patient_pk, "patient")
        for study_id in (body.baseline_study_id, body.followup_study_id):
            study = get_or_404(session, Study, study_id, "study")
            if study.patient_id != patient_pk:
                raise HTTPException(
                    422, detail=f"Study {study_id} belongs to another patient than {patient_pk}."
                )
        response = ResponseRow(
            patient_id=patient_pk,
            baseline_study_id=body.baseline_study_id,
            followup_study_id=body.followup_study_id,
            status=AnalysisState.QUEUED.value,
            created_by=user.id,
        )
        session.add(response)
        session.flush()
        job = Job(kind="response", response_id=response.id, state=JobState.QUEUED.value)
        session.add(job)
        session.flush()
        record_event(
            session,
            user=user,
            action="response.queue",
            object_type="response",
            object_id=response.id,
            after=body.model_dump(),
        )
        answer = {"job_id": job.id, "response_id": response.id}
    runner = request.app.state.runner
    if runner is not None:
        runner.wake()
    return answer


@router.get("/responses/{response_id}")
def get_response(response_id: int, store: StoreDep, _user: Reader) -> dict[str, Any]:
    """Return a response assessment: its state and the PERCIST, RECIST and Choi entries."""
    with store.session() as session:
        response = get_or_404(session, ResponseRow, response_id, "response")
        result = response.result or {}
        return {
            "response_id": response.id,
            "patient": response.patient_id,
            "baseline_study_id": response.baseline_study_id,
            "followup_study_id": response.followup_study_id,
            "status": response.status,
            "response": result.get("response", []),
            "errors": result.get("errors", []),
            "error": response.error,
        }
