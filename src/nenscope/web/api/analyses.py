"""Jobs, analyses, review edits (lesions, history, undo) and sign-off."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from nenscope.core.errors import WorkbenchError
from nenscope.dicom.instances import sign_structured_report
from nenscope.jobs.analysis import grow_lesion_from_seed, load_suv
from nenscope.jobs.worker import analysis_dir, version_dir
from nenscope.pacs import store as pacs_store
from nenscope.pacs.errors import UnknownNodeError
from nenscope.store.audit import record_event
from nenscope.store.db import Store
from nenscope.store.models import (
    Analysis,
    AnalysisState,
    Job,
    Lesion,
    ReviewEdit,
    Signature,
    Study,
    StudyState,
    User,
)
from nenscope.store.review import (
    LESION_STATUSES,
    apply_edit,
    current_result,
    lesions_of,
    undo_last_edit,
)
from nenscope.web.api._deps import Reader, Reviewer, SettingsDep, Signer, StoreDep, get_or_404

__all__ = ["router"]

router = APIRouter(tags=["analyses"])


@router.get("/jobs/{job_id}")
def get_job(job_id: int, store: StoreDep, _user: Reader) -> dict[str, Any]:
    """Return a job's state (queued, running, done, failed), progress 0-1 and error."""
    with store.session() as session:
        job = get_or_404(session, Job, job_id, "job")
        return {
            "job_id": job.id,
            "kind": job.kind,
            "analysis_id": job.analysis_id,
            "state": job.state,
            "progress": job.progress,
            "error": job.error,
            "created_at": job.created_at.isoformat(),
            "started_at": None if job.started_at is None else job.started_at.isoformat(),
            "finished_at": None if job.finished_at is None else job.finished_at.isoformat(),
        }


