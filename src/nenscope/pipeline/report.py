"""Assemble the :class:`~nenscope.reporting.Report` of an analysis from its results.

Every number is put in a :class:`~nenscope.reporting.Quantity` with its unit and method; scores
carry their definitions and sources. Rendering happens in :mod:`nenscope.pipeline.outputs`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from nenscope import __version__
from nenscope.core.errors import WorkbenchError
from nenscope.core.tracers import AnalysisFamily
from nenscope.core.units import BQ_PER_MBQ, S_PER_MIN
from nenscope.pipeline.model import AnalysisOptions, StudyData
from nenscope.pipeline.references import REFERENCE_NAMES, ReferenceRegion
from nenscope.pipeline.scores import sstr_rads_score
from nenscope.pipeline.stages import Stages
from nenscope.quantification.lesions import LesionStatistics, tumour_burden
from nenscope.reporting.extent import ct_z_range_mm
from nenscope.reporting.model import (
    LesionEntry,
    PhysiologicalEntry,
    Quantity,
    ReferenceRegionEntry,
    Report,
    ScoreEntry,
    StudyHeader,
)
from nenscope.reporting.presentation import select_target_lesions
from nenscope.scoring.krenning import KrenningReferences, krenning_score, patient_krenning
from nenscope.segmentation.physiology import PhysiologicalUptake

__all__ = [
    "KRENNING_DEFINITION",
    "ComputedScores",
    "build_report",
    "ct_coverage_fraction",
    "ct_coverage_text",
    "ct_coverage_warning",
    "krenning_grades",
    "krenning_grades_for",
    "lesion_entries",
    "physiological_entry",
]

KRENNING_DEFINITION = (
    "Lesion uptake (SUVmax) against normal organs: 0 none (≤ blood pool), 1 very low "
    "(< 0.5 × liver mean), 2 ≤ liver mean, 3 > liver mean, 4 > spleen mean. Patient score = "
    "highest lesion grade; PRRT needs uptake ≥ liver (grade ≥ 2) on all lesions, > liver "
    "(3–4) preferred."
)
"""Definition shown with the Krenning score."""

_KRENNING_SOURCE = (
    "Kwekkeboom & Krenning, Semin Nucl Med 2002;32:84; Hope et al., J Nucl Med 2019;60:1266"
)
_PEAK_METHOD = "PERCIST SUVpeak: highest mean in a 1 mL sphere centred on a lesion voxel"


def _suv_unit(study: StudyData) -> str:
    return str(study.suv.unit.value)


def _header(study: StudyData) -> StudyHeader:
    ref, result = study.pet_ref, study.suv_result
    activity = (
        Quantity(
            value=result.injected_activity_bq / BQ_PER_MBQ,
            unit="MBq",
            method=result.provenance.get("dose", "RadionuclideTotalDose (0018,1074)"),
        )
        if result.injected_activity_bq is not None
        else Quantity(value=None, unit="MBq", method="header", reason="not in the header")
    )
    if result.injection_datetime is not None and result.reference_datetime is not None:
        minutes = (result.reference_datetime - result.injection_datetime).total_seconds()
        uptake = Quantity(
            value=minutes / S_PER_MIN, unit="min", method="SUV reference time − injection time"
        )
    else:
        uptake = Quantity(
            value=None, unit="min", method="header", reason="injection or reference time unknown"
        )
    weight = (
        Quantity(
            value=result.weight_kg,
            unit="kg",
            method=result.provenance.get("weight", "PatientWeight (0010,1030)"),
        )
        if result.weight_kg is not None
        else Quantity(value=None, unit="kg", method="header", reason="not in the header")
    )
    model = study.pet.headers[0].get("ManufacturerModelName", "") if study.pet.headers else ""
    return StudyHeader(
        patient_name=ref.patient_name,
        patient_id=ref.patient_id,
        study_date=ref.study_date,
        study_instance_uid=ref.study_instance_uid,
        pet_series_uid=ref.series_instance_uid,
        ct_series_uid=None if study.ct_ref is None else study.ct_ref.series_instance_uid,
        tracer=f"{study.tracer} ({study.tracer_family.upper()})",
        injected_activity=activity,
        uptake_time=uptake,
        weight=weight,
        manufacturer=ref.manufacturer,
        tracer_family=study.tracer_family,
        scanner_model=str(model or ""),
        ct_coverage=ct_coverage_text(study),
    )


CT_FULL_COVERAGE = 0.98
"""From this fraction of the PET's axial extent on, the CT counts as covering the whole PET."""


