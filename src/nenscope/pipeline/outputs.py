"""Write the outputs of an analysis: figures, DICOM SEG and SR, JSON/CSV, HTML and PDF.

Each output is written on its own: a failure (for instance a SEG that cannot reference an
unusual source series) is recorded in the report's errors and the other files are still
written.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt

from nenscope.core.errors import WorkbenchError
from nenscope.core.units import Unit
from nenscope.dicom.seg_sr import (
    SegmentKind,
    SegmentSpec,
    SrMeasurementGroup,
    write_seg,
    write_sr,
)
from nenscope.pipeline.model import AnalysisOptions, StudyData
from nenscope.pipeline.references import REFERENCE_NAMES, ReferenceRegion
from nenscope.pipeline.stages import Stages
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
from nenscope.segmentation.sites import site_code

__all__ = [
    "MAX_LESION_VIEWS",
    "OUTPUT_NAMES",
    "render_figures",
    "write_dicom_outputs",
    "write_outputs",
]

MAX_LESION_VIEWS = 30
"""At most this many lesions get an axial view (the hottest first); the table lists all."""

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
    """Render the coronal MIP and the axial view of each lesion (up to MAX_LESION_VIEWS)."""
    markers = [LesionMarker(id=les.id, centroid_mm=les.centroid_mm) for les in report.lesions]
    mip = render_mip_png(study.suv, markers, title=f"Coronal MIP — {study.tracer}")
    views: dict[int, bytes] = {}
    ct = None if study.ct is None else study.ct.volume
    label_volume = None if labels is None else study.suv.with_array(labels, unit=Unit.LABEL)
    ordered = sorted(report.lesions, key=lambda les: -(les.value("suvmax") or 0.0))
    for lesion in sorted(ordered[:MAX_LESION_VIEWS], key=lambda les: les.id):
        suvmax, volume = lesion.quantities["suvmax"], lesion.quantities["volume_ml"]
        views[lesion.id] = render_lesion_png(
            study.suv,
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
    write_sr(
        sr_path, groups, seg_path=seg_path, source_images=headers, suv_normalisation=normalisation
    )
    return {"seg": seg_path, "sr": sr_path}


def _with_error(report: Report, text: str) -> Report:
    return dataclasses.replace(report, errors=(*report.errors, text))


def write_outputs(
    out_dir: Path,
    report: Report,
    *,
    study: StudyData | None,
    references: Mapping[str, ReferenceRegion],
    labels: npt.NDArray[np.uint16] | None,
    options: AnalysisOptions,
    stages: Stages,
) -> tuple[dict[str, Path], Report]:
    """Write every output of the contract to ``out_dir``; returns the files and final report."""
    files: dict[str, Path] = {}
    for name in OUTPUT_NAMES:
        # An output of an earlier run must not pass for this run's if this run cannot write it.
        (out_dir / name).unlink(missing_ok=True)
    if study is not None and options.figures:
        with stages.stage("figures"):
            report = dataclasses.replace(report, figures=render_figures(report, study, labels))
    if study is not None and options.dicom_outputs:
        with stages.stage("DICOM SEG + SR"):
            try:
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
        with stages.stage("PDF"):
            write_pdf(report, out_dir / "report.pdf")
            files["report_pdf"] = out_dir / "report.pdf"
    return files, report
