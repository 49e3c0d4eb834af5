"""Jobs, analyses, review edits (lesions, history, undo) and sign-off."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from nenscope.api import measure_reference
from nenscope.core.errors import WorkbenchError
from nenscope.core.geometry import ImageVolume
from nenscope.dicom.instances import sign_structured_report
from nenscope.jobs.analysis import grow_lesion_from_seed, load_suv
from nenscope.jobs.review import (
    analysis_lesion_count,
    rescore_result,
    review_of,
    review_state,
    sstr_rads_from_json,
    sstr_rads_to_json,
    stored_region,
    write_signed,
)
from nenscope.jobs.worker import analysis_dir, link_study, version_dir
from nenscope.pacs import store as pacs_store
from nenscope.pacs.errors import UnknownNodeError
from nenscope.pipeline.references import REFERENCE_NAMES, ReferenceRegion
from nenscope.pipeline.scores import SstrRadsInputs
from nenscope.pipeline.serialize import from_plain, to_plain
from nenscope.store.audit import record_event
from nenscope.store.db import Store
from nenscope.store.models import (
    Analysis,
    AnalysisState,
    AnalysisVersion,
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
        "sstr_rads_inputs": {},
        "review": {},
        "report_html": None,
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
            "sstr_rads_inputs": _sstr_rads_inputs(result),
            "review": _review_summary(result),
            "report_html": f"/api/analyses/{analysis.id}/report.html?version={analysis.version}",
        }
    )
    return view


def _sstr_rads_inputs(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Return the SSTR-RADS inputs in force by lesion id (the reader's, else the analysis's)."""
    rads = (result.get("review") or {}).get("sstr_rads")
    if rads:
        return dict(rads.get("json") or {})
    options = ((result.get("analysis") or {}).get("options") or {}).get("sstr_rads")
    if not options:
        return {}
    return sstr_rads_to_json(from_plain(options, SstrRadsInputs, where="options.sstr_rads"))


def _review_summary(result: dict[str, Any]) -> dict[str, Any]:
    """Who changed what: decisions, added lesions, moved references, SSTR-RADS inputs."""
    review = result.get("review") or {}
    return {
        "decisions": review.get("decisions") or {},
        "added": [
            {"id": a["id"], "by": a.get("by"), "detection": a.get("detection")}
            for a in review.get("added") or []
        ],
        "references": {
            name: {k: v for k, v in item.items() if k != "region"}
            for name, item in (review.get("references") or {}).items()
        },
        "sstr_rads_by": (review.get("sstr_rads") or {}).get("by"),
    }


