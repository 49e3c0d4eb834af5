"""The service's review edits as a :class:`~nenscope.api.ReviewState`, re-scored and re-rendered.

The service holds no analysis logic: it keeps what the reader did in the stored result's
``review`` entry (JSON) and in mask files beside the run, and this module turns that into a
:class:`~nenscope.api.ReviewState`, calls :func:`~nenscope.api.review_analysis` on the
analysis's own stored :class:`~nenscope.api.AnalysisResult` (``result["analysis"]``, never
changed by a review) and writes the reviewed report with :func:`~nenscope.api.write_outputs`.
Nothing here reads DICOM but :func:`write_signed`, which reads the study again because the DICOM
SEG and SR must reference its source images.

``result["review"]`` holds::

    {"decisions": {"3": {"status": "rejected", "by": "doc"}},
     "added": [{"id": 8, "mask": "review-lesion-8.npy", "statistics": {...},
                "detection": "...", "by": "doc"}],
     "references": {"liver": {"region": {...}, "by": "doc"}},
     "sstr_rads": {"inputs": {...}, "by": "doc"}}

(``statistics``, ``region`` and ``inputs`` as :func:`nenscope.pipeline.serialize.to_plain`
writes them). The lesion statuses themselves are those of ``result["report"]["lesions"]``.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from nenscope.api import (
    AddedLesion,
    AnalysisResult,
    LesionDecision,
    ReviewedAnalysis,
    ReviewState,
    SstrRadsInputs,
    load_study,
    review_analysis,
    review_figures,
    write_outputs,
)
from nenscope.core.errors import StoredResultError, WorkbenchError
from nenscope.core.geometry import ImageVolume
from nenscope.pipeline.outputs import render_figures
from nenscope.pipeline.references import ReferenceRegion
from nenscope.pipeline.serialize import from_plain, to_plain
from nenscope.quantification.lesions import LesionStatistics
from nenscope.reporting import report_to_dict

__all__ = [
    "REVIEW_OUTPUTS",
    "analysis_lesion_count",
    "rescore_result",
    "review_of",
    "review_state",
    "sstr_rads_from_json",
    "sstr_rads_to_json",
    "stored_region",
    "write_signed",
]

REVIEW_OUTPUTS = ("report_html", "report_json", "lesions_json", "lesions_csv", "report_pdf")
"""Files a re-scored version has (its folder ``review-v{version}`` beside ``run``)."""


def review_of(result: dict[str, Any]) -> dict[str, Any]:
    """Return the ``review`` entry of a stored result, created empty where missing."""
    review: dict[str, Any] = result.setdefault("review", {})
    review.setdefault("decisions", {})
    review.setdefault("added", [])
    review.setdefault("references", {})
    return review


def analysis_lesion_count(result: Mapping[str, Any]) -> int:
    """Count the lesions the analysis itself found (ids 1..N; added ones are above)."""
    return len((result.get("analysis") or {}).get("statistics") or [])


def sstr_rads_to_json(inputs: SstrRadsInputs) -> dict[str, dict[str, Any]]:
    """SSTR-RADS inputs per lesion id as the API shows them (``{"3": {"site": ...}}``)."""
    ids = sorted({*inputs.sites, *inputs.anatomy, *inputs.bone, *inputs.variants})
    return {
        str(i): {
            "site": inputs.sites.get(i, "typical"),
            "anatomy": inputs.anatomy.get(i, "none"),
            "bone": i in inputs.bone,
            "variant": i in inputs.variants,
        }
        for i in ids
    }


def sstr_rads_from_json(lesions: Mapping[int, Mapping[str, Any]]) -> SstrRadsInputs:
    """SSTR-RADS inputs from the API's per-lesion fields (validated; OptionError names them)."""
    sites = {i: str(v.get("site", "typical")) for i, v in lesions.items()}
    anatomy = {i: str(v.get("anatomy", "none")) for i, v in lesions.items()}
    return SstrRadsInputs(
        sites={i: s for i, s in sites.items() if s != "typical"},
        anatomy={i: a for i, a in anatomy.items() if a != "none"},
        bone=tuple(sorted(i for i, v in lesions.items() if v.get("bone"))),
        variants=tuple(sorted(i for i, v in lesions.items() if v.get("variant"))),
    )