@router.get("/jobs")
def list_jobs(
    store: StoreDep,
    _user: Reader,
    state: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    """Jobs, newest first, optionally of one state."""
    query = select(Job).order_by(Job.id.desc()).limit(limit).offset(offset)
    if state:
        query = query.where(Job.state == state)
    with store.session() as session:
        return [
            {
                "job_id": j.id,
                "analysis_id": j.analysis_id,
                "state": j.state,
                "progress": j.progress,
                "error": j.error,
            }
            for j in session.scalars(query)
        ]


def _view(session: Any, analysis: Analysis) -> dict[str, Any]:
    job_id = session.scalar(
        select(Job.id).where(Job.analysis_id == analysis.id).order_by(Job.id.desc()).limit(1)
    )
    view: dict[str, Any] = {
        "analysis_id": analysis.id,
        "study_id": analysis.study_id,
        "job_id": job_id,
        "status": analysis.status,
        "version": analysis.version,
        "signed_version": analysis.signed_version,
        "options": analysis.options,
        "error": analysis.error,
        "lesions": [],
        "scores": [],
        "reference_regions": [],
        "physiological": [],
        "warnings": [],
        "errors": [],
        "rescored": False,
    }
    if analysis.version < 1:
        return view
    result = current_result(session, analysis)
    report = result.get("report") or {}
    view.update(
        {
            "lesions": lesions_of(result),
            "scores": report.get("scores") or [],
            "reference_regions": report.get("references") or [],
            "physiological": report.get("physiological") or [],
            "warnings": report.get("warnings") or [],
            "errors": result.get("errors") or [],
            "rescored": bool(result.get("rescored", False)),
        }
    )
    return view


@router.get("/analyses/{analysis_id}")
def get_analysis(analysis_id: int, store: StoreDep, _user: Reader) -> dict[str, Any]:
    """Return the current version of an analysis: lesions (as lesions.json), scores, references.

    ``rescored`` is false while the scores are those of the analysis run: re-scoring after
    review edits comes with ``nenscope.api`` (issue 9); lesion statuses are always current.
    """
    with store.session() as session:
        return _view(session, get_or_404(session, Analysis, analysis_id, "analysis"))


@router.get("/analyses/{analysis_id}/lesions")
def list_lesions(
    analysis_id: int,
    store: StoreDep,
    _user: Reader,
    status: Annotated[str | None, Query()] = None,
    site: Annotated[str | None, Query()] = None,
    min_suvmax: Annotated[float | None, Query()] = None,
) -> list[dict[str, Any]]:
    """Lesions of the current version, filtered (queries the lesion rows)."""
    query = select(Lesion).where(Lesion.analysis_id == analysis_id).order_by(Lesion.lesion_key)
    if status:
        query = query.where(Lesion.status == status)
    if site:
        query = query.where(Lesion.site == site)
    if min_suvmax is not None:
        query = query.where(Lesion.suvmax >= min_suvmax)
    with store.session() as session:
        get_or_404(session, Analysis, analysis_id, "analysis")
        return [
            {
                "id": row.lesion_key,
                "status": row.status,
                "site": row.site,
                "suvmax": row.suvmax,
                "suvpeak": row.suvpeak,
                "suvmean": row.suvmean,
                "volume_ml": row.volume_ml,
                "tlg": row.tlg,
                "centroid_mm": [row.x_mm, row.y_mm, row.z_mm],
            }
            for row in session.scalars(query)
        ]


class LesionStatus(BaseModel):
    """A review decision on a lesion."""

    status: str = Field(description="confirmed | rejected | candidate")


def _find(result: dict[str, Any], lesion_id: int) -> dict[str, Any]:
    for lesion in (result.get("report") or {}).get("lesions") or []:
        if int(lesion.get("id", -1)) == lesion_id:
            lesion.setdefault("status", "candidate")
            found: dict[str, Any] = lesion
            return found
    raise HTTPException(404, detail=f"No lesion {lesion_id} in this analysis.")


@router.patch("/analyses/{analysis_id}/lesions/{lesion_id}")
def set_lesion_status(
    analysis_id: int, lesion_id: int, body: LesionStatus, store: StoreDep, user: Reviewer
) -> dict[str, Any]:
    """Confirm or reject a lesion; makes a new version (history, undo)."""
    if body.status not in LESION_STATUSES:
        raise HTTPException(
            422, detail=f"status must be one of {', '.join(LESION_STATUSES)}, not {body.status!r}."
        )
    with store.session() as session:
        analysis = get_or_404(session, Analysis, analysis_id, "analysis")
        before = _find(current_result(session, analysis), lesion_id)["status"]

        def edit(result: dict[str, Any]) -> dict[str, Any]:
            _find(result, lesion_id)["status"] = body.status
            result["rescored"] = False
            return result

        edited = apply_edit(
            session,
            analysis,
            user=user,
            action="lesion.status",
            payload={"lesion_id": lesion_id, "status": body.status, "before": {"status": before}},
            edit=edit,
        )
        return _find(edited, lesion_id)


class Seed(BaseModel):
    """A seed point inside a lesion, LPS mm."""

    seed_mm: tuple[float, float, float]


def _lesion_masks(folder: Path, result: dict[str, Any]) -> np.ndarray[Any, Any] | None:
    path = folder / "labels.npy"
    labels = np.load(path) if path.exists() else None
    for lesion in (result.get("report") or {}).get("lesions") or []:
        added = folder / f"review-lesion-{int(lesion['id'])}.npy"
        if added.exists():
            mask = np.load(added)
            labels = np.zeros(mask.shape, np.uint16) if labels is None else labels
            labels[mask] = int(lesion["id"])
    return labels


@router.post("/analyses/{analysis_id}/lesions", status_code=201)
def add_lesion(analysis_id: int, body: Seed, store: StoreDep, user: Reviewer) -> dict[str, Any]:
    """Add a lesion grown from a seed on the stored SUV image (409 where one already is)."""
    with store.session() as session:
        analysis = get_or_404(session, Analysis, analysis_id, "analysis")
        result = current_result(session, analysis)
        folder = version_dir(store, analysis_id)
        if not (folder / "suv.npy").exists():
            raise HTTPException(
                409, detail="This analysis has no stored SUV image; a lesion cannot be added."
            )
        suv = load_suv(folder, result.get("suv_unit"))
        existing = lesions_of(result)
        new_id = max((int(les["id"]) for les in existing), default=0) + 1
        try:
            grown = grow_lesion_from_seed(suv, body.seed_mm, lesion_id=new_id, result=result)
        except WorkbenchError as err:
            raise HTTPException(422, detail=str(err)) from err
        labels = _lesion_masks(folder, result)
        if labels is not None:
            hit = sorted(set(np.unique(labels[grown.mask]).tolist()) - {0})
            live = {int(les["id"]) for les in existing if les["status"] != "rejected"}
            clash = [h for h in hit if h in live]
            if clash:
                raise HTTPException(
                    409,
                    detail=f"A lesion is already there (lesion {clash[0]}); confirm or reject "
                    "it instead of adding one.",
                )
        np.save(folder / f"review-lesion-{new_id}.npy", grown.mask)

        def edit(current: dict[str, Any]) -> dict[str, Any]:
            current.setdefault("report", {}).setdefault("lesions", []).append(grown.lesion)
            current["rescored"] = False
            return current

        apply_edit(
            session,
            analysis,
            user=user,
            action="lesion.add",
            payload={"lesion_id": new_id, "seed_mm": list(body.seed_mm)},
            edit=edit,
        )
        return grown.lesion


@router.post("/analyses/{analysis_id}/undo")
def undo(analysis_id: int, store: StoreDep, user: Reviewer) -> dict[str, Any]:
    """Undo the latest review edit (itself recorded as a new version)."""
    with store.session() as session:
        analysis = get_or_404(session, Analysis, analysis_id, "analysis")
        undo_last_edit(session, analysis, user=user)
        return _view(session, analysis)


@router.get("/analyses/{analysis_id}/history")
def history(analysis_id: int, store: StoreDep, _user: Reader) -> list[dict[str, Any]]:
    """Review edits, oldest first, with who made them and which versions they link."""
    with store.session() as session:
        get_or_404(session, Analysis, analysis_id, "analysis")
        edits = session.execute(
            select(ReviewEdit, User.username)
            .outerjoin(User, User.id == ReviewEdit.user_id)
            .where(ReviewEdit.analysis_id == analysis_id)
            .order_by(ReviewEdit.id)
        ).all()
        return [
            {
                "edit_id": e.id,
                "action": e.action,
                "from_version": e.from_version,
                "to_version": e.to_version,
                "payload": e.payload,
                "user": name,
                "at": e.created_at.isoformat(),
            }
            for e, name in edits
        ]


class SignRequest(BaseModel):
    """Where to send the signed SEG and SR (a configured PACS name), if anywhere."""

    send_to: str | None = None


def _signed_files(
    store: Store, analysis: Analysis, user: User, organisation: str, when: datetime
) -> tuple[Path, list[bytes]]:
    run = version_dir(store, analysis.id)
    out = analysis_dir(store, analysis.id) / f"signed-v{analysis.version}"
    out.mkdir(parents=True, exist_ok=True)
    pdf = run / "report.pdf"
    if not pdf.exists():
        raise HTTPException(409, detail="The analysis wrote no report.pdf; it cannot be signed.")
    shutil.copyfile(pdf, out / "report.pdf")
    send: list[bytes] = []
    seg, sr = run / "seg.dcm", run / "sr.dcm"
    if seg.exists():
        send.append(seg.read_bytes())
    if sr.exists():
        signed = sign_structured_report(
            sr.read_bytes(), observer_name=user.username, organisation=organisation, signed_at=when
        )
        (out / "sr.dcm").write_bytes(signed)
        send.append(signed)
    return out / "report.pdf", send


@router.post("/analyses/{analysis_id}/sign")
def sign(
    analysis_id: int,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    user: Signer,
    body: SignRequest | None = None,
) -> dict[str, Any]:
    """Sign the current version: freeze it, keep the PDF, send SEG + SR (observer = you).

    A change after signing makes a new version that must be signed again (an amendment).
    """
    target = None
    if body is not None and body.send_to:
        target = settings.pacs.get(body.send_to)
        if target is None:
            known = ", ".join(settings.pacs) or "none"
            raise UnknownNodeError(f"No PACS named {body.send_to!r}; configured: {known}.")
    when = datetime.now(UTC)
    with store.session() as session:
        analysis = get_or_404(session, Analysis, analysis_id, "analysis")
        if analysis.status == AnalysisState.SIGNED.value:
            raise HTTPException(
                409,
                detail=f"Version {analysis.version} is signed already; an edit makes an "
                "amendment to sign.",
            )
        if analysis.status != AnalysisState.DONE.value:
            raise HTTPException(409, detail=f"Analysis is {analysis.status}; nothing to sign.")
        pdf, files = _signed_files(store, analysis, user, settings.organisation, when)
        sent = pacs_store(target, files) if target is not None else []
        previous = session.scalar(
            select(Signature.id)
            .where(Signature.analysis_id == analysis_id)
            .order_by(Signature.id.desc())
            .limit(1)
        )
        signature = Signature(
            analysis_id=analysis_id,
            version=analysis.version,
            user_id=user.id,
            signed_at=when,
            report_pdf=str(pdf),
            sent=sent,
            amends=previous,
        )
        session.add(signature)
        analysis.status = AnalysisState.SIGNED.value
        analysis.signed_version = analysis.version
        study = session.get(Study, analysis.study_id)
        if study is not None:
            study.status = StudyState.SIGNED.value
        session.flush()
        record_event(
            session,
            user=user,
            action="analysis.sign",
            object_type="analysis",
            object_id=analysis_id,
            before={"status": AnalysisState.DONE.value},
            after={
                "status": AnalysisState.SIGNED.value,
                "version": analysis.version,
                "sent_to": None if target is None else target.name,
                "sent": sent,
                "amends": previous,
            },
        )
        return {
            "signature_id": signature.id,
            "version": analysis.version,
            "report_pdf": f"/api/analyses/{analysis_id}/report.pdf?version={analysis.version}",
            "sent": sent,
            "amends": previous,
        }


@router.get("/analyses/{analysis_id}/report.pdf", response_class=FileResponse)
def report_pdf(
    analysis_id: int,
    store: StoreDep,
    _user: Reader,
    version: Annotated[int | None, Query()] = None,
) -> FileResponse:
    """Return the signed PDF of ``version``, else the PDF of the analysis run."""
    folder = analysis_dir(store, analysis_id)
    path = folder / f"signed-v{version}" / "report.pdf" if version else folder / "run/report.pdf"
    if not path.exists():
        raise HTTPException(404, detail=f"No report PDF for analysis {analysis_id}.")
    return FileResponse(path, media_type="application/pdf", filename="report.pdf")
