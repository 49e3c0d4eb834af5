"""``analyze``: the one place where reading, computing and reporting meet (DESIGN.md).

:func:`analyze` finds the PET and CT series of a study, converts the PET to SUV, places the
reference regions, finds and measures the lesions, scores them and assembles the report, in
memory. :func:`~nenscope.pipeline.outputs.write_outputs` writes the outputs of the contract
(``lesions.json``, ``lesions.csv``, ``report.json``, ``report.html``, ``report.pdf``,
``seg.dcm``, ``sr.dcm``); :func:`analyze_study` does both. A stage that fails on bad input
records the reason; everything that could still be computed is kept, and the reason appears in
every report.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from nenscope.core.errors import EmptyRegionError, GeometryError, WorkbenchError
from nenscope.core.geometry import ImageVolume
from nenscope.core.tracers import AnalysisFamily
from nenscope.dicom import read_mask
from nenscope.dicom.organ_masks import read_organ_masks
from nenscope.dicom.totalsegmentator import OrganModelError, segment_organs, usage_statistics_note
from nenscope.pipeline.align import AlignOutcome, align_studies
from nenscope.pipeline.anatomy import add_anatomy
from nenscope.pipeline.model import AnalysisOptions, AnalysisResult, StudyData
from nenscope.pipeline.preload import FIGURE_MODULES, OUTPUT_MODULES, preload
from nenscope.pipeline.radiomics import LesionRadiomics, run_radiomics
from nenscope.pipeline.references import (
    ReferenceRegion,
    ReferenceRegions,
    place_references,
    references_by_name,
)
from nenscope.pipeline.report import (
    NO_SEARCH_TEXT,
    ComputedScores,
    build_report,
    ct_coverage_warning,
    krenning_grades,
    lesion_search_run,
)
from nenscope.pipeline.scores import netpet_score
from nenscope.pipeline.stages import Stages
from nenscope.pipeline.staging import check_output_folder
from nenscope.pipeline.study import StudySource, load_study
from nenscope.quantification.lesions import LesionStatistics, label_statistics
from nenscope.reporting.model import Report, ScoreEntry
from nenscope.segmentation import (
    DetectionSettings,
    LesionDetection,
    PhysiologicalUptake,
    detect_lesions,
    region_grow_from_seed,
)
from nenscope.segmentation.patterns import physiological_masks, tracer_family

__all__ = [
    "AIR_HU",
    "SEED_SEARCH_MM",
    "analyze",
    "analyze_study",
    "check_seed_region",
    "find_lesions",
]

logger = logging.getLogger(__name__)

AIR_HU = -500.0
"""A seed whose CT value is below this (HU) lies in air, i.e. outside the body."""

SEED_SEARCH_MM = 15.0
"""Radius in mm around a seed in which the lesion maximum is searched."""

MIN_SEED_SUV = 0.2
"""A seed whose local SUV maximum is below this lies outside the body (no CT to tell)."""


# ----------------------------------------------------------------------------- lesions


def _value_at(volume: ImageVolume, point_mm: Sequence[float]) -> float | None:
    idx = np.rint(volume.lps_to_index(point_mm)[0]).astype(int)
    if np.any(idx < 0) or np.any(idx >= np.asarray(volume.shape)):
        return None
    return float(volume.array[tuple(idx)])


def _check_seed(study: StudyData, seed: Sequence[float]) -> None:
    where = f"Seed point ({', '.join(f'{v:g}' for v in seed)}) mm"
    suv = _value_at(study.suv, seed)
    if suv is None:
        raise GeometryError(
            f"{where} lies outside the PET field of view (LPS x, y, z; the PET spans "
            f"{_extent_text(study.suv)}). Give --lesion-mm in patient coordinates (LPS mm)."
        )
    if study.ct is not None:
        hu = _value_at(study.ct.volume, seed)
        if hu is not None and hu < AIR_HU:
            raise GeometryError(
                f"{where} lies outside the body: CT is {hu:.0f} HU there (air; body tissue is "
                f"> {AIR_HU:.0f} HU). Check the coordinates (LPS mm, x to the patient's left, "
                "y posterior, z head)."
            )
    elif suv < MIN_SEED_SUV:
        raise GeometryError(
            f"{where} lies outside the body: SUV {suv:.2f} there (< {MIN_SEED_SUV}). Check the "
            "coordinates (LPS mm)."
        )


def check_seed_region(
    suv: ImageVolume, seed: Sequence[float], region: npt.NDArray[np.bool_]
) -> None:
    """Refuse a seed region that is empty or lies away from the seed (grew into another lesion)."""
    where = f"Seed point ({', '.join(f'{v:g}' for v in seed)}) mm"
    if not region.any():
        raise EmptyRegionError(f"{where} gave an empty region; click inside the lesion.")
    points = suv.index_to_lps(np.argwhere(region))
    nearest = float(np.min(np.linalg.norm(points - np.asarray(seed, dtype=np.float64), axis=1)))
    if nearest > SEED_SEARCH_MM + max(suv.spacing_mm):
        centre = points.mean(axis=0)
        raise GeometryError(
            f"{where}: the region grown from it lies {nearest:.0f} mm away (centre "
            f"({centre[0]:.0f}, {centre[1]:.0f}, {centre[2]:.0f}) mm), so it belongs to another "
            "structure; the lesion at the seed is not separable at a 50 % contour. Give its mask "
            "with --lesion-mask instead."
        )


def _extent_text(volume: ImageVolume) -> str:
    corners = volume.index_to_lps(
        [
            [i, j, k]
            for i in (0, volume.shape[0] - 1)
            for j in (0, volume.shape[1] - 1)
            for k in (0, volume.shape[2] - 1)
        ]
    )
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    return ", ".join(f"{a} {lo[n]:.0f}..{hi[n]:.0f}" for n, a in enumerate("xyz"))


@dataclass(frozen=True, slots=True, kw_only=True)
class _LesionMasks:
    labels: npt.NDArray[np.uint16]
    detection: tuple[str, ...]  # how each lesion (label - 1) was delineated
    notes: tuple[str, ...]
    warnings: tuple[str, ...]
    errors: tuple[str, ...]
    auto: LesionDetection | None = None
    regions: ReferenceRegions | None = None
    organ_masks: Mapping[str, npt.NDArray[np.bool_]] = field(default_factory=dict)


def _add_region(
    labels: npt.NDArray[np.uint16], region: npt.NDArray[np.bool_], how: list[str], text: str
) -> None:
    """Add a region as a new lesion; a region that overlaps lesions replaces them."""
    overlapped = sorted(set(np.unique(labels[region]).tolist()) - {0})
    for old in reversed(overlapped):
        labels[labels == old] = 0
        labels[labels > old] -= 1
        del how[old - 1]
    labels[region] = len(how) + 1
    how.append(text)


def _seed_lesions(
    study: StudyData,
    seeds: Sequence[Sequence[float]],
    labels: npt.NDArray[np.uint16],
    how: list[str],
    errors: list[str],
) -> None:
    for seed in seeds:
        try:
            _check_seed(study, seed)
            region = region_grow_from_seed(study.suv, seed, search_radius_mm=SEED_SEARCH_MM)
            check_seed_region(study.suv, seed, region)
        except WorkbenchError as err:
            errors.append(f"Lesion seed not used: {err}")
            continue
        point = ", ".join(f"{v:g}" for v in seed)
        _add_region(
            labels,
            region,
            how,
            f"seed at ({point}) mm, 50 % background-corrected contour of the local maximum",
        )


def _mask_lesions(
    study: StudyData,
    options: AnalysisOptions,
    labels: npt.NDArray[np.uint16],
    how: list[str],
    warnings: list[str],
    errors: list[str],
) -> None:
    for path in options.lesion_masks:
        try:
            masks = read_mask(Path(path), study.suv)
        except WorkbenchError as err:
            errors.append(f"Lesion mask {path} not used: {err}")
            continue
        wanted = options.lesion_rois or tuple(masks)
        missing = [name for name in wanted if name not in masks]
        if missing:
            errors.append(
                f"ROI {missing} not in {path}; it holds {sorted(masks)}. Pass --lesion-roi "
                "with one of these names."
            )
        for name in wanted:
            if name not in masks:
                continue
            if not masks[name].any():
                warnings.append(f"ROI '{name}' in {path} is empty on the PET grid; skipped.")
                continue
            _add_region(labels, masks[name], how, f"user mask '{name}' from {Path(path).name}")


def _physiology_text(uptake: PhysiologicalUptake) -> str:
    where = ", ".join(f"{v:.0f}" for v in uptake.centroid_mm)
    return (
        f"Not reported as lesion: {uptake.organ} at ({where}) mm, {uptake.volume_ml:.1f} mL, "
        f"SUVmax {uptake.suvmax:.1f} ({uptake.reason})"
    )


def _organ_masks(regions: ReferenceRegions | None) -> dict[str, npt.NDArray[np.bool_]]:
    """Estimated liver and spleen masks (for liver-adaptive thresholds and exclusion)."""
    organs = None if regions is None else regions.organs
    if organs is None:
        return {}
    found = {"liver": organs.liver, "spleen": organs.spleen}
    return {name: mask for name, mask in found.items() if mask is not None}


def _outside_organs(
    study: StudyData, options: AnalysisOptions, notes: list[str], errors: list[str]
) -> dict[str, npt.NDArray[np.bool_]]:
    """Organ masks from ``--organs``: a folder or label map, or TotalSegmentator on the CT."""
    try:
        if options.organs is not None:
            outside = read_organ_masks(options.organs, study.suv)
            notes.append(f"organ masks from {options.organs}: {', '.join(sorted(outside))}")
            return outside
        if options.organ_model is None:
            return {}
        if study.ct is None:
            raise OrganModelError(
                f"--organs {options.organ_model.value} segments the CT, and this study has "
                "no CT in the PET's frame of reference."
            )
        outside = segment_organs(study.ct.volume, study.suv, model=options.organ_model)
        notes.append(
            f"organ masks from {options.organ_model.value} on the CT (run here): "
            f"{', '.join(sorted(outside))}"
        )
        stats = usage_statistics_note()
        if stats is not None:
            notes.append(stats)
        return outside
    except WorkbenchError as err:
        errors.append(f"Organ masks not used (automatic anatomy instead): {err}")
        return {}


def find_lesions(
    study: StudyData,
    options: AnalysisOptions,
    regions: ReferenceRegions | None,
) -> _LesionMasks:
    """Lesion label map from automatic detection, then seeds, then masks.

    A seed or mask region that overlaps earlier lesions replaces them. A seed or mask that
    cannot be used is reported in ``errors`` and the others are still used.
    """
    labels = np.zeros(study.suv.shape, dtype=np.uint16)
    how: list[str] = []
    notes: list[str] = []
    warnings: list[str] = []
    errors: list[str] = []
    detection = None
    family = tracer_family(study.tracer, study.tracer_family)
    outside = _outside_organs(study, options, notes, errors)
    if options.auto_detect:
        detection = detect_lesions(
            study.suv,
            references=regions,
            settings=options.detection,
            tracer=family,
            organ_masks=physiological_masks(outside, family) if outside else None,
        )
        seg = detection.segmentation
        text = _detection_text(options.detection, seg.threshold, seg.liver_threshold)
        labels[:] = detection.labels
        how.extend([text] * detection.n_lesions)
        notes.extend(detection.notes)
        notes.extend(_physiology_text(p) for p in detection.physiological)
    _seed_lesions(study, options.lesion_seeds_mm, labels, how, errors)
    _mask_lesions(study, options, labels, how, warnings, errors)
    return _LesionMasks(
        labels=labels,
        detection=tuple(how),
        notes=tuple(notes),
        warnings=tuple(warnings),
        errors=tuple(errors),
        auto=detection,
        regions=regions,
        organ_masks=outside,
    )


def _detection_text(
    settings: DetectionSettings, threshold: float, liver_threshold: float | None
) -> str:
    parts = [f"automatic: {settings.method.value} threshold SUV > {threshold:.2f}"]
    if liver_threshold is not None:
        parts.append(f"in the liver SUV > {liver_threshold:.2f} (PERCIST 1.5 x mean + 2 SD)")
    parts.append(f"{settings.delineation.value} contour at {settings.delineation_fraction:.0%}")
    parts.append(f"minimum {settings.min_volume_ml:g} mL; physiological uptake rules")
    return "; ".join(parts)


# ----------------------------------------------------------------------------- the pipeline


def _read(
    stages: Stages, study: StudySource, options: AnalysisOptions, later_modules: Sequence[str]
) -> StudyData | None:
    """Read the study; once it is read, import ``later_modules`` in the background."""
    with stages.stage("read + SUV"):
        try:
            data = load_study(study, options)
        except WorkbenchError as err:
            stages.error(f"Study not analysed: {err}")
            return None
    preload(later_modules)
    return data


def _compact(lesions: _LesionMasks) -> _LesionMasks:
    """Renumber the lesions 1..N without gaps (report ids = SEG segment numbers = labels)."""
    present = np.unique(lesions.labels)
    present = present[present > 0]
    if np.array_equal(present, np.arange(1, present.size + 1)):
        return lesions
    lut = np.zeros(int(lesions.labels.max()) + 1, dtype=np.uint16)
    lut[present] = np.arange(1, present.size + 1, dtype=np.uint16)
    return dataclasses.replace(
        lesions,
        labels=lut[lesions.labels],
        detection=tuple(lesions.detection[int(old) - 1] for old in present),
    )


def _measure(
    stages: Stages, study: StudyData, options: AnalysisOptions
) -> tuple[dict[str, ReferenceRegion], _LesionMasks | None, list[LesionStatistics]]:
    with stages.stage("reference regions"):
        regions, notes, ref_errors = place_references(
            study.suv,
            None if study.ct is None else study.ct.volume,
            points_mm=options.reference_points_mm,
            mask_files=options.reference_masks,
        )
        for text in notes:
            stages.warn(text)
        for text in ref_errors:
            stages.error(text)
    references = references_by_name(regions)
    lesions: _LesionMasks | None = None
    stats: list[LesionStatistics] = []
    with stages.stage("lesions"):
        try:
            lesions = find_lesions(study, options, regions)
            for note in lesions.notes:
                stages.note(note)
            for text in lesions.warnings:
                stages.warn(text)
            for text in lesions.errors:
                stages.error(text)
        except WorkbenchError as err:
            stages.error(f"Lesions not found: {err}")
    if lesions is not None:
        lesions = _compact(lesions)
        with stages.stage("lesion statistics"):
            liver, spleen = references.get("liver"), references.get("spleen")
            stats = label_statistics(
                study.suv,
                lesions.labels,
                liver_mean=None if liver is None else liver.mean,
                spleen_mean=None if spleen is None else spleen.mean,
                organ_masks=_organ_masks(regions),
            )
    return references, lesions, stats


def _fdg_options(options: AnalysisOptions) -> AnalysisOptions:
    """Options for the FDG study of NETPET: same detection, no user points (other frame)."""
    return AnalysisOptions(
        # NETPET: every FDG lesion above the liver counts, not only PERCIST-measurable ones.
        detection=dataclasses.replace(options.detection, percist_measurable=False),
        normalisation=options.normalisation,
        tracer="fdg",
        figures=options.figures,
        dicom_outputs=options.dicom_outputs,
        pdf=options.pdf,
    )


def _netpet(
    stages: Stages,
    study: StudyData,
    options: AnalysisOptions,
    references: Mapping[str, ReferenceRegion],
    stats: Sequence[LesionStatistics],
    grades: Sequence[int | None],
) -> tuple[tuple[ScoreEntry, ...], AnalysisResult | None]:
    if options.fdg_study is None:
        return (), None
    if study.tracer_family != AnalysisFamily.SSTR:
        stages.error(
            f"NETPET needs an SSTR study with the FDG study; this study's tracer is "
            f"{study.tracer} ({study.tracer_family}). Pass --tracer sstr if it is SSTR."
        )
        return (), None
    fdg = analyze(options.fdg_study, _fdg_options(options))
    for text in fdg.errors:
        stages.error(f"FDG study: {text}")
    if fdg.study is None:
        return (), fdg
    alignment = align_studies(stages, study, fdg.study)
    if alignment.outcome is AlignOutcome.NO_CT:
        stages.warn("NETPET: a study has no CT; FDG lesions matched without registration.")
    elif alignment.outcome is AlignOutcome.FAILED:
        stages.warn(f"NETPET: {alignment.reason}; FDG lesions matched without registration.")
    registration = alignment.registration
    if registration is not None:
        stages.note(f"FDG study registered onto this study: {registration.method}.")
    score, notes = netpet_score(
        stats, references, grades, fdg.statistics, fdg.references, registration
    )
    for note in notes:
        stages.note(note)
    return (score,), fdg


def _with_figures(
    stages: Stages, report: Report, data: StudyData, labels: npt.NDArray[np.uint16] | None
) -> Report:
    with stages.stage("figures"):
        # Imported here: matplotlib loads in the background while the lesions are found.
        from nenscope.pipeline.outputs import render_figures

        return dataclasses.replace(report, figures=render_figures(report, data, labels))


def analyze(
    study: StudySource,
    options: AnalysisOptions | None = None,
    *,
    on_stage: Callable[[str], None] | None = None,
) -> AnalysisResult:
    """Analyse one PET/CT study in memory; nothing is written.

    Parameters
    ----------
    study
        The study's folder, a list of its DICOM files, or its in-memory pydicom datasets.
    options
        Analysis options (defaults when ``None``).
    on_stage
        Called with each stage's name as it starts ("read + SUV", "reference regions",
        "lesions" …), e.g. to show progress; it must not raise.

    Returns
    -------
    AnalysisResult
        The report (with its figures when ``options.figures``), the lesion measurements and
        label map, the reference regions, the radiomics and the stage timings; ``files`` is
        empty (see :func:`~nenscope.pipeline.outputs.write_outputs`). ``errors`` is empty when
        every stage ran; otherwise it says what is missing and why.

    Notes
    -----
    Bad input does not raise: a stage that fails records its reason in ``errors`` and the
    analysis goes on with what could be computed. Warnings are returned in the report,
    never printed and never collected through the process-global ``warnings`` state, so
    analyses may run in parallel threads.
    """
    options = options or AnalysisOptions()
    return _analyze(study, options, on_stage, FIGURE_MODULES if options.figures else ())


def _analyze(
    study: StudySource,
    options: AnalysisOptions,
    on_stage: Callable[[str], None] | None,
    later_modules: Sequence[str],
) -> AnalysisResult:
    """:func:`analyze`, importing ``later_modules`` in the background once the study is read.

    ``later_modules`` are those of the figures and the outputs (see :mod:`~.preload`).
    """
    stages = Stages(on_stage)
    data = _read(stages, study, options, later_modules)
    references: dict[str, ReferenceRegion] = {}
    lesions: _LesionMasks | None = None
    stats: list[LesionStatistics] = []
    if data is not None:
        for note in data.notes:
            stages.warn(note)
        coverage = ct_coverage_warning(data)
        if coverage is not None:
            stages.warn(coverage)
        references, lesions, stats = _measure(stages, data, options)
        if lesions is not None and not stats and not lesion_search_run(options):
            stages.warn(NO_SEARCH_TEXT)
            stages.note(NO_SEARCH_TEXT)
        elif lesions is not None and not stats:
            stages.warn(
                "No lesion found with the chosen settings; the SEG and SR hold the reference "
                "regions only. Lower the threshold or give seed points (--lesion-mm)."
            )
    radiomics: tuple[LesionRadiomics, ...] | None = None
    if data is not None and lesions is not None and options.radiomics is not None:
        radiomics = run_radiomics(stages, data.suv, lesions.labels, options.radiomics)
    # Krenning once: the report and NETPET use the same grades.
    krenning = krenning_grades(data, references, stats)
    extra: tuple[ScoreEntry, ...] = ()
    fdg: AnalysisResult | None = None
    if data is not None:
        extra, fdg = _netpet(stages, data, options, references, stats, krenning[0])
    with stages.stage("report"):
        report = build_report(
            study=data,
            options=options,
            references=references,
            statistics=stats,
            detection=() if lesions is None else lesions.detection,
            stages=stages,
            scores_in=ComputedScores(
                krenning_grades=tuple(krenning[0]), krenning_reason=krenning[1], extra=extra
            ),
        )
        if data is not None and lesions is not None:
            report = add_anatomy(
                report,
                suv=data.suv,
                labels=lesions.labels,
                statistics=stats,
                detection=lesions.auto,
                regions=lesions.regions,
                organ_masks=lesions.organ_masks,
            )
    labels = None if lesions is None else lesions.labels
    if data is not None and options.figures:
        report = _with_figures(stages, report, data, labels)
    return AnalysisResult(
        report=report,
        study=data,
        statistics=tuple(stats),
        references=references,
        labels=labels,
        timings_s=dict(stages.timings),
        options=options,
        radiomics=radiomics,
        fdg=fdg,
    )


def analyze_study(
    study_dir: StudySource, out_dir: Path, options: AnalysisOptions | None = None
) -> AnalysisResult:
    """Analyse one PET/CT study and write every output to ``out_dir``.

    ``write_outputs(analyze(study_dir, options), out_dir)``, the command-line ``analyze``.

    Parameters
    ----------
    study_dir
        Folder holding the study's DICOM files (or a list of files, or datasets).
    out_dir
        Output folder (created); existing outputs are replaced.
    options
        Analysis options.

    Returns
    -------
    AnalysisResult
        The report, the written files and the stage timings. ``errors`` is empty when every
        stage ran; otherwise it says what is missing and why (the files hold what could be
        computed).

    Raises
    ------
    WorkbenchError
        Only when ``out_dir`` cannot be written.
    """
    check_output_folder(Path(out_dir))
    result = _analyze(study_dir, options or AnalysisOptions(), None, OUTPUT_MODULES)
    # Imported here, not at the top: it loads in the background while the lesions are found.
    from nenscope.pipeline.outputs import write_outputs

    return write_outputs(result, out_dir)