def review_state(result: Mapping[str, Any], run_dir: Path) -> ReviewState:
    """Read the reader's changes of a stored result as a :class:`ReviewState`.

    Raises
    ------
    StoredResultError
        If a stored part (an added lesion's mask file, a moved region) cannot be read.
    """
    review = dict(result.get("review") or {})
    n = analysis_lesion_count(result)
    statuses = {
        int(les["id"]): str(les.get("status") or "candidate")
        for les in (result.get("report") or {}).get("lesions") or []
    }
    by = {int(k): str(v.get("by") or "") for k, v in (review.get("decisions") or {}).items()}
    decisions = {
        rid: LesionDecision(status=status, by=by.get(rid, ""))
        for rid, status in statuses.items()
        if rid <= n and status != "candidate"
    }
    added = []
    for item in review.get("added") or []:
        rid = int(item["id"])
        if statuses.get(rid, "confirmed") == "rejected":
            continue
        path = run_dir / str(item["mask"])
        try:
            mask = np.load(path)
        except OSError as err:
            raise StoredResultError(
                f"Mask of added lesion {rid} ({path}) unreadable: {err}"
            ) from err
        added.append(
            AddedLesion(
                id=rid,
                mask=np.asarray(mask, dtype=bool),
                statistics=from_plain(item["statistics"], LesionStatistics, where="statistics"),
                detection=str(item.get("detection") or "added in review"),
                by=str(item.get("by") or ""),
            )
        )
    references: dict[str, ReferenceRegion] = {}
    references_by: dict[str, str] = {}
    for name, item in (review.get("references") or {}).items():
        references[name] = from_plain(item["region"], ReferenceRegion, where=f"review {name}")
        references_by[name] = str(item.get("by") or "")
    rads = review.get("sstr_rads")
    return ReviewState(
        decisions=decisions,
        added=tuple(added),
        references=references,
        references_by=references_by,
        sstr_rads=None
        if not rads
        else from_plain(rads["inputs"], SstrRadsInputs, where="review sstr_rads"),
        sstr_rads_by="" if not rads else str(rads.get("by") or ""),
    )


BASE_CACHE_SIZE = 2
"""Analyses whose restored :class:`AnalysisResult` a process keeps (about 100 MB each for a
whole-body study): restoring the label map and reference masks costs 0.3-1 s per edit."""

_bases: OrderedDict[tuple[str, str], AnalysisResult] = OrderedDict()
_bases_lock = threading.Lock()


def _base(result: Mapping[str, Any], run_dir: Path) -> AnalysisResult:
    """Restore the analysis's own result once per process (review never changes it)."""
    stored = result["analysis"]
    created = str((stored.get("report") or {}).get("created"))
    key = (str(run_dir), created)
    with _bases_lock:
        if key in _bases:
            _bases.move_to_end(key)
            return _bases[key]
    base = AnalysisResult.from_dict(stored)
    with _bases_lock:
        _bases[key] = base
        while len(_bases) > BASE_CACHE_SIZE:
            _bases.popitem(last=False)
    return base


def _reviewed(result: Mapping[str, Any], run_dir: Path, study: Any = None) -> ReviewedAnalysis:
    base = _base(result, run_dir)
    if study is not None:
        base = dataclasses.replace(base, study=study)
    return review_analysis(base, review_state(result, run_dir))


