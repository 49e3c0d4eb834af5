"""Write the outputs of an analysis: figures, DICOM SEG and SR, JSON/CSV, HTML and PDF.

Each output is written on its own: a failure (for instance a SEG that cannot reference an
unusual source series) is recorded in the report's errors and the other files are still
written.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt

from nenscope.core.diagnostics import capture_library_warnings
from nenscope.core.errors import WorkbenchError
from nenscope.core.geometry import ImageVolume
from nenscope.core.units import Unit
from nenscope.dicom._io import paused_gc
from nenscope.dicom.seg_sr import (
    SegmentKind,
    SegmentSpec,
    SrMeasurementGroup,
    write_seg,
    write_sr,
)
from nenscope.pipeline.model import AnalysisOptions, AnalysisResult, StudyData
from nenscope.pipeline.radiomics import write_radiomics
from nenscope.pipeline.references import REFERENCE_NAMES, ReferenceRegion
from nenscope.pipeline.stages import Stages
from nenscope.pipeline.staging import check_output_folder, relocate, staged_folder
from nenscope.reporting import (
    LesionEntry,
    LesionMarker,
    Report,
    ReportFigures,
    lesions_to_csv,
    lesions_to_json,
    render_html,
    render_lesion_png,
    render_mip_png,
    report_to_json,
    write_pdf,
)
from nenscope.reporting.presentation import target_ids
from nenscope.segmentation.sites import site_code

__all__ = [
    "OUTPUT_NAMES",
    "check_output_folder",
    "render_figures",
    "write_dicom_outputs",
    "write_files",
    "write_outputs",
]

OUTPUT_NAMES = (
    "lesions.json",
    "lesions.csv",
    "report.json",
    "report.html",
    "report.pdf",
    "seg.dcm",
    "sr.dcm",
    "radiomics.json",
    "radiomics.csv",
)
"""Files an analysis writes into its output folder (the radiomics files only with
``--radiomics``; they are removed like the others so that an earlier run's cannot remain)."""

_KIND = {
    "liver": SegmentKind.LIVER,
    "spleen": SegmentKind.SPLEEN,
    "blood_pool": SegmentKind.BLOOD_POOL,
}


MIN_VIEW_FOV_MM = 120.0
"""Smallest field of view of a lesion view, mm; larger lesions get 1.6 × their diameter."""


def _view_fov_mm(lesion: LesionEntry) -> float:
    diameter = lesion.quantities.get("longest_diameter_mm")
    if diameter is None or diameter.value is None:
        return MIN_VIEW_FOV_MM
    return max(MIN_VIEW_FOV_MM, 1.6 * diameter.value)


def render_figures(
    report: Report, study: StudyData, labels: npt.NDArray[np.uint16] | None
) -> ReportFigures:
    """Render the coronal MIP (targets numbered, others marked) and the targets' axial views."""
    return draw_figures(
        report,
        study.suv,
        None if study.ct is None else study.ct.volume,
        labels,
        title=f"Coronal MIP — {study.tracer}",
    )


# matplotlib's figures are many small objects in reference cycles: drawn with the cycle
# collector paused, so that its full collections do not walk the ~320,000 objects the
# analysis holds while they are made; their cycles are freed once, after the figures.
@paused_gc()
def draw_figures(
    report: Report,
    suv: ImageVolume,
    ct: ImageVolume | None,
    labels: npt.NDArray[np.uint16] | None,
    *,
    title: str,
    lesion_views: bool = True,
) -> ReportFigures:
    """Draw the coronal MIP and (with ``lesion_views``) the target lesions' axial views.

    Shared by the analysis's figures (:func:`render_figures`) and a reviewed report's
    (:func:`nenscope.pipeline.review.review_figures`, no CT); ``ct`` None draws PET only.
    """
    targets = target_ids(report)
    by_id = {les.id: les for les in report.lesions}
    numbered = [LesionMarker(id=i, centroid_mm=by_id[i].centroid_mm) for i in targets]
    others = [
        LesionMarker(id=les.id, centroid_mm=les.centroid_mm)
        for les in report.lesions
        if les.id not in set(targets)
    ]
    mip = render_mip_png(suv, numbered, others=others, title=title)
    views: dict[int, bytes] = {}
    label_volume = None if labels is None else suv.with_array(labels, unit=Unit.LABEL)
    for lesion_id in targets if lesion_views else ():
        lesion = by_id[lesion_id]
        suvmax, volume = lesion.quantities["suvmax"], lesion.quantities["volume_ml"]
        views[lesion.id] = render_lesion_png(
            suv,
            ct,
            LesionMarker(id=lesion.id, centroid_mm=lesion.centroid_mm),
            mask=label_volume,
            mask_value=float(lesion.id),
            caption=f"SUVmax {suvmax.text(3)}, {volume.text(3)}",
            fov_mm=_view_fov_mm(lesion),
        )
    return ReportFigures(mip_png=mip, lesion_pngs=views)


def _segment_map(
    report: Report,
    labels: npt.NDArray[np.uint16] | None,
    references: Mapping[str, ReferenceRegion],
    shape: tuple[int, int, int],
) -> tuple[npt.NDArray[np.uint16], list[SegmentSpec]]:
    seg_labels = np.zeros(shape, dtype=np.uint16)
    specs = []
    if labels is not None:
        seg_labels[:] = labels
    for lesion in report.lesions:
        specs.append(
            SegmentSpec(number=lesion.id, label=f"Lesion {lesion.id}", kind=SegmentKind.LESION)
        )
    for name in REFERENCE_NAMES:
        if name in references:
            number = len(specs) + 1
            # Lesion voxels stay lesion: a reference VOI must not include tumour anyway.
            seg_labels[references[name].mask & (seg_labels == 0)] = number
            specs.append(SegmentSpec(number=number, label=f"{name} reference", kind=_KIND[name]))
    return seg_labels, specs


def write_dicom_outputs(
    out_dir: Path,
    report: Report,
    study: StudyData,
    references: Mapping[str, ReferenceRegion],
    labels: npt.NDArray[np.uint16] | None,
    normalisation: str,
) -> dict[str, Path]:
    """Write ``seg.dcm`` and ``sr.dcm``; returns them by role."""
    seg_labels, specs = _segment_map(report, labels, references, study.suv.shape)
    headers = study.pet.headers
    seg_path, sr_path = out_dir / "seg.dcm", out_dir / "sr.dcm"
    info = write_seg(seg_path, seg_labels, specs, headers)
    groups = [
        SrMeasurementGroup(
            segment_number=les.id,
            tracking_id=f"Lesion {les.id}",
            tracking_uid=info.tracking_uids[les.id],
            kind=SegmentKind.LESION,
            suvmax=les.value("suvmax"),
            suvpeak=les.value("suvpeak"),
            suvmean=les.value("suvmean"),
            volume_ml=les.value("volume_ml"),
            tlg=les.value("tlg"),
            krenning=les.krenning,
            finding_site=site_code(les.site),
        )
        for les in report.lesions
    ]
    for spec in specs[len(report.lesions) :]:
        ref = references[spec.kind.value]
        groups.append(
            SrMeasurementGroup(
                segment_number=spec.number,
                tracking_id=spec.label,
                tracking_uid=info.tracking_uids[spec.number],
                kind=spec.kind,
                suvmean=ref.mean,
                volume_ml=ref.n_voxels * study.suv.voxel_volume_ml,
            )
        )
    # The SEG's cleaned source headers: the SR needs the same, cleaning them again cost ~5 %.
    sources = headers if info.sources is None else info.sources
    write_sr(
        sr_path, groups, seg_path=seg_path, source_images=sources, suv_normalisation=normalisation
    )
    return {"seg": seg_path, "sr": sr_path}


def _with_error(report: Report, text: str) -> Report:
    return dataclasses.replace(report, errors=(*report.errors, text))


def write_files(
    out_dir: Path,
    report: Report,
    *,
    study: StudyData | None,
    references: Mapping[str, ReferenceRegion],
    labels: npt.NDArray[np.uint16] | None,
    options: AnalysisOptions,
    stages: Stages,
) -> tuple[dict[str, Path], Report]:
    """Write every report output to ``out_dir``; returns the files and the final report."""
    files: dict[str, Path] = {}
    for name in OUTPUT_NAMES:
        # An output of an earlier run must not pass for this run's if this run cannot write it.
        (out_dir / name).unlink(missing_ok=True)
    if study is not None and options.dicom_outputs:
        known = len(stages.warnings)
        with stages.stage("DICOM SEG + SR"):
            try:
                with capture_library_warnings():
                    files.update(
                        write_dicom_outputs(
                            out_dir, report, study, references, labels, options.normalisation
                        )
                    )
            # highdicom and pydicom raise these for source headers they cannot use (missing
            # or malformed attributes); the other outputs must still be written.
            except (
                WorkbenchError,
                ValueError,
                TypeError,
                AttributeError,
                KeyError,
                IndexError,
            ) as err:
                report = _with_error(report, f"DICOM SEG/SR not written: {err}")
        # What the strict writers left out of the source (e.g. an incomplete Clinical Trial
        # module) is provenance of seg.dcm/sr.dcm: the report says so (issue 15).
        report = dataclasses.replace(report, warnings=(*report.warnings, *stages.warnings[known:]))
    with stages.stage("JSON + CSV + HTML"):
        texts = {
            "lesions_json": ("lesions.json", lesions_to_json(report)),
            "lesions_csv": ("lesions.csv", lesions_to_csv(report)),
            "report_json": ("report.json", report_to_json(report)),
            "report_html": ("report.html", render_html(report)),
        }
        for role, (name, text) in texts.items():
            path = out_dir / name
            path.write_text(text, encoding="utf-8")
            files[role] = path
    if options.pdf:
        # matplotlib again (text and images in cycles): see draw_figures.
        with stages.stage("PDF"), paused_gc():
            write_pdf(report, out_dir / "report.pdf")
            files["report_pdf"] = out_dir / "report.pdf"
    return files, report


def write_outputs(
    result: AnalysisResult,
    out_dir: Path,
    *,
    on_stage: Callable[[str], None] | None = None,
) -> AnalysisResult:
    """Write lesions.json/.csv, report.json/.html/.pdf, seg.dcm and sr.dcm of an analysis.

    Parameters
    ----------
    result
        What :func:`~nenscope.pipeline.analysis.analyze` returned (or a result restored with
        :meth:`AnalysisResult.from_dict`: without the study images it gets the report files
        but no SEG/SR).
    out_dir
        Output folder (created); outputs of an earlier run are replaced. With radiomics, also
        ``radiomics.json``/``.csv``; with an FDG study (NETPET), its outputs in ``out_dir/fdg``.
    on_stage
        Called with each writing stage's name as it starts (progress display).

    Returns
    -------
    AnalysisResult
        ``result`` with ``files`` (written files by role) and the final report (an output that
        could not be written is named in its errors).

    Raises
    ------
    WorkbenchError
        If ``out_dir`` cannot be created.
    """
    out_dir = Path(out_dir)
    check_output_folder(out_dir)
    try:
        # Issue 14: the folder holds the previous complete result or this one, never a mix.
        with staged_folder(out_dir, owned=ANALYSIS_OUTPUTS) as staging:
            written = _write_into(result, staging, on_stage)
    except OSError as err:
        raise WorkbenchError(
            f"Cannot write the results to {out_dir}: {err.strerror or err}. Nothing was "
            "changed there (a previous result stays as it was)."
        ) from err
    return _relocated(written, staging, out_dir)


ANALYSIS_OUTPUTS = frozenset((*OUTPUT_NAMES, "fdg"))
"""Entries of an analysis folder that a run writes (a previous run's are not kept)."""


def _relocated(result: AnalysisResult, staging: Path, out_dir: Path) -> AnalysisResult:
    """Return ``result`` with its paths (and its FDG study's) moved from staging to out_dir."""
    fdg = None if result.fdg is None else _relocated(result.fdg, staging, out_dir)
    return dataclasses.replace(result, files=relocate(result.files, staging, out_dir), fdg=fdg)


def _write_into(
    result: AnalysisResult, out_dir: Path, on_stage: Callable[[str], None] | None
) -> AnalysisResult:
    """Write every output of ``result`` into ``out_dir`` (the staging folder)."""
    fdg = None if result.fdg is None else write_outputs(result.fdg, out_dir / "fdg")
    stages = Stages(on_stage)
    files, report = write_files(
        out_dir,
        result.report,
        study=result.study,
        references=result.references,
        labels=result.labels,
        options=result.options,
        stages=stages,
    )
    if result.options.radiomics is not None:
        files.update(write_radiomics(out_dir, result.options.radiomics, result.radiomics))
    return dataclasses.replace(
        result,
        report=report,
        files=files,
        timings_s={**result.timings_s, **stages.timings},
        fdg=fdg,
    )
