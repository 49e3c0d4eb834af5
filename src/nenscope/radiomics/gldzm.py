"""Grey level distance zone matrix (GLDZM) features, IBSI 1 section 3.9 (family VMDZ).

Zones are those of the GLSZM (26-connected in 3D, 8-connected within a slice in 2D). The
distance of a voxel to the ROI edge is the number of face-connected steps (6-connectivity in
3D, 4-connectivity within a slice in 2D, i.e. the Manhattan norm) to the nearest voxel outside
the morphological ROI mask, so that voxels on the edge have distance 1; the edge of the array
counts as outside. A zone's distance is the minimum over its voxels.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from nenscope.core.enums import parse_option
from nenscope.core.errors import GeometryError
from nenscope.radiomics._ndimage_np import city_block_distance
from nenscope.radiomics._texture_common import (
    SIZE_FEATURE_KEYS,
    SUFFIX_PLAIN,
    compact_levels,
    per_zone_features,
)
from nenscope.radiomics._texture_kernels import zone_table
from nenscope.radiomics.settings import Approach

__all__ = ["FEATURES", "border_distance", "compute_gldzm_features"]

FEATURES: tuple[tuple[str, str], ...] = (
    ("gldzm_small_distance_emphasis", "0GBI"),
    ("gldzm_large_distance_emphasis", "MB4I"),
    ("gldzm_low_grey_level_zone_emphasis", "S1RA"),
    ("gldzm_high_grey_level_zone_emphasis", "K26C"),
    ("gldzm_small_distance_low_grey_level_emphasis", "RUVG"),
    ("gldzm_small_distance_high_grey_level_emphasis", "DKNJ"),
    ("gldzm_large_distance_low_grey_level_emphasis", "A7WM"),
    ("gldzm_large_distance_high_grey_level_emphasis", "KLTH"),
    ("gldzm_grey_level_non_uniformity", "VFT7"),
    ("gldzm_grey_level_non_uniformity_normalised", "7HP3"),
    ("gldzm_zone_distance_non_uniformity", "V294"),
    ("gldzm_zone_distance_non_uniformity_normalised", "IATH"),
    ("gldzm_zone_percentage", "VIWW"),
    ("gldzm_grey_level_variance", "QK93"),
    ("gldzm_zone_distance_variance", "7WT1"),
    ("gldzm_zone_distance_entropy", "GBDU"),
)
"""(name, IBSI id) of every GLDZM feature; keys carry ``_2D``, ``_2.5D`` or ``_3D``."""

# The 16 generic names shared with the other size-zone families (NGLDM adds energy).
_NAMES = tuple(
    (key, code) for key, (_, code) in zip(SIZE_FEATURE_KEYS[:16], FEATURES, strict=True)
)


def border_distance(mask: npt.NDArray[np.bool_], *, in_plane: bool) -> npt.NDArray[np.int64]:
    """Face-connected distance of each ROI voxel to the ROI edge (1 on the edge, 0 outside).

    Parameters
    ----------
    mask
        ``(z, y, x)`` morphological ROI mask.
    in_plane
        Measure within each slice (4-connectivity, 2D) instead of in 3D (6-connectivity).

    Returns
    -------
    numpy.ndarray
        int64 ``(z, y, x)`` distances.

    Notes
    -----
    IBSI 1 section 3.9 defines the distance by repeated erosion with the 6- (4-) connected
    structure element; the number of erosions that remove a voxel equals its Manhattan
    distance to the nearest voxel outside the mask, which the chamfer transform computes
    exactly.

    Examples
    --------
    >>> m = np.ones((1, 3, 5), dtype=bool)
    >>> border_distance(m, in_plane=True)[0].tolist()
    [[1, 1, 1, 1, 1], [1, 2, 2, 2, 1], [1, 1, 1, 1, 1]]
    >>> int(border_distance(np.ones((3, 3, 3), dtype=bool), in_plane=False)[1, 1, 1])
    2
    """
    padded = np.pad(np.asarray(mask, dtype=bool), 1, constant_values=False)
    distance = city_block_distance(padded, in_plane=in_plane)
    return np.asarray(distance[1:-1, 1:-1, 1:-1], dtype=np.int64)


def compute_gldzm_features(
    levels: npt.NDArray[np.int64],
    *,
    n_levels: int,
    spacing_mm: tuple[float, float, float],
    approach: Approach,
    morphological_mask: npt.NDArray[np.bool_] | None = None,
) -> dict[str, float]:
    """Compute the 16 GLDZM features for ``approach``.

    Parameters
    ----------
    levels
        Discretised ``(z, y, x)`` crop: 0 outside the (intensity) ROI, ``1 .. n_levels``
        inside.
    n_levels
        Number of grey levels ``N_g`` of the discretisation.
    spacing_mm
        Voxel spacing ``(z, y, x)`` in mm. Unused: distances are counted in voxels.
    approach
        ``2d``: per slice, averaged (``_2D``); ``2.5d``: slice matrices merged (``_2.5D``);
        ``3d``: 3D zones and distances (``_3D``).
    morphological_mask
        ``(z, y, x)`` morphological ROI mask from which distances are measured (IBSI: the
        mask before re-segmentation); defaults to ``levels > 0``.

    Returns
    -------
    dict
        ``{IBSI id + suffix: value}``, 16 float values.

    Raises
    ------
    EmptyRegionError
        If the ROI holds no voxel.
    GeometryError
        If ``morphological_mask`` does not have the shape of ``levels`` or does not cover
        every ROI voxel.

    Examples
    --------
    >>> lv = np.ones((1, 3, 3), dtype=np.int64)
    >>> lv[0, 1, 1] = 2
    >>> f = compute_gldzm_features(
    ...     lv, n_levels=2, spacing_mm=(1.0, 1.0, 1.0), approach=Approach.D2
    ... )
    >>> f["MB4I_2D"]  # the ring has distance 1, the centre voxel distance 2
    2.5
    """
    approach = parse_option(approach, Approach, what="texture approach")
    roi = compact_levels(levels, n_levels=n_levels, family="GLDZM")
    if morphological_mask is None:
        morph = roi.levels > 0
    else:
        morph = np.asarray(morphological_mask, dtype=bool)
        if morph.shape != roi.levels.shape:
            raise GeometryError(
                f"GLDZM morphological mask has shape {morph.shape}, but the grey levels have "
                f"shape {roi.levels.shape}; pass both on the same crop."
            )
    in_plane = approach is not Approach.D3
    distance = border_distance(morph, in_plane=in_plane)
    if np.any(distance[roi.levels > 0] == 0):
        raise GeometryError(
            "GLDZM needs every ROI voxel inside the morphological mask: some voxels with a grey "
            "level lie outside it. Pass the mask before re-segmentation."
        )
    zone_level, _, zone_dist, zone_slice = zone_table(roi.levels, distance, in_plane=in_plane)
    return per_zone_features(
        zone_level,
        zone_dist,
        zone_slice,
        grey=roi.grey,
        per_slice_voxels=np.count_nonzero(roi.levels, axis=(1, 2)).astype(np.float64),
        by_slice=approach is Approach.D2,
        names=_NAMES,
        suffix=SUFFIX_PLAIN[approach],
    )
