"""Lesion heterogeneity for synthetic studies: cohorts whose "grades" differ in texture.

A separate, optional step after :func:`nenscope.dicom.synthetic.write_phantom_study`: the PET
activity inside each lesion is multiplied by a smooth random field (mean 1 per lesion, so each
lesion keeps its nominal mean uptake, coefficient of variation ``heterogeneity``). Two
heterogeneity levels give two "grades" that texture features (GLCM, GLSZM...) can tell apart
while SUVmean cannot, which is what the end-to-end modelling example needs.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pydicom
from scipy import ndimage

from nenscope.core.errors import OptionError
from nenscope.dicom.nifti import read_nifti
from nenscope.dicom.synthetic import PhantomSettings, PhantomTruth, write_phantom_study

__all__ = ["GradeSpec", "add_lesion_texture", "write_grade_cohort"]

MIN_FACTOR = 0.05
"""Lowest texture factor: activity never becomes negative or zero inside a lesion."""

_INT16_MAX = 32767


def _texture_field(
    shape: tuple[int, ...],
    spacing_mm: npt.NDArray[np.float64],
    correlation_mm: float,
    rng: np.random.Generator,
) -> npt.NDArray[np.float64]:
    noise = rng.standard_normal(shape)
    field = ndimage.gaussian_filter(noise, sigma=correlation_mm / spacing_mm)
    sd = field.std()
    return np.asarray(field / sd if sd > 0 else field, dtype=np.float64)


def add_lesion_texture(
    study_dir: Path,
    truth: PhantomTruth,
    *,
    heterogeneity: float,
    rng: np.random.Generator,
    correlation_mm: float = 6.0,
) -> None:
    """Multiply the PET activity in each lesion by a random field; rewrites the PET files.

    Parameters
    ----------
    study_dir
        Study written by ``write_phantom_study`` (holds ``PET/`` and ``labels_pet.nii.gz``).
    truth
        Its truth (lesion ids → labels).
    heterogeneity
        Coefficient of variation of the factor inside a lesion (0 = unchanged), in [0, 1].
    rng
        Random generator.
    correlation_mm
        Gaussian smoothing of the white noise (standard deviation, mm): the blob size.

    Notes
    -----
    The factor is renormalised to mean 1 inside each lesion, so SUVmean stays at its truth
    (before partial-volume effects); SUVmax rises with heterogeneity. Each PET slice gets a new
    RescaleSlope (0028,1053) so the higher peak values fit its 16-bit pixels.
    """
    if not 0.0 <= heterogeneity <= 1.0:
        raise OptionError(f"heterogeneity must be between 0 and 1, not {heterogeneity}.")
    labels_img = read_nifti(Path(study_dir) / "labels_pet.nii.gz")
    labels = np.rint(labels_img.array).astype(np.int64)
    names = truth.label_names
    lesion_ids = {les.lesion_id for les in truth.lesions}
    spacing = np.linalg.norm(labels_img.affine[:3, :3], axis=0)
    field = _texture_field(labels.shape, spacing, correlation_mm, rng)
    factor = np.ones(labels.shape)
    for label, name in names.items():
        if name not in lesion_ids:
            continue
        inside = labels == label
        if not inside.any():
            continue
        values = np.clip(1.0 + heterogeneity * field[inside], MIN_FACTOR, None)
        factor[inside] = values / values.mean()
    inverse = np.linalg.inv(labels_img.affine)
    for path in sorted((Path(study_dir) / "PET").iterdir()):
        ds = pydicom.dcmread(path)
        position = np.append(np.asarray(ds.ImagePositionPatient, dtype=np.float64), 1.0)
        k = int(np.rint((inverse @ position)[0]))
        slope = float(ds.RescaleSlope)
        intercept = float(getattr(ds, "RescaleIntercept", 0.0))
        values = ds.pixel_array.astype(np.float64) * slope + intercept
        values = values * factor[k]
        new_slope = max(float(np.max(np.abs(values - intercept))) / _INT16_MAX, slope)
        stored = np.rint((values - intercept) / new_slope).astype(np.int16)
        ds.PixelData = stored.tobytes()
        ds.RescaleSlope = f"{new_slope:.10g}"
        ds.save_as(path)


@dataclass(frozen=True, slots=True, kw_only=True)
class GradeSpec:
    """One synthetic "grade": a label and the lesion heterogeneity of its studies."""

    label: str
    heterogeneity: float


def write_grade_cohort(
    out_dir: Path,
    *,
    studies_per_grade: int,
    grades: tuple[GradeSpec, ...] = (
        GradeSpec(label="G1", heterogeneity=0.05),
        GradeSpec(label="G2", heterogeneity=0.45),
    ),
    size: str = "small",
    noise: float = 0.05,
    seed: int = 0,
) -> Path:
    """Write a cohort of synthetic studies and its ``manifest.csv`` (study, patient_id, grade).

    Returns
    -------
    Path
        The manifest.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows = []
    n = 0
    for grade in grades:
        for _ in range(studies_per_grade):
            name = f"study{n:03d}"
            truth = write_phantom_study(
                out_dir / name, PhantomSettings(size=size, seed=seed + n, noise=noise)
            )
            add_lesion_texture(out_dir / name, truth, heterogeneity=grade.heterogeneity, rng=rng)
            rows.append((name, f"P{n:03d}", grade.label))
            n += 1
    manifest = out_dir / "manifest.csv"
    with manifest.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["study", "patient_id", "grade"])
        writer.writerows(rows)
    return manifest
