"""Shared helpers of the texture families: input checks, grey-level compaction, aggregation.

The GLRLM, GLSZM, GLDZM and NGLDM share one set of feature formulas on a grey level × "size"
matrix (run length, zone size, zone distance, dependence count); :func:`size_matrix_features`
computes them for a stack of matrices at once, so that 2D per-slice averaging costs one
vectorised pass instead of one Python call per slice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from nenscope.core.errors import EmptyRegionError, NotComputableError
from nenscope.radiomics.settings import Approach

__all__ = [
    "SIZE_FEATURE_KEYS",
    "SUFFIX_DIRECTIONAL",
    "SUFFIX_PLAIN",
    "CompactLevels",
    "compact_levels",
    "mean_over_matrices",
    "named_means",
    "per_zone_features",
    "size_matrix_features",
    "xlogx",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SUFFIX_DIRECTIONAL: Mapping[Approach, tuple[str, str]] = {
    Approach.D2: ("_2D_avg", "_2D_smrg"),
    Approach.D25: ("_2.5D_dmrg", "_2.5D_mrg"),
    Approach.D3: ("_3D_avg", "_3D_mrg"),
}
"""Key suffixes of GLCM/GLRLM (DESIGN.md): (averaged, merged) variant per approach."""

SUFFIX_PLAIN: Mapping[Approach, str] = {
    Approach.D2: "_2D",
    Approach.D25: "_2.5D",
    Approach.D3: "_3D",
}
"""Key suffix of GLSZM/GLDZM/NGTDM/NGLDM per approach."""

SIZE_FEATURE_KEYS: tuple[str, ...] = (
    "small_emphasis",
    "large_emphasis",
    "low_grey_emphasis",
    "high_grey_emphasis",
    "small_low_grey_emphasis",
    "small_high_grey_emphasis",
    "large_low_grey_emphasis",
    "large_high_grey_emphasis",
    "grey_non_uniformity",
    "grey_non_uniformity_norm",
    "size_non_uniformity",
    "size_non_uniformity_norm",
    "percentage",
    "grey_variance",
    "size_variance",
    "entropy",
    "energy",
)
"""Generic names of the features shared by GLRLM, GLSZM, GLDZM and NGLDM, in IBSI order
(``energy`` is used by the NGLDM only)."""


@dataclass(frozen=True, slots=True)
class CompactLevels:
    """A ROI whose grey levels were renumbered ``1 .. n_present``.

    Attributes
    ----------
    levels
        ``(z, y, x)`` int64 array, 0 outside the ROI, ``1 .. len(grey)`` inside.
    grey
        float64 original grey level of each compact level (``grey[k]`` for level ``k + 1``).
    n_levels
        The number of grey levels ``N_g`` of the discretisation (present or not).
    """

    levels: IntArray
    grey: FloatArray
    n_levels: int


def compact_levels(levels: npt.ArrayLike, *, n_levels: int, family: str) -> CompactLevels:
    """Validate a discretised ROI and renumber its grey levels to those present.

    Matrices then only have rows for grey levels that occur; every IBSI formula weights by the
    grey level itself, which ``grey`` keeps, and ``n_levels`` keeps ``N_g`` where a formula
    needs it.

    Raises
    ------
    NotComputableError
        If ``levels`` is not 3-D or holds values outside ``0 .. n_levels``.
    EmptyRegionError
        If no voxel is inside the ROI.

    Examples
    --------
    >>> c = compact_levels(np.array([[[0, 2, 6]]]), n_levels=6, family="GLCM")
    >>> c.levels.tolist(), c.grey.tolist()
    ([[[0, 1, 2]]], [2.0, 6.0])
    """
    array = np.asarray(levels)
    if array.ndim != 3 or not np.issubdtype(array.dtype, np.integer):
        raise NotComputableError(
            f"{family} needs a 3-D (z, y, x) integer array of grey levels, "
            f"got shape {array.shape} and dtype {array.dtype}."
        )
    if n_levels < 1:
        raise NotComputableError(f"{family} needs n_levels >= 1, got {n_levels}.")
    if array.size == 0 or not np.any(array > 0):
        raise EmptyRegionError(f"Cannot compute {family} features: the ROI holds no voxel.")
    low, high = int(array.min()), int(array.max())
    if low < 0 or high > n_levels:
        raise NotComputableError(
            f"{family} grey levels must lie in 0 (outside the ROI) .. n_levels={n_levels}, "
            f"found {low} .. {high}. Discretise the ROI first."
        )
    present = np.flatnonzero(np.bincount(array.ravel(), minlength=n_levels + 1)[1:]) + 1
    lookup = np.zeros(n_levels + 1, dtype=np.int64)
    lookup[present] = np.arange(1, present.size + 1)
    return CompactLevels(
        levels=np.ascontiguousarray(lookup[array]),
        grey=present.astype(np.float64),
        n_levels=n_levels,
    )


def xlogx(p: FloatArray) -> FloatArray:
    """``p * log2(p)`` with ``0 log 0 = 0``.

    Examples
    --------
    >>> xlogx(np.array([0.0, 0.5, 1.0])).tolist()
    [0.0, -0.5, 0.0]
    """
    safe = np.where(p > 0.0, p, 1.0)
    return np.where(p > 0.0, p * np.log2(safe), 0.0)


def mean_over_matrices(values: FloatArray, *, fallback: float = np.nan) -> float:
    """Average a feature over matrices, skipping matrices where it is undefined (NaN).

    Empty matrices (e.g. a slice whose voxels have no neighbour in a direction) are removed
    before features are computed; a feature that is undefined on one matrix (the inverse
    variance of a diagonal matrix) is left out of the average, as MIRP does. ``fallback`` is
    returned when it is undefined on all of them.

    Examples
    --------
    >>> mean_over_matrices(np.array([1.0, np.nan, 3.0]))
    2.0
    >>> mean_over_matrices(np.array([np.nan]), fallback=0.0)
    0.0
    """
    finite = values[~np.isnan(values)]
    if finite.size == 0:
        return float(fallback)
    return float(np.mean(finite))


def size_matrix_features(
    counts: FloatArray,
    grey: FloatArray,
    sizes: FloatArray,
    n_voxels: FloatArray,
) -> dict[str, FloatArray]:
    """Compute the GLRLM/GLSZM/GLDZM/NGLDM features of a stack of matrices.

    Parameters
    ----------
    counts
        ``(K, G, J)`` float64 counts; ``[k, g, j]`` counts runs/zones/neighbourhoods of grey
        level ``grey[g]`` and size/distance/dependence ``sizes[j]`` in matrix ``k``. No
        matrix may be empty.
    grey
        ``(G,)`` grey level of each row.
    sizes
        ``(J,)`` run length / zone size / distance / dependence of each column.
    n_voxels
        ``(K,)`` number of voxels ``N_v`` behind each matrix (summed when matrices are merged).

    Returns
    -------
    dict
        ``(K,)`` float64 arrays under the names of :data:`SIZE_FEATURE_KEYS`.

    Notes
    -----
    IBSI 1 sections 3.7-3.9 and 3.11; e.g. short runs emphasis (22OV)
    ``sum_j r_.j / j^2 / N_s``, grey level variance (8CE5)
    ``sum_ij (i - mu)^2 p_ij`` with ``p_ij = r_ij / N_s``.
    """
    n_s = counts.sum(axis=(1, 2))
    p = counts / n_s[:, None, None]
    p_i = p.sum(axis=2)
    p_j = p.sum(axis=1)
    i2 = grey**2
    j2 = sizes**2
    inv_i2 = 1.0 / i2
    inv_j2 = 1.0 / j2
    mu_i = p_i @ grey
    mu_j = p_j @ sizes
    return {
        "small_emphasis": p_j @ inv_j2,
        "large_emphasis": p_j @ j2,
        "low_grey_emphasis": p_i @ inv_i2,
        "high_grey_emphasis": p_i @ i2,
        "small_low_grey_emphasis": np.einsum("kij,i,j->k", p, inv_i2, inv_j2),
        "small_high_grey_emphasis": np.einsum("kij,i,j->k", p, i2, inv_j2),
        "large_low_grey_emphasis": np.einsum("kij,i,j->k", p, inv_i2, j2),
        "large_high_grey_emphasis": np.einsum("kij,i,j->k", p, i2, j2),
        "grey_non_uniformity": (p_i**2).sum(axis=1) * n_s,
        "grey_non_uniformity_norm": (p_i**2).sum(axis=1),
        "size_non_uniformity": (p_j**2).sum(axis=1) * n_s,
        "size_non_uniformity_norm": (p_j**2).sum(axis=1),
        "percentage": n_s / n_voxels,
        "grey_variance": _central(p_i, grey, mu_i),
        "size_variance": _central(p_j, sizes, mu_j),
        "entropy": -xlogx(p).sum(axis=(1, 2)),
        "energy": (p**2).sum(axis=(1, 2)),
    }


def _central(marginal: FloatArray, values: FloatArray, mean: FloatArray) -> FloatArray:
    """Second central moment per matrix: ``sum_v (v - mean)^2 marginal(v)``."""
    moment: FloatArray = np.sum((values[None, :] - mean[:, None]) ** 2 * marginal, axis=1)
    return moment


def named_means(
    table: Mapping[str, FloatArray],
    names: Sequence[tuple[str, str]],
    suffix: str,
) -> dict[str, float]:
    """Average each generic feature over the matrices and key it by IBSI id + suffix.

    ``names`` pairs each generic feature name with the family's IBSI id.
    """
    return {f"{code}{suffix}": mean_over_matrices(table[key]) for key, code in names}


def per_zone_features(
    zone_level: IntArray,
    zone_value: IntArray,
    zone_slice: IntArray,
    *,
    grey: FloatArray,
    per_slice_voxels: FloatArray,
    by_slice: bool,
    names: Sequence[tuple[str, str]],
    suffix: str,
) -> dict[str, float]:
    """Features of a grey level × zone-value matrix built from a table of zones.

    Parameters
    ----------
    zone_level, zone_value, zone_slice
        Per zone: compact grey level (1-based), size or distance, slice index.
    grey
        Grey level of each compact level.
    per_slice_voxels
        ROI voxel count of each slice.
    by_slice
        One matrix per slice with features averaged over slices (2D), or one matrix for all
        zones (2.5D merged slices, or 3D zones), with ``N_v`` summed.
    names, suffix
        Generic feature name → IBSI id pairs, and the key suffix.
    """
    values, column = np.unique(zone_value, return_inverse=True)
    n_grey = grey.size
    if by_slice:
        slices, row = np.unique(zone_slice, return_inverse=True)
        n_voxels = per_slice_voxels[slices]
    else:
        row = np.zeros(zone_level.size, dtype=np.int64)
        n_voxels = np.array([per_slice_voxels.sum()])
    counts = np.zeros((n_voxels.size, n_grey, values.size), dtype=np.float64)
    np.add.at(counts, (row, zone_level - 1, column), 1.0)
    table = size_matrix_features(counts, grey, values.astype(np.float64), n_voxels)
    return named_means(table, names, suffix)
