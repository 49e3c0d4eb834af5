"""``demo``: generate a synthetic PET/CT study with known lesions, analyse it, compare.

The comparison with the phantom's truth is what a new user wants to see first: which painted
lesions were found (and how close their SUVmax and volume came), which were missed, and
whether anything else was reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nenscope.dicom.synthetic import PhantomSettings, PhantomTruth, write_phantom_study
from nenscope.pipeline.analysis import analyze_study
from nenscope.pipeline.model import AnalysisOptions, AnalysisResult

__all__ = ["DemoLesion", "DemoResult", "compare_with_truth", "run_demo"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoLesion:
    """A painted lesion and the reported lesion that matches it (if any).

    Parameters
    ----------
    lesion_id
        Phantom lesion id.
    true_volume_ml, true_suvmax
        Truth: voxel volume on the PET grid (mL) and painted SUV (g/mL).
    found_id
        Reported lesion number, or ``None`` when missed.
    volume_ml, suvmax
        Reported values (``None`` when missed).
    """

    lesion_id: str
    true_volume_ml: float
    true_suvmax: float
    found_id: int | None
    volume_ml: float | None
    suvmax: float | None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class DemoResult:
    """The demo study, its analysis and the comparison."""

    study_dir: Path
    truth: PhantomTruth
    analysis: AnalysisResult
    lesions: tuple[DemoLesion, ...]
    extra: tuple[int, ...]


def compare_with_truth(
    result: AnalysisResult, truth: PhantomTruth
) -> tuple[tuple[DemoLesion, ...], tuple[int, ...]]:
    """Match reported lesions to painted ones (centroid within the lesion radius).

    Returns
    -------
    lesions
        One entry per painted lesion.
    extra
        Reported lesion numbers that match no painted lesion.
    """
    reported = result.report.lesions
    used: set[int] = set()
    out = []
    for les in truth.lesions:
        best = None
        if reported:
            dist = [
                float(np.linalg.norm(np.subtract(r.centroid_mm, les.centre_mm))) for r in reported
            ]
            k = int(np.argmin(dist))
            if dist[k] <= les.diameter_mm / 2.0:
                best = reported[k]
                used.add(best.id)
        out.append(
            DemoLesion(
                lesion_id=les.lesion_id,
                true_volume_ml=les.volume_ml,
                true_suvmax=les.suvmax,
                found_id=None if best is None else best.id,
                volume_ml=None if best is None else best.value("volume_ml"),
                suvmax=None if best is None else best.value("suvmax"),
            )
        )
    extra = tuple(r.id for r in reported if r.id not in used)
    return tuple(out), extra


def run_demo(
    out_dir: Path, settings: PhantomSettings, options: AnalysisOptions | None = None
) -> DemoResult:
    """Write the phantom study to ``out_dir/study``, analyse it into ``out_dir/analysis``."""
    study_dir = Path(out_dir) / "study"
    truth = write_phantom_study(study_dir, settings, overwrite=True)
    analysis = analyze_study(study_dir, Path(out_dir) / "analysis", options)
    lesions, extra = compare_with_truth(analysis, truth)
    return DemoResult(
        study_dir=study_dir, truth=truth, analysis=analysis, lesions=lesions, extra=extra
    )
