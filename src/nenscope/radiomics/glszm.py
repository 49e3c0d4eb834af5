"""Grey level size zone matrix (GLSZM) features, IBSI 1 section 3.8 (family 9SAK).

A zone is a group of connected ROI voxels of equal grey level: 26-connected in 3D and
8-connected within a slice in 2D (the settings of the IBSI reference values).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from nenscope.core.enums import parse_option
from nenscope.radiomics._texture_common import (
    SIZE_FEATURE_KEYS,
    SUFFIX_PLAIN,
    compact_levels,
    per_zone_features,
)
from nenscope.radiomics._texture_kernels import zone_table
from nenscope.radiomics.settings import Approach

__all__ = ["FEATURES", "compute_glszm_features"]

FEATURES: tuple[tuple[str, str], ...] = (
    ("glszm_small_zone_emphasis", "5QRC"),
    ("glszm_large_zone_emphasis", "48P8"),
    ("glszm_low_grey_level_zone_emphasis", "XMSY"),
    ("glszm_high_grey_level_zone_emphasis", "5GN9"),
    ("glszm_small_zone_low_grey_level_emphasis", "5RAI"),
    ("glszm_small_zone_high_grey_level_emphasis", "HW1V"),
    ("glszm_large_zone_low_grey_level_emphasis", "YH51"),
    ("glszm_large_zone_high_grey_level_emphasis", "J17V"),
    ("glszm_grey_level_non_uniformity", "JNSA"),
    ("glszm_grey_level_non_uniformity_normalised", "Y1RO"),
    ("glszm_zone_size_non_uniformity", "4JP3"),
    ("glszm_zone_size_non_uniformity_normalised", "VB3A"),
    ("glszm_zone_percentage", "P30P"),
    ("glszm_grey_level_variance", "BYLV"),
    ("glszm_zone_size_variance", "3NSA"),
    ("glszm_zone_size_entropy", "GU8N"),
)
"""(name, IBSI id) of every GLSZM feature; keys carry ``_2D``, ``_2.5D`` or ``_3D``."""

# The 16 generic names shared with the other size-zone families (NGLDM adds energy).
_NAMES = tuple(
    (key, code) for key, (_, code) in zip(SIZE_FEATURE_KEYS[:16], FEATURES, strict=True)
)


def compute_glszm_features(
    levels: npt.NDArray[np.int64],
    *,
    n_levels: int,
    spacing_mm: tuple[float, float, float],
    approach: Approach,
) -> dict[str, float]:
    """Compute the 16 GLSZM features for ``approach``.

    Parameters
    ----------
    levels
        Discretised ``(z, y, x)`` crop: 0 outside the ROI, ``1 .. n_levels`` inside.
    n_levels
        Number of grey levels ``N_g`` of the discretisation.
    spacing_mm
        Voxel spacing ``(z, y, x)`` in mm. Unused: zone sizes are counted in voxels.
    approach
        ``2d``: zones per slice, features averaged over slices (``_2D``); ``2.5d``: the
        slice matrices merged (``_2.5D``); ``3d``: 3D zones (``_3D``).

    Returns
    -------
    dict
        ``{IBSI id + suffix: value}``, 16 float values.

    Raises
    ------
    EmptyRegionError
        If the ROI holds no voxel.

    Notes
    -----
    IBSI 1 section 3.8; merged matrices sum ``N_v`` for the zone percentage.

    Examples
    --------
    >>> lv = np.array([[[1, 1, 2], [0, 1, 2]]])
    >>> f = compute_glszm_features(
    ...     lv, n_levels=2, spacing_mm=(1.0, 1.0, 1.0), approach=Approach.D3
    ... )
    >>> f["P30P_3D"]  # two zones (sizes 3 and 2) in five voxels
    0.4
    """
    approach = parse_option(approach, Approach, what="texture approach")
    roi = compact_levels(levels, n_levels=n_levels, family="GLSZM")
    in_plane = approach is not Approach.D3
    no_distance = np.ones(roi.levels.shape, dtype=np.int64)
    zone_level, zone_size, _, zone_slice = zone_table(roi.levels, no_distance, in_plane=in_plane)
    return per_zone_features(
        zone_level,
        zone_size,
        zone_slice,
        grey=roi.grey,
        per_slice_voxels=np.count_nonzero(roi.levels, axis=(1, 2)).astype(np.float64),
        by_slice=approach is Approach.D2,
        names=_NAMES,
        suffix=SUFFIX_PLAIN[approach],
    )