def ct_coverage_fraction(study: StudyData) -> float | None:
    """Return the fraction of the PET's axial (z) extent the CT covers (None without CT)."""
    if study.ct is None:
        return None
    pet_low, pet_high = ct_z_range_mm(study.suv)
    ct_low, ct_high = ct_z_range_mm(study.ct.volume)
    overlap = max(0.0, min(pet_high, ct_high) - max(pet_low, ct_low))
    return overlap / max(pet_high - pet_low, 1e-9)


def ct_coverage_warning(study: StudyData) -> str | None:
    """Return a warning when the CT covers only part of the PET (None when it covers all)."""
    fraction = ct_coverage_fraction(study)
    if fraction is None or fraction >= CT_FULL_COVERAGE:
        return None
    return (
        f"The CT covers only {100 * fraction:.0f} % of the PET's axial extent: outside it, "
        "anatomy, organ rules and lesion sites come from the PET alone (less reliable)."
    )


def ct_coverage_text(study: StudyData) -> str:
    """How much of the PET's axial (z) extent the CT covers, in words for the technique."""
    fraction = ct_coverage_fraction(study)
    if study.ct is None or fraction is None:
        return "no CT: anatomy and lesion sites from PET alone"
    pet_low, pet_high = ct_z_range_mm(study.suv)
    ct_low, ct_high = ct_z_range_mm(study.ct.volume)
    where = f"CT z {ct_low:.0f} to {ct_high:.0f} mm, PET z {pet_low:.0f} to {pet_high:.0f} mm"
    if fraction >= CT_FULL_COVERAGE:
        return f"CT covers the whole PET field ({where})"
    return (
        f"CT covers {100 * fraction:.0f} % of the PET's axial extent ({where}); outside it the "
        "PET is read alone"
    )


def _suv_lines(study: StudyData, normalisation: str) -> tuple[str, ...]:
    result = study.suv_result
    lines = [
        f"Normalisation: SUV{normalisation} in {_suv_unit(study)}; PET units "
        f"{result.units}, decay correction {result.decay_correction}."
    ]
    if result.suv_bw_factor is not None:
        lines.append(f"SUVbw factor {result.suv_bw_factor:.6g} g/Bq (multiplies Bq/mL).")
    lines.extend(f"{topic}: {text}" for topic, text in result.provenance.items())
    return tuple(lines)


def _reference_entries(
    references: Mapping[str, ReferenceRegion],
    unit: str,
    voxel_ml: float,
) -> tuple[ReferenceRegionEntry, ...]:
    out = []
    for name in REFERENCE_NAMES:
        if name not in references:
            continue
        r = references[name]
        out.append(
            ReferenceRegionEntry(
                name=name,
                mean=Quantity(value=r.mean, unit=unit, method="mean SUV of the VOI voxels"),
                sd=Quantity(value=r.sd, unit=unit, method="population SD of the VOI voxels"),
                volume_ml=Quantity(
                    value=r.n_voxels * voxel_ml, unit="mL", method="voxels x voxel volume"
                ),
                centre_mm=r.centre_mm,
                placement=r.description,
            )
        )
    return tuple(out)


def krenning_grades(
    study: StudyData | None,
    references: Mapping[str, ReferenceRegion],
    statistics: Sequence[LesionStatistics],
) -> tuple[list[int | None], str | None]:
    """Krenning grade of each lesion, or ``None`` with the reason it does not apply."""
    if study is None:
        return [None] * len(statistics), "no study"
    return krenning_grades_for(study.tracer, study.tracer_family, references, statistics)


def krenning_grades_for(
    tracer: str,
    family: str,
    references: Mapping[str, ReferenceRegion],
    statistics: Sequence[LesionStatistics],
) -> tuple[list[int | None], str | None]:
    """Krenning grades from the tracer (as named, and its family) instead of the study.

    What :func:`krenning_grades` does once the study is read; a stored result re-scored after
    a review has no study, only its report header.
    """
    if family != AnalysisFamily.SSTR:
        return [None] * len(statistics), (
            f"Krenning applies to SSTR imaging; tracer is {tracer} "
            f"({family}); pass --tracer sstr if this is SSTR PET"
        )
    if "liver" not in references or "spleen" not in references:
        missing = [n for n in ("liver", "spleen") if n not in references]
        return [None] * len(statistics), f"needs the {' and '.join(missing)} reference"
    blood = references.get("blood_pool")
    try:
        refs = KrenningReferences(
            liver_mean=references["liver"].mean,
            spleen_mean=references["spleen"].mean,
            background_mean=None if blood is None else blood.mean,
        )
    except WorkbenchError as err:
        return [None] * len(statistics), f"reference regions not usable: {err}"
    return [krenning_score(s.suvmax, refs) for s in statistics], None


