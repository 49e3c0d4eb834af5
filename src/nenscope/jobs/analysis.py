"""The one adapter between the service and the analysis: options in, a JSON result out.

The service holds no analysis logic. This module turns the JSON options of
``POST /api/studies/{id}/analyses`` into analysis options, runs
:func:`nenscope.api.analyze` and :func:`nenscope.api.write_outputs`, and returns what the
store keeps:

- ``analysis``: ``AnalysisResult.to_dict()`` without the report's figures (they are in the
  written HTML/PDF; in the database they would be ~0.4 MB per version); the whole
  ``to_dict()`` is also written once as ``result.json`` beside the report files;
- ``report``: the report as JSON (``report_to_dict``: lesions as in lesions.json, scores,
  reference regions), which review edits change (lesion status, added lesions);
- the SUV image and lesion label map as arrays, so that a review edit (a lesion grown from a
  seed) never reads the DICOM again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from nenscope.api import AnalysisResult, analyze, write_outputs
from nenscope.core.enums import suggest
from nenscope.core.errors import GeometryError, OptionError, WorkbenchError
from nenscope.core.geometry import ImageVolume
from nenscope.core.units import Unit
from nenscope.pipeline import SEED_SEARCH_MM, AnalysisOptions, check_seed_region
from nenscope.pipeline.response import analyze_response
from nenscope.pipeline.viewer import write_view_volumes
from nenscope.quantification import label_statistics
from nenscope.quantification.lesions import LesionStatistics
from nenscope.radiomics.settings import RadiomicsSettings, list_presets, load_settings
from nenscope.reporting import report_to_dict
from nenscope.segmentation import DetectionSettings, region_grow_from_seed

__all__ = [
    "OPTION_KEYS",
    "RESULT_FORMAT",
    "STAGE_PROGRESS",
    "AnalysisOutcome",
    "GrownLesion",
    "grow_lesion_from_seed",
    "load_suv",
    "outcome_of",
    "parse_analysis_options",
    "run_analysis",
    "run_response",
]

_log = logging.getLogger(__name__)

RESULT_FORMAT = "nenscope.service.result/1"
"""``format`` of a stored result (``analysis``: ``AnalysisResult.to_dict()``; ``report``)."""

NO_FIGURES: dict[str, Any] = {"mip_png": None, "lesion_pngs": {}}
"""``ReportFigures()`` as stored: the database copy of a result leaves the PNGs out."""

OPTION_KEYS = (
    "suv_threshold",
    "min_volume_ml",
    "auto_detect",
    "lesion_seeds_mm",
    "tracer",
    "normalisation",
    "pet_series_uid",
    "radiomics",
)
"""Analysis options accepted as JSON by the service (all optional; ``radiomics`` is a preset
name, never a file path on the server)."""

STAGE_PROGRESS: dict[str, float] = {
    "read + SUV": 0.10,
    "registration": 0.25,
    "reference regions": 0.30,
    "lesions": 0.40,
    "lesion statistics": 0.60,
    "radiomics": 0.62,
    "report": 0.66,
    "figures": 0.72,
    "DICOM SEG + SR": 0.78,
    "JSON + CSV + HTML": 0.86,
    "PDF": 0.88,
    "viewer": 0.94,
}
"""Job progress when a pipeline stage starts (the share of a clinical study's run time spent
before it: read 10 %, anatomy and lesions ~50 %, report and files ~25 %). A stage not named
here (a later addition) leaves the progress where it was."""


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class AnalysisOutcome:
    """An analysis run: the JSON result, its errors, and the arrays review needs.

    Parameters
    ----------
    result
        JSON-safe result (``format``, ``report``, ``errors``, ``files``).
    errors
        Why parts are missing; empty when every stage ran.
    suv
        SUV image (z, y, x), float32 to halve its size on disk, or ``None``.
    affine
        4×4 index (z, y, x) → LPS mm matrix of ``suv``.
    labels
        Lesion label map (z, y, x) on the SUV grid (lesion ``id`` = label), or ``None``.
    """

    result: dict[str, Any]
    errors: tuple[str, ...]
    suv: npt.NDArray[np.float32] | None
    affine: npt.NDArray[np.float64] | None
    labels: npt.NDArray[np.uint16] | None


def _point(value: object) -> tuple[float, float, float]:
    if (
        not isinstance(value, list | tuple)
        or len(value) != 3
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        raise OptionError(f"A seed point must be [x, y, z] in LPS mm, not {value!r}.")
    return (float(value[0]), float(value[1]), float(value[2]))


def _radiomics_preset(value: object) -> RadiomicsSettings:
    presets = list_presets()
    if not isinstance(value, str) or value not in presets:
        raise OptionError(
            f"Analysis option 'radiomics' must be the name of a radiomics preset (never a file "
            f"on the server), not {value!r}. {suggest(str(value), presets)}"
        )
    return load_settings(value)


def parse_analysis_options(payload: Mapping[str, Any]) -> AnalysisOptions:
    """Analysis options from the JSON body of an analysis request.

    Raises
    ------
    OptionError
        For an unknown key (with the closest valid one) or a value of the wrong kind.
    """
    unknown = sorted(set(payload) - set(OPTION_KEYS))
    if unknown:
        raise OptionError(
            f"Unknown analysis option {unknown[0]!r}. {suggest(unknown[0], OPTION_KEYS)}"
        )
    detection = DetectionSettings()
    kwargs: dict[str, Any] = {}
    try:
        if "suv_threshold" in payload or "min_volume_ml" in payload:
            detection = DetectionSettings(
                suv_threshold=float(payload.get("suv_threshold", detection.suv_threshold)),
                min_volume_ml=float(payload.get("min_volume_ml", detection.min_volume_ml)),
            )
        if "auto_detect" in payload:
            kwargs["auto_detect"] = bool(payload["auto_detect"])
        if "lesion_seeds_mm" in payload:
            kwargs["lesion_seeds_mm"] = tuple(_point(p) for p in payload["lesion_seeds_mm"])
        for key in ("tracer", "normalisation", "pet_series_uid"):
            if key in payload:
                kwargs[key] = str(payload[key])
        if payload.get("radiomics") is not None:
            kwargs["radiomics"] = _radiomics_preset(payload["radiomics"])
        return AnalysisOptions(detection=detection, **kwargs)
    except (TypeError, ValueError) as err:
        if isinstance(err, OptionError):
            raise
        raise OptionError(f"Analysis options refused: {err}") from err


def run_analysis(
    study_dir: Path,
    out_dir: Path,
    options: Mapping[str, Any],
    *,
    on_stage: Callable[[str], None] | None = None,
    viewer_dir: Path | None = None,
) -> AnalysisOutcome:
    """Analyse the study in ``study_dir``; report files go to ``out_dir``.

    Parameters
    ----------
    study_dir
        Folder of the study's DICOM files.
    out_dir
        Folder for the report files (PDF, HTML, SEG, SR, …).
    options
        JSON analysis options (:data:`OPTION_KEYS`).
    on_stage
        Told each stage's name as it starts (the job's progress; :data:`STAGE_PROGRESS`).
    viewer_dir
        Where to write the browser viewer's volumes from the study in memory (no second
        read of the DICOM); ``None`` = not written.
    """
    parsed = parse_analysis_options(options)
    # The CLI's defaults: the service's analysis is the CLI's analysis, nothing more.
    analysis = write_outputs(
        analyze(study_dir, parsed, on_stage=on_stage), out_dir, on_stage=on_stage
    )
    if viewer_dir is not None and analysis.study is not None:
        if on_stage is not None:
            on_stage("viewer")
        try:
            write_view_volumes(analysis.study, viewer_dir)
        except (WorkbenchError, OSError) as err:
            # The review page writes them on first view instead; the analysis stands.
            _log.warning("Viewer volumes not written to %s: %s", viewer_dir, err)
    whole = analysis.to_dict()
    (Path(out_dir) / "result.json").write_text(
        json.dumps(whole, allow_nan=False), encoding="utf-8"
    )
    return outcome_of(analysis, whole=whole)


def outcome_of(
    analysis: AnalysisResult, *, whole: dict[str, Any] | None = None
) -> AnalysisOutcome:
    """Return what the store keeps of an analysis: the JSON result and the review's arrays.

    Used by the service's jobs and by ``nenscope cohort run --db`` (one stored form).

    Parameters
    ----------
    analysis
        The analysis (with its study, for the SUV image).
    whole
        ``analysis.to_dict()`` when the caller has it already (it is not cheap).
    """
    whole = analysis.to_dict() if whole is None else whole
    stored = {
        **whole,
        "report": {**whole["report"], "figures": {"mip_png": None, "lesion_pngs": {}}},
    }
    suv = labels = affine = None
    if analysis.study is not None:
        suv = np.asarray(analysis.study.suv.array, dtype=np.float32)
        affine = np.asarray(analysis.study.suv.affine, dtype=np.float64)
    if analysis.labels is not None:
        labels = np.asarray(analysis.labels, dtype=np.uint16)
    result = {
        "format": RESULT_FORMAT,
        "analysis": stored,
        "report": report_to_dict(analysis.report),
        "errors": list(analysis.errors),
        "files": {role: Path(path).name for role, path in analysis.files.items()},
        "suv_unit": None if analysis.study is None else analysis.study.suv.unit.value,
    }
    return AnalysisOutcome(
        result=result, errors=tuple(analysis.errors), suv=suv, affine=affine, labels=labels
    )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class GrownLesion:
    """A lesion segmented from a review seed: its mask and its measurements (lesions.json)."""

    mask: npt.NDArray[np.bool_]
    lesion: dict[str, Any]
    statistics: LesionStatistics


def _reference_mean(result: Mapping[str, Any], name: str) -> float | None:
    for region in (result.get("report") or {}).get("references") or []:
        if region.get("name") == name:
            value = (region.get("mean") or {}).get("value")
            return float(value) if isinstance(value, int | float) else None
    return None


def grow_lesion_from_seed(
    suv: ImageVolume,
    seed_mm: tuple[float, float, float],
    *,
    lesion_id: int,
    result: Mapping[str, Any],
) -> GrownLesion:
    """Segment and measure a lesion from a review seed on the stored SUV image.

    The same steps as a ``--lesion-mm`` seed in the analysis (50 % background-corrected
    contour of the local maximum, refused when the region lies away from the seed); the liver
    and spleen means of the stored result give the Krenning-relevant lesion-to-organ ratios.
    """
    index = np.rint(suv.lps_to_index([seed_mm])[0]).astype(int)
    if np.any(index < 0) or np.any(index >= np.asarray(suv.array.shape)):
        raise GeometryError(
            f"Seed point {list(seed_mm)} mm lies outside the PET field of view (LPS x, y, z)."
        )
    region = region_grow_from_seed(suv, seed_mm, search_radius_mm=SEED_SEARCH_MM)
    check_seed_region(suv, seed_mm, region)
    stats = label_statistics(
        suv,
        region.astype(np.uint16),
        liver_mean=_reference_mean(result, "liver"),
        spleen_mean=_reference_mean(result, "spleen"),
    )[0]
    point = ", ".join(f"{v:g}" for v in seed_mm)
    lesion = {
        "id": lesion_id,
        "status": "confirmed",
        "site": "",
        "centroid_mm": [float(v) for v in stats.centroid_mm],
        "volume_ml": stats.volume_ml,
        "suvmax": stats.suvmax,
        "suvpeak": stats.suvpeak,
        "suvmean": stats.suvmean,
        "tlg": stats.tlg,
        "suv_sd": stats.suv_sd,
        "detection": (
            f"review: seed at ({point}) mm, 50 % background-corrected contour of the local maximum"
        ),
    }
    return GrownLesion(mask=region, lesion=lesion, statistics=stats)


def load_suv(folder: Path, unit: str | None) -> ImageVolume:
    """Load the SUV image an analysis run saved (``suv.npy``, ``affine.npy``)."""
    array = np.load(folder / "suv.npy", mmap_mode="r")
    affine = np.load(folder / "affine.npy")
    return ImageVolume(
        array=np.asarray(array, dtype=np.float64),
        affine=affine,
        unit=Unit(unit) if unit else Unit.SUV_BW,
    )


def run_response(
    baseline_dir: Path, followup_dir: Path, out_dir: Path, options: Mapping[str, Any]
) -> dict[str, Any]:
    """Assess the response of a follow-up against a baseline study (PERCIST, RECIST, Choi).

    Both studies are analysed with ``options``; the answer is JSON-safe: the response entries,
    the follow-up report and why parts are missing.
    """
    outcome = analyze_response(
        baseline_dir, followup_dir, out_dir, parse_analysis_options(options)
    )
    report = report_to_dict(outcome.report)
    return {
        "format": RESULT_FORMAT,
        "response": report.get("response") or [],
        "report": report,
        "errors": list(outcome.errors),
        "files": {role: Path(path).name for role, path in outcome.files.items()},
    }
