"""``response``: PERCIST 1.0, RECIST 1.1 and Choi from a baseline and a follow-up study.

Both studies are analysed as by :func:`~nenscope.pipeline.analyze_study` (each into its own
folder); the follow-up CT is registered rigidly onto the baseline CT, the lesions are matched by
centroid distance after that transform, and the criteria are computed from the matched lesions:

* **PERCIST 1.0**: SULpeak of the hottest lesion of each scan (SUL = SUVbw × lean body mass /
  weight, James formula as in PERCIST 1.0), liver SULmean and SD from the liver reference; new
  lesions make PMD.
* **RECIST 1.1**: up to 5 target lesions (2 per organ) of the baseline, longest axial diameter
  of each lesion outline.
* **Choi**: the same targets' summed longest diameters and their mean CT attenuation (HU).

A target without a follow-up partner is not counted as gone: it is re-measured at its
registered position (:func:`_remeasure`), or, when it cannot be outlined there, RECIST and
Choi are NE (not evaluable) with the reason.

The diameters come from the PET-delineated lesion outlines on axial slices, not from CT
calipers; the report says so.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from nenscope.core.errors import (
    EmptyRegionError,
    GeometryError,
    NotComputableError,
    WorkbenchError,
)
from nenscope.core.tracers import AnalysisFamily
from nenscope.core.units import Unit
from nenscope.pipeline.align import AlignOutcome, align_studies
from nenscope.pipeline.analysis import SEED_SEARCH_MM, analyze_study, check_seed_region
from nenscope.pipeline.model import AnalysisOptions, AnalysisResult
from nenscope.pipeline.stages import Stages
from nenscope.pipeline.staging import relocate, staged_folder
from nenscope.quantification.bodysize import LbmFormula, Sex, lbm_kg
from nenscope.quantification.lesions import axial_diameters
from nenscope.registration import Registration
from nenscope.reporting import (
    Quantity,
    Report,
    ResponseEntry,
    render_html,
    report_to_dict,
    report_to_json,
    write_pdf,
)
from nenscope.scoring.choi import choi_response
from nenscope.scoring.matching import DEFAULT_MAX_DISTANCE_MM, MatchResult, match_lesions
from nenscope.scoring.percist import PercistScan, percist_response
from nenscope.scoring.recist import RecistLesion, recist_response, select_target_lesions
from nenscope.segmentation import region_grow_from_seed

__all__ = [
    "CHOI_DEFINITION",
    "PERCIST_DEFINITION",
    "RECIST_DEFINITION",
    "ResponseResult",
    "analyze_response",
]

PERCIST_DEFINITION = (
    "Hottest-lesion SULpeak, baseline vs follow-up: CMR all lesions ≤ liver SULmean; PMR "
    "decrease ≥ 30 % and ≥ 0.8 SUL; PMD increase > 30 % and > 0.8 SUL, or summed TLG of 5 "
    "hottest lesions up > 75 %, or new lesions; SMD otherwise. Measurable baseline lesion: "
    "SULpeak ≥ 1.5 × liver SULmean + 2 SD (Wahl et al., J Nucl Med 2009;50 Suppl 1:122S)."
)
"""Definition shown with the PERCIST result."""

RECIST_DEFINITION = (
    "Sum of diameters of up to 5 target lesions (2 per organ; ≥ 10 mm): CR all gone; PR ≥ 30 % "
    "decrease from baseline; PD ≥ 20 % and ≥ 5 mm increase from the nadir, or new lesions; SD "
    "otherwise (Eisenhauer et al., Eur J Cancer 2009;45:228)."
)
"""Definition shown with the RECIST result."""

CHOI_DEFINITION = (
    "Sum of longest diameters and mean attenuation of the targets: PR size ≥ 10 % down or "
    "density ≥ 15 % down; PD size ≥ 10 % up without the density criterion, or new lesions; CR "
    "all gone; SD otherwise (Choi et al., J Clin Oncol 2007;25:1753)."
)
"""Definition shown with the Choi result."""

REMEASURE_MIN_CONTRAST = 1.5
"""A target re-measured at its registered position must peak at this × its surroundings."""

REMEASURE_MAX_VOLUME_RATIO = 3.0
"""A re-measured contour larger than this × the baseline lesion grew into its surroundings."""

MATCH_DISTANCE_MM = DEFAULT_MAX_DISTANCE_MM
"""Largest centroid distance after registration at which two lesions are the same, mm: the
one matching distance of the package (``scoring.matching.DEFAULT_MAX_DISTANCE_MM``)."""

_DIAMETER_NOTE = (
    "Diameters are the longest axial extent of the PET-delineated lesion outline (not CT "
    "calipers); lymph-node status is not known to the pipeline, so every lesion is measured by "
    "its longest diameter."
)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ResponseResult:
    """What :func:`analyze_response` produced.

    Parameters
    ----------
    baseline, followup
        The two analyses (written into ``out/baseline`` and ``out/followup``).
    registration
        Follow-up → baseline CT registration, or ``None`` (same frame of reference or no CT).
    matches
        Lesion pairs (baseline index, follow-up index into the lesion lists), or ``None``.
    report
        The response report (follow-up findings plus the response section).
    files
        Written files by role.
    """

    baseline: AnalysisResult
    followup: AnalysisResult
    registration: Registration | None
    matches: MatchResult | None
    report: Report
    files: Mapping[str, Path]

    @property
    def errors(self) -> tuple[str, ...]:
        """Why parts of the response are missing."""
        return self.report.errors


def _register(stages: Stages, base: AnalysisResult, follow: AnalysisResult) -> Registration | None:
    if base.study is None or follow.study is None:
        return None
    alignment = align_studies(stages, base.study, follow.study)
    if alignment.outcome is AlignOutcome.SAME_FRAME:
        stages.note(
            "Both studies share one frame of reference: lesions matched without registration."
        )
        return None
    if alignment.outcome is AlignOutcome.NO_CT:
        stages.warn(
            "A study has no CT: lesions matched in scanner coordinates without "
            "registration (the patient may have moved)."
        )
        return None
    reg = alignment.registration
    if reg is None:
        stages.warn(f"{alignment.reason}; lesions matched without registration.")
        return None
    t = reg.translation_mm
    stages.note(
        f"Follow-up registered to baseline: {reg.method}; translation "
        f"({t[0]:.1f}, {t[1]:.1f}, {t[2]:.1f}) mm, rotation {reg.rotation_deg:.1f}°."
    )
    return reg


def _sul_ratio(result: AnalysisResult, stages: Stages) -> float:
    study = result.study
    if study is None:
        raise NotComputableError("study not analysed")
    if study.suv.unit is Unit.SUV_LBM:
        return 1.0
    if study.suv.unit is not Unit.SUV_BW:
        raise NotComputableError(
            f"PERCIST needs SUVbw or SUL images, not {study.suv.unit.value}; use --normalisation "
            "bw or lbm"
        )
    r = study.suv_result
    try:
        if r.weight_kg is None or r.height_cm is None or r.sex is None:
            raise NotComputableError("patient weight, height or sex unknown")
        # PERCIST 1.0 defines SUL with the James lean-body-mass formula (Wahl 2009).
        lbm = lbm_kg(LbmFormula.JAMES, r.weight_kg, r.height_cm, Sex(r.sex))
    except (NotComputableError, ValueError) as err:
        stages.warn(
            f"SUL (James lean body mass) not computable ({err}); PERCIST uses SUVbw instead."
        )
        return 1.0
    stages.note(
        f"SUL = SUVbw x {lbm / r.weight_kg:.3f} (James LBM {lbm:.1f} kg / weight "
        f"{r.weight_kg:g} kg, PERCIST 1.0)."
    )
    return lbm / r.weight_kg


def _percist(
    stages: Stages, base: AnalysisResult, follow: AnalysisResult, matches: MatchResult
) -> ResponseEntry:
    name = "PERCIST 1.0"
    try:
        scans = []
        for result in (base, follow):
            liver = result.references.get("liver")
            if liver is None:
                raise NotComputableError("a study has no liver reference region")
            ratio = _sul_ratio(result, stages)
            scans.append(
                PercistScan(
                    sulpeaks=[s.suvpeak * ratio for s in result.statistics],
                    tlgs=[s.tlg * ratio for s in result.statistics],
                    liver_mean=liver.mean * ratio,
                    liver_sd=liver.sd * ratio,
                )
            )
        study = follow.study
        is_fdg = study is not None and study.tracer_family == AnalysisFamily.FDG
        res = percist_response(scans[0], scans[1], new_lesions=bool(matches.new), is_fdg=is_fdg)
    except WorkbenchError as err:
        return _not_computable(name, "SUL", PERCIST_DEFINITION, str(err))
    for text in res.warnings:
        stages.warn(f"PERCIST: {text}")
    return ResponseEntry(
        criterion=name,
        category=res.category.value,
        baseline=Quantity(
            value=res.baseline_sulpeak, unit="SUL (g/mL)", method="hottest-lesion SULpeak"
        ),
        followup=Quantity(
            value=res.followup_sulpeak, unit="SUL (g/mL)", method="hottest-lesion SULpeak"
        ),
        change_percent=Quantity(
            value=100.0 * res.relative_change, unit="%", method="(follow-up − baseline) / baseline"
        ),
        definition=PERCIST_DEFINITION,
        details=f"{res.reason}; measurable threshold {res.measurable_threshold:.2f} SUL; "
        f"{len(matches.new)} new lesion(s).",
    )


def _not_computable(name: str, unit: str, definition: str, why: str) -> ResponseEntry:
    missing = Quantity(value=None, unit=unit, method="", reason=why)
    return ResponseEntry(
        criterion=name,
        category="not computable",
        baseline=missing,
        followup=missing,
        change_percent=missing,
        definition=definition,
        details=why,
    )


def _recist_lesions(result: AnalysisResult) -> list[RecistLesion]:
    return [
        RecistLesion(
            lesion_id=str(n),
            organ=s.organ or "unknown",
            is_node=False,
            longest_diameter_mm=s.longest_diameter_mm,
            short_axis_mm=s.short_axis_mm,
        )
        for n, s in enumerate(result.statistics)
    ]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Measured:
    """A baseline target at follow-up: its measurement, or why it is not evaluable."""

    lesion: RecistLesion | None
    mask: npt.NDArray[np.bool_] | None
    how: str


@dataclass(frozen=True, slots=True, kw_only=True)
class _Targets:
    targets: list[RecistLesion]
    measured: dict[str, _Measured]

    @property
    def not_evaluable(self) -> list[str]:
        return [
            f"target {int(k) + 1}: {m.how}" for k, m in self.measured.items() if m.lesion is None
        ]

    def followup_sum_mm(self) -> float:
        return sum(m.lesion.longest_diameter_mm for m in self.measured.values() if m.lesion)

    def notes(self) -> str:
        parts = [f"target {int(k) + 1}: {m.how}" for k, m in self.measured.items() if m.how]
        return f" Not found by follow-up detection: {'; '.join(parts)}." if parts else ""


def _remeasure(
    base: AnalysisResult,
    follow: AnalysisResult,
    reg: Registration | None,
    target: RecistLesion,
) -> _Measured:
    """Measure a baseline target that follow-up detection did not find, at its mapped position.

    The baseline centroid is mapped into the follow-up frame (inverse registration) and the
    lesion is delineated there with a seeded 50 % background-corrected contour of the local
    maximum (as for ``--lesion-mm``). The measurement is refused (target not evaluable) when
    the contour is empty or away from the position, does not stand out from its surroundings
    (peak < :data:`REMEASURE_MIN_CONTRAST` × the median of a shell around it: the lesion is at
    background level on PET and cannot be outlined), or is much larger than the baseline lesion
    (it grew into the surrounding organ).
    """
    study = follow.study
    stats = base.statistics[int(target.lesion_id)]
    mapped = np.asarray(stats.centroid_mm, dtype=np.float64)
    if reg is not None:
        mapped = (np.append(mapped, 1.0) @ np.linalg.inv(reg.moving_to_fixed).T)[:3]
    point = tuple(float(v) for v in mapped)
    where = "({:.0f}, {:.0f}, {:.0f}) mm".format(*point)
    if study is None:
        return _Measured(lesion=None, mask=None, how="follow-up study not read")
    try:
        region = region_grow_from_seed(study.suv, point, search_radius_mm=SEED_SEARCH_MM)
        check_seed_region(study.suv, point, region)
    except EmptyRegionError:
        how = f"not delineable at {where} (empty contour); measure it on CT"
        return _Measured(lesion=None, mask=None, how=how)
    except GeometryError as err:
        # The seeded contour grew from another structure (or the point left the PET field).
        why = str(err).split(", so it belongs", 1)[0].split(": ", 1)[-1]
        how = f"not delineable at {where} (no uptake of its own there: {why}); measure it on CT"
        return _Measured(lesion=None, mask=None, how=how)
    except WorkbenchError as err:
        return _Measured(lesion=None, mask=None, how=f"not delineable at {where} ({err})")
    values = np.asarray(study.suv.array, dtype=np.float64)
    shell = ndimage.binary_dilation(region, iterations=4) & ~ndimage.binary_dilation(
        region, iterations=2
    )
    background = float(np.median(values[shell])) if shell.any() else 0.0
    peak = float(values[region].max())
    if peak < REMEASURE_MIN_CONTRAST * background:
        return _Measured(
            lesion=None,
            mask=None,
            how=f"not detected on follow-up PET and not separable from its surroundings at "
            f"{where} (SUVmax {peak:.2f} vs background {background:.2f}); measure it on CT",
        )
    volume_ml = float(region.sum()) * study.suv.voxel_volume_ml
    if volume_ml > REMEASURE_MAX_VOLUME_RATIO * stats.volume_ml:
        return _Measured(
            lesion=None,
            mask=None,
            how=f"the contour at {where} ({volume_ml:.1f} mL) is over "
            f"{REMEASURE_MAX_VOLUME_RATIO:g} x the baseline lesion ({stats.volume_ml:.1f} mL): "
            "not separable; measure it on CT",
        )
    longest, short, _ = axial_diameters(study.suv.affine, region)
    lesion = RecistLesion(
        lesion_id=target.lesion_id,
        organ=target.organ,
        is_node=False,
        longest_diameter_mm=longest,
        short_axis_mm=short,
    )
    how = (
        f"re-measured at {where} by a seeded 50 % background-corrected contour ({longest:.0f} mm)"
    )
    return _Measured(lesion=lesion, mask=region, how=how)


def _targets(
    base: AnalysisResult, follow: AnalysisResult, matches: MatchResult, reg: Registration | None
) -> _Targets:
    targets = list(select_target_lesions(_recist_lesions(base)))
    partner = {p.baseline: p.followup for p in matches.pairs}
    follow_lesions = _recist_lesions(follow)
    measured: dict[str, _Measured] = {}
    for t in targets:
        index = partner.get(int(t.lesion_id))
        if index is not None:
            labels = follow.labels
            mask = None if labels is None else labels == index + 1
            measured[t.lesion_id] = _Measured(lesion=follow_lesions[index], mask=mask, how="")
        else:
            measured[t.lesion_id] = _remeasure(base, follow, reg, t)
    return _Targets(targets=targets, measured=measured)


def _not_evaluable(
    name: str, definition: str, baseline_sum_mm: float, found: _Targets
) -> ResponseEntry:
    why = "; ".join(found.not_evaluable)
    return ResponseEntry(
        criterion=name,
        category="NE",
        baseline=Quantity(value=baseline_sum_mm, unit="mm", method="sum of diameters"),
        followup=Quantity(value=None, unit="mm", method="", reason="target(s) not evaluable"),
        change_percent=Quantity(value=None, unit="%", method="", reason="target(s) not evaluable"),
        definition=definition,
        details=f"not evaluable: {why}. {_DIAMETER_NOTE}",
    )


def _recist(
    base: AnalysisResult, follow: AnalysisResult, matches: MatchResult, reg: Registration | None
) -> ResponseEntry:
    name = "RECIST 1.1"
    try:
        found = _targets(base, follow, matches, reg)
        targets = found.targets
        if found.not_evaluable and not matches.new:
            # RECIST 1.1 §4.3.1: a target that cannot be measured makes the response NE
            # (unless there is progression, here: new lesions).
            return _not_evaluable(
                name, RECIST_DEFINITION, sum(t.longest_diameter_mm for t in targets), found
            )
        measured = {
            k: m.lesion
            if m.lesion is not None
            else dataclasses.replace(
                next(t for t in targets if t.lesion_id == k),
                longest_diameter_mm=0.0,
                short_axis_mm=0.0,
            )
            for k, m in found.measured.items()
        }
        res = recist_response(targets, measured, new_lesions=bool(matches.new))
    except WorkbenchError as err:
        return _not_computable(name, "mm", RECIST_DEFINITION, str(err))
    ids = ", ".join(str(int(t.lesion_id) + 1) for t in targets)
    return ResponseEntry(
        criterion=name,
        category=res.category.value,
        baseline=Quantity(value=res.baseline_sum_mm, unit="mm", method="sum of diameters"),
        followup=Quantity(value=res.followup_sum_mm, unit="mm", method="sum of diameters"),
        change_percent=Quantity(
            value=100.0 * res.change_from_baseline, unit="%", method="from baseline"
        ),
        definition=RECIST_DEFINITION,
        details=f"{res.reason}; baseline targets: lesions {ids}.{found.notes()} {_DIAMETER_NOTE}",
    )


def _mean_hu(result: AnalysisResult, mask: npt.NDArray[np.bool_] | None) -> float | None:
    """Mean CT number (HU) over the lesion's PET voxels, CT sampled at their centres."""
    study = result.study
    if study is None or study.ct is None or mask is None:
        return None
    voxels = np.argwhere(mask)
    if voxels.size == 0:
        return None
    points = study.suv.index_to_lps(voxels)
    idx = study.ct.volume.lps_to_index(points)
    # Interpolated in double precision from the stored CT (no float64 copy of the volume).
    values = ndimage.map_coordinates(
        np.asarray(study.ct.volume.array), idx.T, output=np.float64, order=1, mode="nearest"
    )
    return float(np.mean(values))


