"""What the pages need from the service's store.

Who is signed in, a study's files for the viewer, and the lesion overlay of an analysis's
current review version.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import numpy.typing as npt
from fastapi import HTTPException, Request
from sqlalchemy import select

from nenscope.core.geometry import ImageVolume
from nenscope.core.units import Unit
from nenscope.dicom.nifti import write_nifti
from nenscope.jobs.worker import version_dir
from nenscope.pipeline.viewer import ViewVolumes, cached_view_volumes, prepare_view_volumes
from nenscope.store.db import Store
from nenscope.store.models import Analysis, Instance, Series, Study, User
from nenscope.store.review import current_result, lesions_of
from nenscope.web.auth import csrf_token_of, page_user

__all__ = ["csrf_of", "lesion_overlay", "signed_in", "viewer_volumes"]

OVERLAY_CANDIDATE = 1
OVERLAY_CONFIRMED = 2


def signed_in(request: Request) -> User | None:
    """Return the user of the browser session, or None."""
    return page_user(request)


def csrf_of(request: Request) -> str | None:
    """Return the session's CSRF token (for the log-out form)."""
    return csrf_token_of(request)


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def viewer_volumes(request: Request, study_id: int) -> ViewVolumes:
    """Return the viewer's files for a stored study, writing them on first use.

    The study's stored DICOM files are linked (not copied) into a temporary folder for the
    one read, which is removed afterwards.
    """
    store = _store(request)
    folder = store.data_dir / "viewer" / str(study_id)
    done = cached_view_volumes(folder)
    if done is not None:
        return done
    with store.session() as session:
        if session.get(Study, study_id) is None:
            raise HTTPException(404, detail=f"No study with id {study_id}.")
        rows = session.execute(
            select(Series.series_instance_uid, Instance.sop_instance_uid, Instance.sha256)
            .join(Instance, Instance.series_id == Series.id)
            .where(Series.study_id == study_id)
        ).all()
    work_root = store.data_dir / "work"
    work_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"viewer-{study_id}-", dir=work_root))
    try:
        for series_uid, sop_uid, sha in rows:
            store.files.link_into(sha, work / series_uid / f"{sop_uid}.dcm")
        return prepare_view_volumes(work, folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _overlay_array(
    folder: Path, statuses: dict[int, str], shape: tuple[int, ...]
) -> npt.NDArray[np.uint8]:
    out = np.zeros(shape, dtype=np.uint8)
    labels_path = folder / "labels.npy"
    labels = np.load(labels_path) if labels_path.exists() else None
    for lesion_id, status in statuses.items():
        if status == "rejected":
            continue
        value = OVERLAY_CONFIRMED if status == "confirmed" else OVERLAY_CANDIDATE
        added = folder / f"review-lesion-{lesion_id}.npy"
        if added.exists():
            out[np.load(added).astype(bool)] = value
        elif labels is not None:
            out[labels == lesion_id] = value
    return out


def lesion_overlay(request: Request, analysis_id: int, study_id: int) -> bytes:
    """Return the lesion overlay of the analysis's current version as NIfTI (gzip) bytes.

    Voxels are 1 for a candidate, 2 for a confirmed lesion, 0 elsewhere (rejected lesions are
    not drawn), on the SUV grid of the analysis run.
    """
    store = _store(request)
    with store.session() as session:
        analysis = session.get(Analysis, analysis_id)
        if analysis is None or analysis.study_id != study_id:
            raise HTTPException(404, detail=f"No analysis {analysis_id} of study {study_id}.")
        if analysis.version < 1:
            raise HTTPException(404, detail=f"Analysis {analysis_id} has no result yet.")
        result = current_result(session, analysis)
    folder = version_dir(store, analysis_id)
    affine_path, suv_path = folder / "affine.npy", folder / "suv.npy"
    if not (affine_path.exists() and suv_path.exists()):
        raise HTTPException(404, detail=f"Analysis {analysis_id} stored no SUV image grid.")
    shape = np.load(suv_path, mmap_mode="r").shape
    statuses = {int(les["id"]): str(les.get("status", "candidate")) for les in lesions_of(result)}
    overlay = ImageVolume(
        array=_overlay_array(folder, statuses, shape),
        affine=np.load(affine_path),
        unit=Unit.LABEL,
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lesions.nii.gz"
        write_nifti(overlay, path)
        return path.read_bytes()