@router.get("/analyses/{analysis_id}")
def get_analysis(analysis_id: int, store: StoreDep, _user: Reader) -> dict[str, Any]:
    """Return the current version of an analysis: lesions (as lesions.json), scores, references.

    After a review edit (``rescored`` true) the scores, target lesions, totals and references
    are those of the reviewed version (rejected lesions out, added ones in); each lesion keeps
    its id and gets ``report_id``, its number in the reviewed report and SEG.
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
            review_of(result)["decisions"][str(lesion_id)] = {
                "status": body.status,
                "by": user.username,
            }
            return _rescore(store, analysis, result)

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


def _rescore(store: Store, analysis: Analysis, result: dict[str, Any]) -> dict[str, Any]:
    """Re-score ``result`` (the next version's) with its review; writes its report files.

    The HTML and JSON are written at once without figures; the figures (MIP, lesion views,
    about 0.5 s each) and the PDF follow on the first request of the report (see
    :func:`_with_figures`), so that an edit answers in the time of the re-score.
    """
    version = analysis.version + 1
    run = version_dir(store, analysis.id)
    out = analysis_dir(store, analysis.id) / f"review-v{version}"
    _figures_marker(out).unlink(missing_ok=True)
    return rescore_result(result, run, out)


def _figures_marker(out: Path) -> Path:
    return out.with_name(f"{out.name}.figures")


def _with_figures(store: Store, analysis_id: int, version: int, *, pdf: bool) -> Path | None:
    """Return the reviewed report folder of a version with its figures (and PDF) written.

    ``None`` for a version without review edits (its files are the analysis run's).
    """
    result = _version_result(store, analysis_id, version)
    html = (result.get("review_files") or {}).get("report_html")
    if not result.get("rescored") or not html:
        return None
    out = (analysis_dir(store, analysis_id) / str(html)).parent
    marker = _figures_marker(out)
    if not marker.exists() or (pdf and not (out / "report.pdf").exists()):
        run = version_dir(store, analysis_id)
        suv = load_suv(run, result.get("suv_unit")) if (run / "suv.npy").exists() else None
        rescore_result(result, run, out, suv=suv, pdf=pdf, lesion_views=True)
        marker.touch()
    return out


def _lesion_masks(folder: Path, result: dict[str, Any]) -> np.ndarray[Any, Any] | None:
    """Label map of the current version's lesions (analysis labels, then added masks)."""
    path = folder / "labels.npy"
    labels = np.load(path) if path.exists() else None
    files = {int(a["id"]): str(a["mask"]) for a in review_of(dict(result)).get("added") or []}
    for lesion in (result.get("report") or {}).get("lesions") or []:
        lid = int(lesion["id"])
        added = folder / files.get(lid, f"review-lesion-{lid}.npy")
        if added.exists():
            mask = np.load(added)
            labels = np.zeros(mask.shape, np.uint16) if labels is None else labels
            labels[mask] = lid
    return labels


def _stored_suv(folder: Path, result: dict[str, Any], refused: str) -> ImageVolume:
    """Load the version's stored SUV image; 409 (saying what is ``refused``) if there is none."""
    if not (folder / "suv.npy").exists():
        raise HTTPException(409, detail=f"This analysis has no stored SUV image; {refused}.")
    return load_suv(folder, result.get("suv_unit"))


@router.post("/analyses/{analysis_id}/lesions", status_code=201)
def add_lesion(analysis_id: int, body: Seed, store: StoreDep, user: Reviewer) -> dict[str, Any]:
    """Add a lesion grown from a seed on the stored SUV image (409 where one already is).

    The new version is re-scored at once (scores, totals, report); no DICOM is read.
    """
    with store.session() as session:
        analysis = get_or_404(session, Analysis, analysis_id, "analysis")
        result = current_result(session, analysis)
        folder = version_dir(store, analysis_id)
        suv = _stored_suv(folder, result, "a lesion cannot be added")
        existing = lesions_of(result)
        new_id = max((int(les["id"]) for les in existing), default=0) + 1
        new_id = max(new_id, analysis_lesion_count(result) + 1)
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
        # The name the viewer's overlay reads (web/pages/_store.py). An id freed by undoing an
        # add is given again with the new mask; the undone version is never current again.
        mask_name = f"review-lesion-{new_id}.npy"
        np.save(folder / mask_name, grown.mask)

        def edit(current: dict[str, Any]) -> dict[str, Any]:
            current.setdefault("report", {}).setdefault("lesions", []).append(grown.lesion)
            review_of(current)["added"].append(
                {
                    "id": new_id,
                    "mask": mask_name,
                    "statistics": to_plain(grown.statistics),
                    "detection": grown.lesion["detection"].removeprefix("review: "),
                    "by": user.username,
                    "seed_mm": list(body.seed_mm),
                }
            )
            return _rescore(store, analysis, current)

        edited = apply_edit(
            session,
            analysis,
            user=user,
            action="lesion.add",
            payload={"lesion_id": new_id, "seed_mm": list(body.seed_mm)},
            edit=edit,
        )
        return _find(edited, new_id)


class ReferenceMove(BaseModel):
    """A new centre (LPS mm) and optionally a radius for a reference region."""

    model_config = ConfigDict(extra="forbid")

    centre_mm: tuple[float, float, float]
    radius_mm: float | None = None


@router.put("/analyses/{analysis_id}/references/{kind}")
def move_reference(
    analysis_id: int, kind: str, body: ReferenceMove, store: StoreDep, user: Reviewer
) -> dict[str, Any]:
    """Move a reference region (liver, spleen, blood_pool) and re-score; answers the analysis.

    The region is measured again on the stored SUV image with the pipeline's placement for a
    user point (liver: PERCIST 15 mm sphere, spleen: 10 mm sphere, blood pool: 10 × 20 mm
    cylinder; ``radius_mm`` replaces the radius). A centre outside the image or the body: 422.
    """
    if kind not in REFERENCE_NAMES:
        raise HTTPException(
            404, detail=f"No reference region {kind!r}; use one of {', '.join(REFERENCE_NAMES)}."
        )
    with store.session() as session:
        analysis = get_or_404(session, Analysis, analysis_id, "analysis")
        result = current_result(session, analysis)
        folder = version_dir(store, analysis_id)
        suv = _stored_suv(folder, result, "a region cannot be moved")
        before = _reference_entry(result, kind)
        sul_factor = None
        state = review_state(result, folder)
        current = state.references.get(kind) or _analysis_reference(result, kind)
        if current is not None and current.sul_mean is not None and current.mean > 0:
            sul_factor = current.sul_mean / current.mean
        region = measure_reference(
            suv, kind, body.centre_mm, radius_mm=body.radius_mm, sul_factor=sul_factor
        )

        def edit(current: dict[str, Any]) -> dict[str, Any]:
            review_of(current)["references"][kind] = {
                "region": stored_region(region),
                "by": user.username,
                "centre_mm": list(body.centre_mm),
                "radius_mm": body.radius_mm,
            }
            return _rescore(store, analysis, current)

        apply_edit(
            session,
            analysis,
            user=user,
            action="reference.move",
            payload={
                "reference": kind,
                "centre_mm": list(body.centre_mm),
                "radius_mm": body.radius_mm,
                "mean": region.mean,
                "before": {"reference": before},
            },
            edit=edit,
        )
        return _view(session, analysis)


def _reference_entry(result: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for region in (result.get("report") or {}).get("references") or []:
        if region.get("name") == kind:
            return {"centre_mm": region.get("centre_mm"), "mean": (region.get("mean") or {})}
    return None


def _analysis_reference(result: dict[str, Any], kind: str) -> ReferenceRegion | None:
    plain = ((result.get("analysis") or {}).get("references") or {}).get(kind)
    if plain is None:
        return None
    region: ReferenceRegion = from_plain(plain, ReferenceRegion, where=f"references.{kind}")
    return region


class SstrRadsLesion(BaseModel):
    """Clinical inputs of SSTR-RADS for one lesion."""

    model_config = ConfigDict(extra="forbid")

    site: str = Field("typical", description="typical | atypical (site typical of NET?)")
    anatomy: str = Field("none", description="none | suspicious | benign (CT/MRI finding)")
    bone: bool = False
    variant: bool = Field(False, description="physiological variant (e.g. uncinate process)")


class SstrRadsBody(BaseModel):
    """SSTR-RADS inputs by lesion id (the ids of the lesion table); replaces earlier inputs."""

    model_config = ConfigDict(extra="forbid")

    lesions: dict[int, SstrRadsLesion]


@router.put("/analyses/{analysis_id}/sstr-rads")
def set_sstr_rads(
    analysis_id: int, body: SstrRadsBody, store: StoreDep, user: Reviewer
) -> dict[str, Any]:
    """Set the clinical inputs of SSTR-RADS (site, CT/MRI correlate, bone, variant); re-score.

    Lesions not named get the defaults (typical site, no anatomic correlate). Unknown values
    answer 422 naming the closest valid value, as the command line does.
    """
    with store.session() as session:
        analysis = get_or_404(session, Analysis, analysis_id, "analysis")
        result = current_result(session, analysis)
        lesions = {int(les["id"]): les["status"] for les in lesions_of(result)}
        unknown = sorted(set(body.lesions) - set(lesions))
        if unknown:
            raise HTTPException(
                422,
                detail=f"SSTR-RADS inputs name lesion {unknown[0]}, which this analysis does "
                f"not have (lesions: {', '.join(str(i) for i in sorted(lesions))}).",
            )
        rejected = sorted(i for i in body.lesions if lesions[i] == "rejected")
        if rejected:
            raise HTTPException(
                422,
                detail=f"Lesion {rejected[0]} is rejected; SSTR-RADS inputs apply to counted "
                "lesions only (confirm it first).",
            )
        fields = {i: v.model_dump() for i, v in body.lesions.items()}
        inputs = sstr_rads_from_json(fields)  # OptionError (422) names the bad value
        shown = sstr_rads_to_json(inputs)

        def edit(current: dict[str, Any]) -> dict[str, Any]:
            review_of(current)["sstr_rads"] = {
                "inputs": to_plain(inputs),
                "json": shown,
                "by": user.username,
            }
            return _rescore(store, analysis, current)

        apply_edit(
            session,
            analysis,
            user=user,
            action="sstr_rads.inputs",
            payload={"lesions": shown, "before": {"lesions": _sstr_rads_inputs(result)}},
            edit=edit,
        )
        return _view(session, analysis)


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
    store: Store,
    session: Any,
    analysis: Analysis,
    user: User,
    organisation: str,
    when: datetime,
) -> tuple[Path, list[bytes]]:
    """Write the signed version's PDF, SEG and SR; returns the PDF and what goes to the PACS.

    A reviewed version (``rescored``) gets its own PDF, SEG and SR from the reviewed result:
    the study's DICOM files are read again from the content-addressed store (the SEG and SR
    reference the source images). An unreviewed version signs the analysis run's files.
    """
    run = version_dir(store, analysis.id)
    out = analysis_dir(store, analysis.id) / f"signed-v{analysis.version}"
    result = current_result(session, analysis)
    if result.get("rescored"):
        work = store.data_dir / "work" / f"sign-{analysis.id}-v{analysis.version}"
        shutil.rmtree(work, ignore_errors=True)
        try:
            link_study(store, session, analysis.study_id, work)
            files = write_signed(result, run, work, out)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        seg, sr = files["seg"], files["sr"]
    else:
        out.mkdir(parents=True, exist_ok=True)
        pdf = run / "report.pdf"
        if not pdf.exists():
            raise HTTPException(
                409, detail="The analysis wrote no report.pdf; it cannot be signed."
            )
        shutil.copyfile(pdf, out / "report.pdf")
        seg, sr = run / "seg.dcm", run / "sr.dcm"
    send: list[bytes] = []
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
        pdf, files = _signed_files(store, session, analysis, user, settings.organisation, when)
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
    """Return the PDF of ``version``: signed, else reviewed; without it, the analysis run's.

    The PDF of a reviewed version that is not signed is written on the first request (a few
    seconds: review edits write the HTML at once and leave the PDF to here and to signing).
    """
    folder = analysis_dir(store, analysis_id)
    path = folder / "run" / "report.pdf"
    if version:
        signed = folder / f"signed-v{version}" / "report.pdf"
        path = signed if signed.exists() else _reviewed_pdf(store, analysis_id, version)
    if not path.exists():
        raise HTTPException(404, detail=f"No report PDF for analysis {analysis_id}.")
    return FileResponse(path, media_type="application/pdf", filename="report.pdf")


def _version_result(store: Store, analysis_id: int, version: int) -> dict[str, Any]:
    with store.session() as session:
        row = session.scalar(
            select(AnalysisVersion).where(
                AnalysisVersion.analysis_id == analysis_id, AnalysisVersion.version == version
            )
        )
        if row is None:
            raise HTTPException(404, detail=f"Analysis {analysis_id} has no version {version}.")
        return dict(row.result)


def _reviewed_pdf(store: Store, analysis_id: int, version: int) -> Path:
    """Return the PDF of a version, writing a reviewed version's on first request."""
    out = _with_figures(store, analysis_id, version, pdf=True)
    if out is None:
        return analysis_dir(store, analysis_id) / "run" / "report.pdf"
    return out / "report.pdf"


@router.get("/analyses/{analysis_id}/report.html", response_class=HTMLResponse)
def report_html(
    analysis_id: int,
    store: StoreDep,
    _user: Reader,
    version: Annotated[int | None, Query()] = None,
) -> HTMLResponse:
    """Return the HTML report of ``version`` (default: the current one), re-scored after review.

    A reviewed version's figures (MIP and lesion views from the stored SUV image) are drawn on
    the first request (a few seconds), then kept.
    """
    if version is None:
        with store.session() as session:
            version = get_or_404(session, Analysis, analysis_id, "analysis").version
    out = _with_figures(store, analysis_id, version, pdf=False)
    path = analysis_dir(store, analysis_id) / "run" / "report.html"
    if out is not None:
        path = out / "report.html"
    if not path.exists():
        raise HTTPException(404, detail=f"No HTML report for analysis {analysis_id} v{version}.")
    return HTMLResponse(path.read_text(encoding="utf-8"))