def _choi(
    base: AnalysisResult, follow: AnalysisResult, matches: MatchResult, reg: Registration | None
) -> ResponseEntry:
    name = "Choi"
    try:
        found = _targets(base, follow, matches, reg)
        targets = found.targets
        if not targets:
            raise NotComputableError("no measurable baseline lesion (longest diameter ≥ 10 mm)")
        baseline_sum = sum(t.longest_diameter_mm for t in targets)
        if found.not_evaluable and not matches.new:
            return _not_evaluable(name, CHOI_DEFINITION, baseline_sum, found)
        base_labels = base.labels
        base_hu = [
            _mean_hu(base, None if base_labels is None else base_labels == int(t.lesion_id) + 1)
            for t in targets
        ]
        follow_hu = [_mean_hu(follow, m.mask) for m in found.measured.values()]
        known_base = [v for v in base_hu if v is not None]
        known_follow = [v for v in follow_hu if v is not None]
        followup_sum = found.followup_sum_mm()
        res = choi_response(
            baseline_sum_mm=baseline_sum,
            followup_sum_mm=followup_sum,
            baseline_hu=float(np.mean(known_base)) if known_base else None,
            followup_hu=float(np.mean(known_follow)) if known_follow else None,
            new_lesions=bool(matches.new),
        )
    except WorkbenchError as err:
        return _not_computable(name, "mm", CHOI_DEFINITION, str(err))
    density = (
        "not measured (no CT)"
        if res.density_change is None
        else f"{100.0 * res.density_change:+.1f} %"
    )
    return ResponseEntry(
        criterion=name,
        category=res.category.value,
        baseline=Quantity(value=baseline_sum, unit="mm", method="sum of longest diameters"),
        followup=Quantity(value=followup_sum, unit="mm", method="sum of longest diameters"),
        change_percent=Quantity(value=100.0 * res.size_change, unit="%", method="size"),
        definition=CHOI_DEFINITION,
        details=f"{res.reason}; mean attenuation change {density}.{found.notes()} "
        f"{_DIAMETER_NOTE}",
    )


