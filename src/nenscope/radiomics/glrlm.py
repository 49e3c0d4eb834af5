"""Grey level run length matrix (GLRLM) features, IBSI 1 section 3.7 (family TP0I).

Settings of the IBSI reference values: runs along the 13 directions in 3D and the 4 in-plane
directions in 2D; a run stops at the ROI border.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from nenscope.core.enums import parse_option
from nenscope.radiomics._texture_common import (
    SIZE_FEATURE_KEYS,
    SUFFIX_DIRECTIONAL,
    compact_levels,
    named_means,
    size_matrix_features,
)
from nenscope.radiomics._texture_kernels import DIRECTIONS_2D, DIRECTIONS_3D, run_length_counts
from nenscope.radiomics.settings import Approach

__all__ = ["FEATURES", "compute_glrlm_features"]

FEATURES: tuple[tuple[str, str], ...] = (
    ("glrlm_short_runs_emphasis", "22OV"),
    ("glrlm_long_runs_emphasis", "W4KF"),
    ("glrlm_low_grey_level_run_emphasis", "V3SW"),
    ("glrlm_high_grey_level_run_emphasis", "G3QZ"),
    ("glrlm_short_run_low_grey_level_emphasis", "HTZT"),
    ("glrlm_short_run_high_grey_level_emphasis", "GD3A"),
    ("glrlm_long_run_low_grey_level_emphasis", "IVPO"),
    ("glrlm_long_run_high_grey_level_emphasis", "3KUM"),
    ("glrlm_grey_level_non_uniformity", "R5YN"),
    ("glrlm_grey_level_non_uniformity_normalised", "OVBL"),
    ("glrlm_run_length_non_uniformity", "W92Y"),
    ("glrlm_run_length_non_uniformity_normalised", "IC23"),
    ("glrlm_run_percentage", "9ZK5"),
    ("glrlm_grey_level_variance", "8CE5"),
    ("glrlm_run_length_variance", "SXLW"),
    ("glrlm_run_entropy", "HJ9O"),
)
"""(name, IBSI id) of every GLRLM feature; keys carry the aggregation suffix of DESIGN.md."""

# The 16 generic names shared with the other size-zone families (NGLDM adds energy).
_NAMES = tuple(
    (key, code) for key, (_, code) in zip(SIZE_FEATURE_KEYS[:16], FEATURES, strict=True)
)


def compute_glrlm_features(
    levels: npt.NDArray[np.int64],
    *,
    n_levels: int,
    spacing_mm: tuple[float, float, float],
    approach: Approach,
) -> dict[str, float]:
    """Compute the 16 GLRLM features with both aggregation methods of ``approach``.

    Parameters
    ----------
    levels
        Discretised ``(z, y, x)`` crop: 0 outside the ROI, ``1 .. n_levels`` inside.
    n_levels
        Number of grey levels ``N_g`` of the discretisation.
    spacing_mm
        Voxel spacing ``(z, y, x)`` in mm. Unused: runs are counted in voxels.
    approach
        ``2d`` returns ``_2D_avg`` and ``_2D_smrg`` keys, ``2.5d`` ``_2.5D_dmrg`` and
        ``_2.5D_mrg``, ``3d`` ``_3D_avg`` and ``_3D_mrg``.

    Returns
    -------
    dict
        ``{IBSI id + suffix: value}``, 32 float values.

    Raises
    ------
    EmptyRegionError
        If the ROI holds no voxel.

    Notes
    -----
    Aggregation as for the GLCM (IBSI 1, 3.7). When matrices are merged, the number of voxels
    ``N_v`` of the run percentage is summed as well, so a matrix merged over the 13 directions
    has ``N_v`` = 13 × the ROI voxel count.

    Examples
    --------
    >>> lv = np.array([[[1, 1, 2, 2]]])
    >>> f = compute_glrlm_features(
    ...     lv, n_levels=2, spacing_mm=(1.0, 1.0, 1.0), approach=Approach.D2
    ... )
    >>> f["9ZK5_2D_smrg"]  # 2 runs along x + 4 along each other direction, over 4 × 4 voxels
    0.875
    """
    approach = parse_option(approach, Approach, what="texture approach")
    roi = compact_levels(levels, n_levels=n_levels, family="GLRLM")
    n_present = roi.grey.size
    per_slice_voxels = np.count_nonzero(roi.levels, axis=(1, 2)).astype(np.float64)
    n_total = float(per_slice_voxels.sum())
    if approach is Approach.D3:
        per = np.stack(
            [
                run_length_counts(roi.levels, d, n_levels=n_present, per_slice=False)[0]
                for d in DIRECTIONS_3D
            ]
        )
        n_dir = len(DIRECTIONS_3D)
        stacks = (
            (per, np.full(n_dir, n_total)),
            (per.sum(axis=0, keepdims=True), np.array([n_dir * n_total])),
        )
    else:
        per4 = np.stack(
            [
                run_length_counts(roi.levels, d, n_levels=n_present, per_slice=True)
                for d in DIRECTIONS_2D
            ]
        )
        n_dir = len(DIRECTIONS_2D)
        if approach is Approach.D2:
            stacks = (
                (per4.reshape(-1, *per4.shape[2:]), np.tile(per_slice_voxels, n_dir)),
                (per4.sum(axis=0), n_dir * per_slice_voxels),
            )
        else:
            stacks = (
                (per4.sum(axis=1), np.full(n_dir, n_total)),
                (per4.sum(axis=(0, 1))[None], np.array([n_dir * n_total])),
            )
    out: dict[str, float] = {}
    for (counts, n_voxels), suffix in zip(stacks, SUFFIX_DIRECTIONAL[approach], strict=True):
        out.update(_features(counts, n_voxels, roi.grey, suffix))
    return out


def _features(
    counts: npt.NDArray[np.int64],
    n_voxels: npt.NDArray[np.float64],
    grey: npt.NDArray[np.float64],
    suffix: str,
) -> dict[str, float]:
    """Features of the non-empty matrices of a ``(K, G, R)`` stack, averaged."""
    keep = counts.sum(axis=(1, 2)) > 0
    counts, n_voxels = counts[keep], n_voxels[keep]
    used = np.flatnonzero(counts.sum(axis=(0, 1)))
    lengths = (used + 1).astype(np.float64)
    table = size_matrix_features(counts[:, :, used].astype(np.float64), grey, lengths, n_voxels)
    return named_means(table, _NAMES, suffix)