def _quantity(value: float, unit: str, method: str) -> Quantity:
    """Wrap a measured value; a non-finite one becomes 'not computable' with the reason."""
    if math.isfinite(value):
        return Quantity(value=float(value), unit=unit, method=method)
    return Quantity(
        value=None,
        unit=unit,
        method=method,
        reason=f"not computable for this lesion (got {value})",
    )


def lesion_entries(
    statistics: Sequence[LesionStatistics],
    detection: Sequence[str],
    grades: Sequence[int | None],
    krenning_reason: str | None,
    unit: str,
    sstr_rads: Mapping[int, str] | None = None,
) -> tuple[LesionEntry, ...]:
    """Report entries of the measured lesions (ids 1..N in the order given)."""
    entries = []
    for n, (s, grade) in enumerate(zip(statistics, grades, strict=True), start=1):
        q = {
            "volume_ml": _quantity(s.volume_ml, "mL", "voxel count x voxel volume"),
            "suvmax": _quantity(s.suvmax, unit, "highest voxel value"),
            "suvpeak": _quantity(s.suvpeak, unit, _PEAK_METHOD),
            "suvmean": _quantity(s.suvmean, unit, "mean of the lesion voxels"),
            "tlg": _quantity(
                s.tlg,
                "g" if unit == "g/mL" else f"{unit}·mL",
                "SUVmean x volume (total lesion uptake)",
            ),
            "suv_sd": _quantity(s.suv_sd, unit, "population SD of voxels"),
            "longest_diameter_mm": _quantity(
                s.longest_diameter_mm,
                "mm",
                f"longest in-plane diameter on axial slice {s.diameter_slice}",
            ),
            "short_axis_mm": _quantity(
                s.short_axis_mm, "mm", "largest extent perpendicular to it"
            ),
        }
        entries.append(
            LesionEntry(
                id=n,
                centroid_mm=s.centroid_mm,
                quantities=q,
                detection=detection[s.label - 1],
                krenning=grade,
                krenning_reason=krenning_reason if grade is None else None,
                sstr_rads=(sstr_rads or {}).get(n),
                site=s.organ,
            )
        )
    return tuple(entries)


def _scores(grades: Sequence[int | None], reason: str | None) -> tuple[ScoreEntry, ...]:
    if reason is not None:
        return (
            ScoreEntry(
                name="Krenning (patient)",
                value="not computable",
                definition=KRENNING_DEFINITION,
                details=reason,
                source=_KRENNING_SOURCE,
            ),
        )
    result = patient_krenning([g for g in grades if g is not None])
    return (
        ScoreEntry(
            name="Krenning (patient)",
            value=str(result.score),
            definition=KRENNING_DEFINITION,
            details=f"{result.n_lesions} lesions graded; {result.n_below_minimum} below grade 2, "
            f"{result.n_below_preferred} below grade 3. {result.statement}",
            source=_KRENNING_SOURCE,
        ),
    )


def _burden(statistics: Sequence[LesionStatistics], unit: str) -> ScoreEntry:
    burden = tumour_burden(statistics)
    uptake_unit = "g" if unit == "g/mL" else f"{unit}·mL"
    return ScoreEntry(
        name="Whole-body tumour burden",
        value=f"{burden.total_volume_ml:.1f} mL; total lesion uptake "
        f"{burden.total_lesion_uptake:.1f} {uptake_unit}",
        definition="Sum of the reported lesion volumes (SSTR-positive tumour volume on SSTR PET, "
        "metabolic tumour volume on FDG PET) and of SUVmean x volume (total lesion SSTR "
        "expression / total lesion glycolysis).",
        details=f"{burden.n_lesions} lesion(s).",
    )


def _methods(options: AnalysisOptions, study: StudyData | None) -> tuple[str, ...]:
    d = options.detection
    lines = [
        f"nenscope {__version__}.",
        f"Automatic detection {'on' if options.auto_detect else 'off'}: {d.method.value} "
        f"threshold (fixed SUV {d.suv_threshold:g}, or {d.percent_of_max:g} % of SUVmax, or "
        f"PERCIST liver 1.5 x mean + 2 SD), {d.delineation.value} contour at "
        f"{d.delineation_fraction:.0%}, minimum volume {d.min_volume_ml:g} mL, liver-adaptive "
        f"{'on' if d.liver_adaptive else 'off'}.",
        "Lesion centroid: centre of mass of the mask voxels, LPS patient coordinates (x to the "
        "patient's left, y posterior, z head), mm.",
    ]
    if options.lesion_seeds_mm:
        lines.append(f"Seed points: {len(options.lesion_seeds_mm)}.")
    if options.lesion_masks:
        lines.append(f"Lesion masks: {', '.join(str(p) for p in options.lesion_masks)}.")
    if study is not None:
        lines.append(f"PET grid {study.suv.shape} voxels of {study.suv.spacing_mm} mm (z, y, x).")
    return tuple(lines)


