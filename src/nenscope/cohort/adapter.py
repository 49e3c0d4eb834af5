"""The ONE place where the cohort calls the per-study analysis.

Until the Python API of issue 9 (``nenscope.api.analyze`` + ``AnalysisResult.to_dict``) is on
main, this runs ``nenscope.pipeline.analyze_study`` into a scratch folder (no figures, PDF or
DICOM outputs) and reads back the ``lesions.json`` / ``radiomics.json`` contracts; switching to
the API changes this module only.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nenscope.cohort.errors import StudyFailedError
from nenscope.radiomics.settings import RadiomicsSettings

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
    lesions: list[Mapping[str, Any]], radiomics: Mapping[int, Mapping[str, Any]]
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
    study_dir: Path, radiomics: RadiomicsSettings | None, scratch_root: Path
) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
    """Analyse one study; return its lesion rows and the analysis' non-fatal errors.

    Parameters
    ----------
    study_dir
        The study's folder (read by the worker itself).
    radiomics
        Radiomics settings, or None for lesion measurements only.
    scratch_root
        Folder for the analysis' temporary outputs (removed before returning).

    Raises
    ------
    StudyFailedError
        The study could not be read or analysed at all (no PET series, unreadable files).
    """
    from nenscope.pipeline import AnalysisOptions, analyze_study

    options = AnalysisOptions(figures=False, pdf=False, dicom_outputs=False, radiomics=radiomics)
    scratch = Path(tempfile.mkdtemp(prefix="study-", dir=scratch_root))
    try:
        result = analyze_study(study_dir, scratch, options)
        if result.study is None:
            raise StudyFailedError("; ".join(result.errors) or "the study could not be read")
        lesions = json.loads((scratch / "lesions.json").read_text(encoding="utf-8"))
        features: dict[int, Mapping[str, Any]] = {}
        rad_path = scratch / "radiomics.json"
        if radiomics is not None and rad_path.is_file():
            doc = json.loads(rad_path.read_text(encoding="utf-8"))
            features = {int(les["id"]): les["features"] for les in doc["lesions"]}
        return lesion_rows(lesions, features), tuple(result.errors)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
