"""Intensity-based statistical features (IBSI 1 section 3.3), pure NumPy.

The same distribution statistics serve the intensity histogram family (section 3.4), which
evaluates them on discretised grey levels instead of intensities.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from nenscope.core.errors import EmptyRegionError
from nenscope.radiomics.processing import PreparedRoi

__all__ = ["STATISTICS_IDS", "compute_statistics_features", "distribution_statistics"]

STATISTICS_IDS: dict[str, str] = {
    "mean": "Q4LE",
    "variance": "ECT3",
    "skewness": "KE2A",
    "kurtosis": "IPH6",
    "median": "Y12H",
    "minimum": "1GSF",
    "p10": "QG58",
    "p90": "8DWT",
    "maximum": "84IY",
    "iqr": "SALO",
    "range": "2OJQ",
    "mean_absolute_deviation": "4FUA",
    "robust_mean_absolute_deviation": "1128",
    "median_absolute_deviation": "N72L",
    "coefficient_of_variation": "7TET",
    "quartile_coefficient_of_dispersion": "9S40",
    "energy": "N8CA",
    "root_mean_square": "5ZWQ",
}
"""Feature name → IBSI identifier of the intensity-based statistics."""


def _sorted_percentile(x: npt.NDArray[np.float64], q: float) -> float:
    """``np.percentile(x, q)`` (linear method) of an already sorted array."""
    pos = (x.size - 1) * q / 100.0
    lo = int(np.floor(pos))
    hi = min(lo + 1, x.size - 1)
    return float(x[lo] + (x[hi] - x[lo]) * (pos - lo))


def distribution_statistics(values: npt.NDArray[np.float64]) -> dict[str, float]:
    """Statistics of a set of values shared by the statistics and histogram families.

    Parameters
    ----------
    values
        1-D values (intensities or grey levels) of the ROI voxels.

    Returns
    -------
    dict
        Float64 values keyed by the names of :data:`STATISTICS_IDS` (except energy and root
        mean square).

    Raises
    ------
    EmptyRegionError
        If ``values`` is empty.

    Notes
    -----
    Variance, skewness and (excess) kurtosis use central moments with denominator ``N_v``;
    percentiles interpolate linearly between order statistics; skewness and kurtosis of a
    constant ROI are 0 (IBSI 1, 3.3.3 and 3.3.4). The robust mean absolute deviation is taken
    over the values between the 10th and 90th percentile (inclusive).

    Examples
    --------
    >>> s = distribution_statistics(np.array([1.0, 2.0, 3.0, 4.0]))
    >>> s["mean"], s["variance"], s["median"]
    (2.5, 1.25, 2.5)
    """
    x = np.sort(np.asarray(values, dtype=np.float64).ravel())
    if x.size == 0:
        raise EmptyRegionError("Cannot compute statistics of an empty ROI.")
    mean = float(x.mean())
    dev = x - mean
    dev2 = dev * dev
    m2 = float(np.mean(dev2))
    m3 = float(np.mean(dev2 * dev))
    m4 = float(np.mean(dev2 * dev2))
    p10, p25, median, p75, p90 = (_sorted_percentile(x, q) for q in (10, 25, 50, 75, 90))
    robust = x[np.searchsorted(x, p10, "left") : np.searchsorted(x, p90, "right")]
    return {
        "mean": mean,
        "variance": m2,
        "skewness": m3 / m2**1.5 if m2 > 0 else 0.0,
        "kurtosis": m4 / m2**2 - 3.0 if m2 > 0 else 0.0,
        "median": median,
        "minimum": float(x[0]),
        "p10": p10,
        "p90": p90,
        "maximum": float(x[-1]),
        "iqr": p75 - p25,
        "range": float(x[-1] - x[0]),
        "mean_absolute_deviation": float(np.mean(np.abs(dev))),
        # No value lies between P10 and P90 when the ROI has two distinct values only.
        "robust_mean_absolute_deviation": (
            float(np.mean(np.abs(robust - robust.mean()))) if robust.size else float("nan")
        ),
        "median_absolute_deviation": float(np.mean(np.abs(x - median))),
        "coefficient_of_variation": float(np.sqrt(m2) / mean) if mean != 0 else float("nan"),
        "quartile_coefficient_of_dispersion": (
            (p75 - p25) / (p75 + p25) if (p75 + p25) != 0 else float("nan")
        ),
    }


def compute_statistics_features(roi: PreparedRoi) -> dict[str, float]:
    """Intensity-based statistical features of the intensity mask (IBSI 1 section 3.3).

    Parameters
    ----------
    roi
        Processed ROI.

    Returns
    -------
    dict
        ``{IBSI id: value}`` (float64), in image units (variance in units², energy in
        units², the ratios dimensionless).

    Notes
    -----
    Energy (N8CA) is the plain sum of squared intensities (no voxel volume), root mean
    square (5ZWQ) is ``sqrt(energy / N_v)``.
    """
    x = roi.image[roi.int_mask]
    stats = distribution_statistics(x)
    energy = float(np.sum(x * x))
    stats["energy"] = energy
    stats["root_mean_square"] = float(np.sqrt(energy / x.size))
    return {STATISTICS_IDS[name]: value for name, value in stats.items()}
