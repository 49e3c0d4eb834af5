"""Radiomics per lesion for ``analyze --radiomics CONFIG`` (``radiomics.csv``, ``radiomics.json``).

The extraction machinery (numba texture kernels) is imported inside :func:`lesion_radiomics`,
so that ``nenscope`` start-up and analyses without radiomics do not pay for it. A lesion on
which extraction fails (an ROI that is empty after resampling, a unit the settings refuse)
gets its reason recorded; the analysis goes on.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from nenscope import __version__
from nenscope.core.errors import WorkbenchError
from nenscope.core.geometry import ImageVolume
from nenscope.pipeline.stages import Stages
from nenscope.radiomics.settings import RadiomicsSettings

__all__ = [
    "ALL_FAMILIES",
    "LesionRadiomics",
    "lesion_radiomics",
    "radiomics_note",
    "radiomics_to_csv",
    "radiomics_to_json",
    "run_radiomics",
    "write_radiomics",
]

ALL_FAMILIES = "all"
"""``not_computable`` key of a lesion on which no family could be extracted."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LesionRadiomics:
    """Radiomics features of one lesion.

    Parameters
    ----------
    id
        Lesion id (= label in the lesion label map = report id).
    features
        ``{IBSI KEY: value}`` (float64; NaN where undefined for the ROI).
    not_computable
        Family → reason (``"all"`` when the extraction failed as a whole).
    """

    id: int
    features: Mapping[str, float] = field(default_factory=dict)
    not_computable: Mapping[str, str] = field(default_factory=dict)


def lesion_radiomics(
    suv: ImageVolume, labels: npt.NDArray[np.uint16], settings: RadiomicsSettings
) -> tuple[LesionRadiomics, ...]:
    """Extract the features of every lesion of a label map (lesion id = label).

    Parameters
    ----------
    suv
        SUV image (z, y, x), g/mL.
    labels
        Lesion label map with the image's shape, 0 = background.
    settings
        Radiomics settings (preset or YAML file).

    Returns
    -------
    tuple of LesionRadiomics
        One entry per label ``1..labels.max()``, in id order.
    """
    from nenscope.radiomics.extract import extract_features  # numba: only when asked for

    out = []
    for lesion_id in range(1, int(labels.max(initial=0)) + 1):
        try:
            result = extract_features(suv, labels == lesion_id, settings)
        except WorkbenchError as err:
            reason = " ".join(str(err).split())
            out.append(LesionRadiomics(id=lesion_id, not_computable={ALL_FAMILIES: reason}))
            continue
        out.append(
            LesionRadiomics(
                id=lesion_id,
                features=dict(result.features),
                not_computable=dict(result.not_computable),
            )
        )
    return tuple(out)


def radiomics_note(settings: RadiomicsSettings, lesions: Sequence[LesionRadiomics]) -> str:
    """Return the report line: which settings gave the radiomics of how many lesions."""
    done = sum(1 for les in lesions if les.features)
    text = (
        f"Radiomics (IBSI) computed with settings '{settings.name}' for {done} of "
        f"{len(lesions)} lesion(s); features in radiomics.json and radiomics.csv."
    )
    failed = [les.id for les in lesions if not les.features]
    if failed:
        text += (
            f" Not computable for lesion(s) {', '.join(map(str, failed))} (see radiomics.json)."
        )
    return text


def _finite_or_none(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def radiomics_to_json(settings: RadiomicsSettings, lesions: Sequence[LesionRadiomics]) -> str:
    """Return ``{"settings", "version", "lesions": [{"id", "features", "not_computable"}]}``.

    Undefined values (NaN) are ``null``.
    """
    doc: dict[str, Any] = {
        "settings": settings.to_mapping(),
        "version": __version__,
        "lesions": [
            {
                "id": les.id,
                "features": {k: _finite_or_none(v) for k, v in les.features.items()},
                "not_computable": dict(les.not_computable),
            }
            for les in lesions
        ],
    }
    return json.dumps(doc, indent=2, allow_nan=False) + "\n"


def radiomics_to_csv(lesions: Sequence[LesionRadiomics]) -> str:
    """One row per lesion: ``lesion_id`` and one column per IBSI feature key (empty if absent)."""
    keys: dict[str, None] = {}
    for les in lesions:
        keys.update(dict.fromkeys(les.features))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["lesion_id", *keys])
    for les in lesions:
        values = [les.features.get(key) for key in keys]
        writer.writerow(
            [les.id, *("" if v is None or math.isnan(v) else repr(float(v)) for v in values)]
        )
    return buffer.getvalue()


def write_radiomics(
    out_dir: Path, settings: RadiomicsSettings, lesions: Sequence[LesionRadiomics] | None
) -> dict[str, Path]:
    """Write ``radiomics.json`` and ``radiomics.csv``; returns them by role.

    Files of an earlier run are removed first, so that with ``lesions=None`` (the study could
    not be read, no lesion search ran) nothing passes for this run's output.
    """
    json_path, csv_path = out_dir / "radiomics.json", out_dir / "radiomics.csv"
    json_path.unlink(missing_ok=True)
    csv_path.unlink(missing_ok=True)
    if lesions is None:
        return {}
    json_path.write_text(radiomics_to_json(settings, lesions), encoding="utf-8")
    csv_path.write_text(radiomics_to_csv(lesions), encoding="utf-8")
    return {"radiomics": json_path, "radiomics_csv": csv_path}


def run_radiomics(
    stages: Stages,
    suv: ImageVolume,
    labels: npt.NDArray[np.uint16],
    settings: RadiomicsSettings,
) -> tuple[LesionRadiomics, ...]:
    """Run the radiomics stage: extract per lesion and add the report note."""
    with stages.stage("radiomics"):
        lesions = lesion_radiomics(suv, labels, settings)
    stages.note(radiomics_note(settings, lesions))
    return lesions