def _stable_lesions(
    result: Mapping[str, Any], reviewed: ReviewedAnalysis, report: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Return the service's lesion list (review ids, statuses) with the re-scored values."""
    by_number = {int(les["id"]): les for les in report.get("lesions") or []}
    decisions = (result.get("review") or {}).get("decisions") or {}
    out = []
    for lesion in (result.get("report") or {}).get("lesions") or []:
        rid = int(lesion["id"])
        status = str(lesion.get("status") or "candidate")
        number = reviewed.report_ids.get(rid)
        if number is not None and number in by_number:
            fresh = {**by_number[number], "id": rid, "status": status, "report_id": number}
        else:
            # Left out of the reviewed report: its analysis values, no score.
            # Its reader is who rejected it (not who may have confirmed it before).
            fresh = {
                **lesion,
                "status": status,
                "reviewed_by": str((decisions.get(str(rid)) or {}).get("by") or "") or None,
                "report_id": None,
                "sstr_rads": None,
                "target": False,
            }
        out.append(fresh)
    return out


def rescore_result(
    result: dict[str, Any],
    run_dir: Path,
    out_dir: Path,
    *,
    suv: ImageVolume | None = None,
    pdf: bool = False,
    lesion_views: bool = False,
) -> dict[str, Any]:
    """Re-score a stored result with its review and write the reviewed report into ``out_dir``.

    Parameters
    ----------
    result
        The stored result (changed in place and returned): ``report`` becomes the reviewed
        report (lesions keep their review ids and statuses, with ``report_id`` = number in
        the reviewed report), ``rescored`` true, ``review_files`` the files by role
        (relative to the analysis folder).
    run_dir
        The analysis run's folder (added lesions' masks).
    out_dir
        Folder of this version's reviewed files (HTML, JSON, CSV, PDF).
    suv
        The stored SUV image: with it the report gets its MIP (PET only).
    pdf
        Write the PDF as well (2-5 s: a review edit leaves it to :func:`write_review_pdf` on
        request and to signing).
    lesion_views
        Draw the target lesions' views too (about 0.5 s each).
    """
    reviewed = _reviewed(result, run_dir)
    analysis = reviewed.result
    if suv is not None:
        figures = review_figures(
            analysis.report,
            suv,
            analysis.labels,
            tracer=_tracer(analysis.report),
            lesion_views=lesion_views,
        )
        analysis = dataclasses.replace(
            analysis, report=dataclasses.replace(analysis.report, figures=figures)
        )
    analysis = dataclasses.replace(
        analysis,
        options=dataclasses.replace(analysis.options, pdf=pdf, dicom_outputs=False),
    )
    written = write_outputs(analysis, out_dir)
    report = report_to_dict(written.report)
    report["lesions"] = _stable_lesions(result, reviewed, report)
    result["report"] = report
    result["rescored"] = True
    result["review_files"] = {
        role: f"{out_dir.name}/{Path(path).name}"
        for role, path in written.files.items()
        if role in REVIEW_OUTPUTS
    }
    return result


def _tracer(report: Any) -> str:
    header = report.header
    return "" if header is None else str(header.tracer)


def write_signed(
    result: Mapping[str, Any], run_dir: Path, study_dir: Path, out_dir: Path
) -> dict[str, Path]:
    """Write the reviewed PDF, DICOM SEG and SR of a version, reading the study's DICOM again.

    The SEG and SR must reference the source images (SOP instance UIDs, frame of reference),
    which a stored result does not hold, so the study is read again from ``study_dir``; the
    reviewed report, label map and reference regions come from the stored result and its
    review (:func:`review_analysis`). Rejected lesions are not in the SEG/SR; added ones are.

    Raises
    ------
    WorkbenchError
        If the study read again does not match the stored result (another PET grid) or an
        output cannot be written (the message says which).
    """
    base = AnalysisResult.from_dict(result["analysis"])
    header = base.report.header
    options = base.options
    if header is not None:
        options = dataclasses.replace(options, pet_series_uid=header.pet_series_uid)
    study = load_study(study_dir, options)
    reviewed = _reviewed(result, run_dir, study=study).result
    if reviewed.labels is not None and reviewed.labels.shape != study.suv.shape:
        raise WorkbenchError(
            f"The study read again has a PET grid {study.suv.shape}, the stored result "
            f"{reviewed.labels.shape}; the analysis must be run again before signing."
        )
    figures = render_figures(reviewed.report, study, reviewed.labels)
    reviewed = dataclasses.replace(
        reviewed,
        report=dataclasses.replace(reviewed.report, figures=figures),
        options=dataclasses.replace(reviewed.options, pdf=True, dicom_outputs=True),
    )
    written = write_outputs(reviewed, out_dir)
    missing = [role for role in ("report_pdf", "seg", "sr") if role not in written.files]
    if missing:
        raise WorkbenchError(
            f"Signing needs {', '.join(missing)}, which could not be written: "
            + " ".join(written.report.errors)
        )
    return dict(written.files)


def stored_region(region: ReferenceRegion) -> dict[str, Any]:
    """Return a moved region as ``review["references"][name]["region"]`` stores it."""
    plain: dict[str, Any] = to_plain(region)
    return plain
