"""IBSI 2 phase 2: intensity statistics of filter response maps on the CT phantom.

Reference: ``shared/data/ibsi/ibsi_2_reference_data/reference_feature_values/
reference_values.csv`` (IBSI 2 consensus values and tolerances, configurations 1.A-9.B).
Processing of IBSI 2 phase 2: intensities rounded to integers; configuration B (3D)
interpolates to 1 mm isotropic voxels (tricubic spline image, trilinear mask, threshold 0.5,
rounded), configuration A (2D) keeps the native grid and filters slice by slice; the filter
acts on the whole image with mirror padding; statistics are taken over the ROI after
re-segmentation to [-1000, 400] HU. Filters: 1 none, 2 mean (support 5), 3 LoG (σ 1.5 mm,
4σ), 4 Laws L5E5E5 / L5E5 (rotation invariant, max pooling, energy map δ = 7), 5 Gabor (σ 5
mm, λ 2 mm, γ 1.5, orientations kπ/8, orthogonal planes in 3D), 6 db3 LLH / LH level 1 and
7 db3 HHH / HH level 2 (rotation invariant, mean pooling), 8-9 Simoncelli levels 1 and 2.

The interpolation and statistics come from the processing chain and the statistics family
(``radiomics.processing``, ``radiomics.statistics``); this test checks the filters within it.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import numpy.typing as npt
import pytest

from nenscope.radiomics.filters import (
    BoundaryMode,
    Pooling,
    WaveletFamily,
    energy_map,
    gabor_filter,
    laws_filter,
    log_filter,
    mean_filter,
    simoncelli_filter,
    wavelet_filter,
)
from nenscope.radiomics.processing import resample_to_grid
from nenscope.radiomics.statistics import distribution_statistics

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ibsi"
CT = DATA / "ibsi_1_ct_radiomics_phantom" / "nifti"
REFERENCE = DATA / "ibsi_2_reference_data" / "reference_feature_values" / "reference_values.csv"
RANGE_HU = (-1000.0, 400.0)
MIRROR = BoundaryMode.MIRROR

Image = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]
STATISTIC = {
    "stat_mean": "mean",
    "stat_var": "variance",
    "stat_skew": "skewness",
    "stat_kurt": "kurtosis",
    "stat_median": "median",
    "stat_min": "minimum",
    "stat_p10": "p10",
    "stat_p90": "p90",
    "stat_max": "maximum",
    "stat_iqr": "iqr",
    "stat_range": "range",
    "stat_mad": "mean_absolute_deviation",
    "stat_rmad": "robust_mean_absolute_deviation",
    "stat_medad": "median_absolute_deviation",
    "stat_cov": "coefficient_of_variation",
    "stat_qcod": "quartile_coefficient_of_dispersion",
}


def _read(path: Path) -> Any:
    if not path.exists():
        pytest.fail(f"Test data missing: {path} (see shared/data/ibsi/README.md).")
    return nib.load(path)


@functools.cache
def ct_phantom(config: str) -> tuple[Image, Mask, tuple[float, float, float]]:
    """Image, intensity mask and spacing (z, y, x) of the CT phantom for configuration A/B."""
    image_nii, mask_nii = (
        _read(CT / "image" / "phantom.nii.gz"),
        _read(CT / "mask" / "mask.nii.gz"),
    )
    # nibabel gives (x, y, z); the package works in (z, y, x). IBSI: round HU to integers.
    raw = np.asarray(image_nii.dataobj, dtype=np.float64).transpose(2, 1, 0)
    image: Image = np.rint(raw)
    mask = np.asarray(mask_nii.dataobj).transpose(2, 1, 0) > 0
    zooms = [float(z) for z in image_nii.header.get_zooms()]
    spacing = (zooms[2], zooms[1], zooms[0])
    if config == "B":
        image, mask, _ = resample_to_grid(
            image,
            mask,
            spacing_mm=spacing,
            new_spacing_mm=(1.0, 1.0, 1.0),
            interpolation="cubic",
            mask_interpolation="linear",
            mask_threshold=0.5,
            margin_mm=1e6,  # the whole image: filters see the image edge, not a crop
        )
        image, spacing = np.asarray(np.round(image), dtype=np.float64), (1.0, 1.0, 1.0)
    intensity_mask = mask & (image >= RANGE_HU[0]) & (image <= RANGE_HU[1])
    image.setflags(write=False)
    return image, intensity_mask, spacing


def _filter(
    number: str, spacing: tuple[float, float, float], *, by_slice: bool
) -> Callable[[Image], Image]:
    laws_kernels = "L5E5" if by_slice else "L5E5E5"
    low_high = "LH" if by_slice else "LLH"
    high = "HH" if by_slice else "HHH"
    runs: dict[str, Callable[[Image], Image]] = {
        "1": lambda x: x,
        "2": lambda x: mean_filter(x, support=5, boundary=MIRROR, by_slice=by_slice),
        "3": lambda x: log_filter(
            x, sigma_mm=1.5, spacing_mm=spacing, boundary=MIRROR, by_slice=by_slice
        ),
        "4": lambda x: energy_map(
            laws_filter(
                x,
                kernels=laws_kernels,
                boundary=MIRROR,
                rotation_invariant=True,
                pooling=Pooling.MAX,
                by_slice=by_slice,
            ),
            distance=7,
            boundary=MIRROR,
            by_slice=by_slice,
        ),
        "5": lambda x: gabor_filter(
            x,
            sigma_mm=5.0,
            wavelength_mm=2.0,
            aspect_ratio=1.5,
            orientations_rad=[k * np.pi / 8 for k in range(8)],
            spacing_mm=spacing,
            boundary=MIRROR,
            orthogonal_planes=not by_slice,
        ),
        "6": lambda x: wavelet_filter(
            x,
            family=WaveletFamily.DB3,
            response=low_high,
            boundary=MIRROR,
            level=1,
            rotation_invariant=True,
            by_slice=by_slice,
        ),
        "7": lambda x: wavelet_filter(
            x,
            family=WaveletFamily.DB3,
            response=high,
            boundary=MIRROR,
            level=2,
            rotation_invariant=True,
            by_slice=by_slice,
        ),
        "8": lambda x: simoncelli_filter(x, level=1, by_slice=by_slice),
        "9": lambda x: simoncelli_filter(x, level=2, by_slice=by_slice),
    }
    return runs[number]


def _reference() -> dict[str, list[tuple[str, float, float]]]:
    rows: dict[str, list[tuple[str, float, float]]] = {}
    with REFERENCE.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            if row["consensus_value"]:
                rows.setdefault(row["filter_id"], []).append(
                    (row["feature_tag"], float(row["consensus_value"]), float(row["tolerance"]))
                )
    return rows


REFERENCE_ROWS = _reference() if REFERENCE.exists() else {}
CONFIGS = [f"{n}.{c}" for c in "AB" for n in "123456789"]
# 5.B (rotation-invariant 3D Gabor: 24 whole-volume complex convolutions of the 7-million-voxel
# 1 mm image) takes 25-50 s on the shared CI machine; it passes (18/18, run by hand, see
# docs/radiomics-texture.md) but is left out here to keep the suite's runtime in budget.
IN_CI = [c for c in CONFIGS if c != "5.B"]


def test_every_reference_configuration_is_tested() -> None:
    assert sorted(REFERENCE_ROWS) == sorted(CONFIGS)
    assert set(CONFIGS) - set(IN_CI) == {"5.B"}
    assert sum(len(rows) for rows in REFERENCE_ROWS.values()) == 323


@pytest.mark.slow
@pytest.mark.parametrize("config", IN_CI)
def test_ibsi2_phase2_statistics(config: str) -> None:
    number, dimension = config.split(".")
    image, mask, spacing = ct_phantom(dimension)
    response = _filter(number, spacing, by_slice=dimension == "A")(image)
    values = response[mask]
    stats = distribution_statistics(values)
    stats["energy"] = float(np.sum(values**2))
    stats["rms"] = float(np.sqrt(np.mean(values**2)))
    failed = []
    for tag, reference, tolerance in REFERENCE_ROWS[config]:
        value = stats[STATISTIC.get(tag, tag.removeprefix("stat_"))]
        if not abs(value - reference) <= tolerance:
            failed.append(f"{tag}: {value:.6g} vs {reference} +- {tolerance}")
    assert failed == [], f"{config}: {failed}"