def _match(
    stages: Stages, base: AnalysisResult, follow: AnalysisResult, reg: Registration | None
) -> MatchResult:
    result = match_lesions(
        [s.centroid_mm for s in base.statistics],
        [s.centroid_mm for s in follow.statistics],
        max_distance_mm=MATCH_DISTANCE_MM,
        followup_to_baseline=None if reg is None else reg.moving_to_fixed,
    )
    for p in result.pairs:
        stages.note(
            f"Baseline lesion {p.baseline + 1} = follow-up lesion {p.followup + 1} "
            f"({p.distance_mm:.1f} mm apart after registration)."
        )
    for i in result.unmatched_baseline:
        stages.note(f"Baseline lesion {i + 1} has no follow-up partner (resolved or moved).")
    for i in result.new:
        stages.note(
            f"Follow-up lesion {i + 1} is new (no baseline lesion within "
            f"{MATCH_DISTANCE_MM:g} mm)."
        )
    return result


def _write(out_dir: Path, report: Report, pdf: bool) -> dict[str, Path]:
    files = {
        "report_json": out_dir / "report.json",
        "report_html": out_dir / "report.html",
        "response_json": out_dir / "response.json",
    }
    files["report_json"].write_text(report_to_json(report), encoding="utf-8")
    files["report_html"].write_text(render_html(report), encoding="utf-8")
    files["response_json"].write_text(
        json.dumps(report_to_dict(report)["response"], indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    if pdf:
        files["report_pdf"] = out_dir / "report.pdf"
        write_pdf(report, files["report_pdf"])
    return files


def analyze_response(
    baseline_dir: Path,
    followup_dir: Path,
    out_dir: Path,
    options: AnalysisOptions | None = None,
) -> ResponseResult:
    """Analyse a baseline and a follow-up study and assess the response.

    Parameters
    ----------
    baseline_dir, followup_dir
        The two studies.
    out_dir
        Output folder: ``baseline/`` and ``followup/`` hold each analysis; ``report.html``,
        ``report.pdf``, ``report.json`` and ``response.json`` the response.
    options
        Analysis options for both studies.

    Returns
    -------
    ResponseResult
        Both analyses, the registration, the lesion matches and the response report.
    """
    out_dir = Path(out_dir)
    try:
        # Issue 14: the folder holds the previous complete result or this one, never a mix.
        with staged_folder(out_dir, owned=RESPONSE_OUTPUTS) as staging:
            result = _response_into(
                baseline_dir, followup_dir, staging, options or AnalysisOptions()
            )
    except OSError as err:
        raise WorkbenchError(
            f"Cannot write the results to {out_dir}: {err.strerror or err}. Nothing was "
            "changed there (a previous result stays as it was)."
        ) from err
    base, follow = (
        dataclasses.replace(r, files=relocate(r.files, staging, out_dir))
        for r in (result.baseline, result.followup)
    )
    return dataclasses.replace(
        result,
        baseline=base,
        followup=follow,
        files=relocate(result.files, staging, out_dir),
    )


RESPONSE_OUTPUTS = frozenset(
    {"baseline", "followup", "report.json", "report.html", "report.pdf", "response.json"}
)
"""Entries of a response folder that a run writes (a previous run's are not kept)."""


def _response_into(
    baseline_dir: Path, followup_dir: Path, out_dir: Path, options: AnalysisOptions
) -> ResponseResult:
    """Run both analyses and the response, writing into ``out_dir`` (the staging folder)."""
    base = analyze_study(baseline_dir, out_dir / "baseline", options)
    follow = analyze_study(followup_dir, out_dir / "followup", options)
    stages = Stages()
    for label, result in (("baseline", base), ("follow-up", follow)):
        for text in result.errors:
            stages.error(f"{label}: {text}")
    entries: tuple[ResponseEntry, ...] = ()
    reg: Registration | None = None
    matches: MatchResult | None = None
    if base.study is not None and follow.study is not None:
        reg = _register(stages, base, follow)
        matches = _match(stages, base, follow, reg)
        entries = (
            _percist(stages, base, follow, matches),
            _recist(base, follow, matches, reg),
            _choi(base, follow, matches, reg),
        )
    report = dataclasses.replace(
        follow.report,
        title="PET/CT response: follow-up against baseline",
        response=entries,
        errors=tuple(stages.errors),
        warnings=(*follow.report.warnings, *stages.warnings),
        notes=(*stages.notes, *follow.report.notes),
    )
    files = _write(out_dir, report, options.pdf)
    return ResponseResult(
        baseline=base,
        followup=follow,
        registration=reg,
        matches=matches,
        report=report,
        files=files,
    )
