"""Intensity histogram features (IBSI 1 section 3.4): statistics of the discretised levels."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from nenscope.radiomics.processing import PreparedRoi
from nenscope.radiomics.statistics import distribution_statistics

__all__ = ["HISTOGRAM_IDS", "compute_histogram_features", "histogram_features"]

HISTOGRAM_IDS: dict[str, str] = {
    "mean": "X6K6",
    "variance": "CH89",
    "skewness": "88K1",
    "kurtosis": "C3I7",
    "median": "WIFQ",
    "minimum": "1PR8",
    "p10": "GPMT",
    "p90": "OZ0C",
    "maximum": "3NCY",
    "mode": "AMMC",
    "iqr": "WR0O",
    "range": "5Z3W",
    "mean_absolute_deviation": "D2ZX",
    "robust_mean_absolute_deviation": "WRZB",
    "median_absolute_deviation": "4RNL",
    "coefficient_of_variation": "CWYJ",
    "quartile_coefficient_of_dispersion": "SLWD",
    "entropy": "TLU2",
    "uniformity": "BJ5W",
    "maximum_histogram_gradient": "12CE",
    "maximum_histogram_gradient_grey_level": "8E6O",
    "minimum_histogram_gradient": "VQB3",
    "minimum_histogram_gradient_grey_level": "RHQZ",
}
"""Feature name → IBSI identifier (with the manual's corrected GPMT / OZ0C codes)."""


def histogram_features(levels: npt.NDArray[np.int64], *, n_levels: int) -> dict[str, float]:
    """Intensity histogram features of a set of grey levels.

    Parameters
    ----------
    levels
        1-D grey levels ``1..n_levels`` of the ROI voxels.
    n_levels
        Number of grey levels ``N_g``.

    Returns
    -------
    dict
        Float64 values keyed by the names of :data:`HISTOGRAM_IDS`.

    Notes
    -----
    The histogram ``H`` has one bin per level ``1..N_g``. Entropy uses log2. The gradient is
    ``H[1]-H[0]`` at the first bin, ``H[N_g]-H[N_g-1]`` at the last and the central
    difference elsewhere (IBSI 1, 3.4.20). The mode is the most frequent level; ties are
    broken towards the level closest to the mean, then the lowest.

    Examples
    --------
    >>> f = histogram_features(np.array([1, 1, 2, 4]), n_levels=4)
    >>> f["mode"], f["entropy"]
    (1.0, 1.5)
    """
    lv = np.asarray(levels, dtype=np.int64).ravel()
    out = distribution_statistics(lv.astype(np.float64))
    counts = np.bincount(lv, minlength=n_levels + 1)[1 : n_levels + 1].astype(np.float64)
    p = counts / counts.sum()
    grey = np.arange(1, n_levels + 1, dtype=np.float64)
    top = grey[counts == counts.max()]
    out["mode"] = float(top[np.argmin(np.abs(top - out["mean"]))])
    nz = p[p > 0]
    out["entropy"] = float(-np.sum(nz * np.log2(nz)))
    out["uniformity"] = float(np.sum(p * p))
    grad = np.gradient(counts) if n_levels > 1 else np.zeros(1, dtype=np.float64)
    out["maximum_histogram_gradient"] = float(grad.max())
    out["maximum_histogram_gradient_grey_level"] = float(grey[int(np.argmax(grad))])
    out["minimum_histogram_gradient"] = float(grad.min())
    out["minimum_histogram_gradient_grey_level"] = float(grey[int(np.argmin(grad))])
    return out


def compute_histogram_features(roi: PreparedRoi) -> dict[str, float]:
    """Intensity histogram features of the discretised intensity mask (IBSI 1 section 3.4).

    Returns
    -------
    dict
        ``{IBSI id: value}`` (float64) in grey levels.
    """
    feats = histogram_features(roi.levels[roi.int_mask], n_levels=roi.n_levels)
    return {HISTOGRAM_IDS[name]: value for name, value in feats.items()}
