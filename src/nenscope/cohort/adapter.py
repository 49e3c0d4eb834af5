"""The ONE place where the cohort calls the per-study analysis: ``nenscope.api.analyze``.

``analyze`` computes in memory and writes nothing (no figures, PDF or DICOM outputs are asked
for); the lesions are taken in the ``lesions.json`` contract form (``lesion_to_dict``) and the
radiomics from ``result.radiomics``, so the cohort table holds exactly what ``nenscope analyze``
would write for the study.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nenscope.cohort.errors import StudyFailedError
from nenscope.radiomics.settings import RadiomicsSettings

if TYPE_CHECKING:
    from nenscope.api import AnalysisResult

__all__ = ["LESION_COLUMNS", "analyze_for_cohort", "lesion_rows"]

LESION_COLUMNS = (
    "lesion_id",
    "status",
    "site",
    "centroid_x_mm",
    "centroid_y_mm",
    "centroid_z_mm",
    "volume_ml",
    "suvmax",
    "suvpeak",
    "suvmean",
    "tlg",
    "krenning",
    "sstr_rads",
    "detection",
)
"""Lesion columns of ``lesions.parquet`` (the lesions.json fields, centroid split per axis)."""

_SCALAR = (int, float, str, bool, type(None))


def lesion_rows(
    lesions: Sequence[Mapping[str, Any]], radiomics: Mapping[int, Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Flatten lesions.json objects (+ radiomics features by lesion id) into table rows."""
    rows = []
    for lesion in lesions:
        row: dict[str, Any] = {"lesion_id": int(lesion["id"])}
        x, y, z = lesion["centroid_mm"]
        row.update(centroid_x_mm=float(x), centroid_y_mm=float(y), centroid_z_mm=float(z))
        for key, value in lesion.items():
            if key in ("id", "centroid_mm") or not isinstance(value, _SCALAR):
                continue
            row[key] = value
        row.setdefault("status", "candidate")
        for key, value in radiomics.get(int(lesion["id"]), {}).items():
            row[key] = None if value is None else float(value)
        rows.append(row)
    return rows


def analyze_for_cohort(
    study_dir: Path, radiomics: RadiomicsSettings | None
) -> tuple[list[dict[str, Any]], AnalysisResult]:
    """Analyse one study; return its lesion rows and the whole result.

    The result's ``errors`` are the analysis' non-fatal errors; the result itself is what
    ``--db`` stores (:func:`nenscope.jobs.analysis.outcome_of`).

    Parameters
    ----------
    study_dir
        The study's folder (read by the worker itself).
    radiomics
        Radiomics settings, or None for lesion measurements only.

    Raises
    ------
    StudyFailedError
        The study could not be read or analysed at all (no PET series, unreadable files).
    """
    from nenscope.api import AnalysisOptions, analyze
    from nenscope.reporting import lesion_to_dict

    options = AnalysisOptions(figures=False, pdf=False, dicom_outputs=False, radiomics=radiomics)
    result = analyze(study_dir, options)
    if result.study is None:
        raise StudyFailedError("; ".join(result.errors) or "the study could not be read")
    lesions = [lesion_to_dict(lesion) for lesion in result.report.lesions]
    features: dict[int, Mapping[str, Any]] = {}
    for entry in result.radiomics or ():
        features[entry.id] = {
            key: (float(value) if math.isfinite(value) else None)
            for key, value in entry.features.items()
        }
    return lesion_rows(lesions, features), result