def lesion_search_run(options: AnalysisOptions) -> bool:
    """Whether any lesion search runs: automatic detection, seed points or lesion masks."""
    return options.auto_detect or bool(options.lesion_seeds_mm) or bool(options.lesion_masks)


NO_SEARCH_TEXT = (
    "No lesion search was run: automatic detection was switched off (--no-auto) and no seed "
    "point (--lesion-mm) or lesion mask (--lesion-mask) was given, so this report says nothing "
    "about lesions. Run again without --no-auto or give seed points or masks."
)
"""Warning and note of a report for which no lesion search ran."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ComputedScores:
    """Scores computed by the analysis before the report is assembled.

    Parameters
    ----------
    krenning_grades
        Krenning grade per lesion (report order), ``None`` where not graded.
    krenning_reason
        Why no lesion is graded (``None`` when graded).
    extra
        Further score entries (NETPET).
    """

    krenning_grades: tuple[int | None, ...]
    krenning_reason: str | None
    extra: tuple[ScoreEntry, ...] = ()


def build_report(
    *,
    study: StudyData | None,
    options: AnalysisOptions,
    references: Mapping[str, ReferenceRegion],
    statistics: Sequence[LesionStatistics],
    detection: Sequence[str],
    stages: Stages,
    scores_in: ComputedScores,
    physiological: Sequence[PhysiologicalUptake] = (),
) -> Report:
    """Assemble the report (without figures) of one analysed study.

    The scores come computed (:class:`ComputedScores`, once per analysis); only SSTR-RADS,
    which needs the user's clinical inputs, is evaluated here.
    """
    unit = "g/mL" if study is None else _suv_unit(study)
    grades, reason = scores_in.krenning_grades, scores_in.krenning_reason
    extra_scores = scores_in.extra
    categories: dict[int, str] = {}
    scores: list[ScoreEntry] = []
    prrt: str | None = None
    if study is not None and study.tracer_family == AnalysisFamily.SSTR:
        # Krenning and PRRT apply to SSTR imaging only: nothing "not computable" for FDG.
        scores.extend(_scores(grades, reason))
        prrt = _prrt_statement(grades, reason)
        try:
            categories, rads = sstr_rads_score(statistics, references, options.sstr_rads)
            scores.append(rads)
        except WorkbenchError as err:
            stages.error(f"SSTR-RADS not computed: {err}")
    scores.extend(extra_scores)
    if study is not None and statistics:
        scores.append(_burden(statistics, unit))
    all_warnings = list(stages.warnings)
    if study is not None:
        all_warnings = [*study.suv_result.warnings, *all_warnings]
    seen: dict[str, None] = dict.fromkeys(all_warnings)
    lesions = lesion_entries(statistics, detection, grades, reason, unit, categories)
    return Report(
        title="PET/CT analysis",
        header=None if study is None else _header(study),
        suv=() if study is None else _suv_lines(study, options.normalisation),
        warnings=tuple(seen),
        errors=tuple(stages.errors),
        notes=tuple(stages.notes),
        references=_reference_entries(
            references, unit, 0.0 if study is None else study.suv.voxel_volume_ml
        ),
        lesions=lesions,
        scores=tuple(scores),
        methods=_methods(options, study),
        lesion_search_run=lesion_search_run(options),
        created=datetime.now(UTC),
        physiological=tuple(physiological_entry(p) for p in physiological),
        target_ids=select_target_lesions(lesions),
        prrt=prrt,
    )


def physiological_entry(uptake: PhysiologicalUptake) -> PhysiologicalEntry:
    """Report entry of one component the detection classed as physiological uptake."""
    return PhysiologicalEntry(
        organ=uptake.organ,
        centroid_mm=uptake.centroid_mm,
        volume_ml=uptake.volume_ml,
        suvmax=uptake.suvmax,
        reason=uptake.reason,
    )


def _prrt_statement(grades: Sequence[int | None], reason: str | None) -> str:
    if reason is not None:
        return f"eligibility not assessable: Krenning not computable ({reason})."
    result = patient_krenning([g for g in grades if g is not None])
    return (
        f"{result.statement} Eligibility also needs the clinical criteria (histology, grade, "
        "progression, organ function)."
    )
