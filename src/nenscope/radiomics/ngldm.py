"""Neighbouring grey level dependence matrix (NGLDM) features, IBSI 1 section 3.11 (REK0).

Settings of the IBSI reference values: Chebyshev distance δ = 1 (26 neighbours in 3D, 8 in
2D) and coarseness α = 0; neighbours outside the ROI never add to the dependence count.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from nenscope.core.enums import parse_option
from nenscope.core.errors import NotComputableError
from nenscope.radiomics._texture_common import (
    SIZE_FEATURE_KEYS,
    SUFFIX_PLAIN,
    compact_levels,
    named_means,
    size_matrix_features,
)
from nenscope.radiomics._texture_kernels import dependence_counts
from nenscope.radiomics.settings import Approach

__all__ = ["FEATURES", "compute_ngldm_features"]

FEATURES: tuple[tuple[str, str], ...] = (
    ("ngldm_low_dependence_emphasis", "SODN"),
    ("ngldm_high_dependence_emphasis", "IMOQ"),
    ("ngldm_low_grey_level_count_emphasis", "TL9H"),
    ("ngldm_high_grey_level_count_emphasis", "OAE7"),
    ("ngldm_low_dependence_low_grey_level_emphasis", "EQ3F"),
    ("ngldm_low_dependence_high_grey_level_emphasis", "JA6D"),
    ("ngldm_high_dependence_low_grey_level_emphasis", "NBZI"),
    ("ngldm_high_dependence_high_grey_level_emphasis", "9QMG"),
    ("ngldm_grey_level_non_uniformity", "FP8K"),
    ("ngldm_grey_level_non_uniformity_normalised", "5SPA"),
    ("ngldm_dependence_count_non_uniformity", "Z87G"),
    ("ngldm_dependence_count_non_uniformity_normalised", "OKJI"),
    ("ngldm_dependence_count_percentage", "6XV8"),
    ("ngldm_grey_level_variance", "1PFV"),
    ("ngldm_dependence_count_variance", "DNX2"),
    ("ngldm_dependence_count_entropy", "FCBV"),
    ("ngldm_dependence_count_energy", "CAS9"),
)
"""(name, IBSI id) of every NGLDM feature; keys carry ``_2D``, ``_2.5D`` or ``_3D``."""

_NAMES = tuple((key, code) for key, (_, code) in zip(SIZE_FEATURE_KEYS, FEATURES, strict=True))


def compute_ngldm_features(
    levels: npt.NDArray[np.int64],
    *,
    n_levels: int,
    spacing_mm: tuple[float, float, float],
    approach: Approach,
    alpha: int = 0,
) -> dict[str, float]:
    """Compute the 17 NGLDM features for ``approach``.

    Parameters
    ----------
    levels
        Discretised ``(z, y, x)`` crop: 0 outside the ROI, ``1 .. n_levels`` inside.
    n_levels
        Number of grey levels ``N_g`` of the discretisation.
    spacing_mm
        Voxel spacing ``(z, y, x)`` in mm. Unused: the neighbourhood is in voxels.
    approach
        ``2d``: per slice, averaged (``_2D``); ``2.5d``: slice matrices merged (``_2.5D``);
        ``3d``: 3D neighbourhoods (``_3D``).
    alpha
        Coarseness α: neighbours within ``alpha`` grey levels are dependent (IBSI default 0).

    Returns
    -------
    dict
        ``{IBSI id + suffix: value}``, 17 float values.

    Raises
    ------
    EmptyRegionError
        If the ROI holds no voxel.
    NotComputableError
        If ``alpha`` is negative.

    Notes
    -----
    IBSI 1 section 3.11: every ROI voxel has a neighbourhood, so ``N_s = N_v`` and the
    dependence count percentage is 1; merged matrices sum ``N_v``.

    Examples
    --------
    >>> lv = np.array([[[1, 1, 2]]])
    >>> f = compute_ngldm_features(
    ...     lv, n_levels=2, spacing_mm=(1.0, 1.0, 1.0), approach=Approach.D3
    ... )
    >>> round(f["SODN_3D"], 4)  # dependences 2, 2 and 1: (1/4 + 1/4 + 1) / 3
    0.5
    """
    approach = parse_option(approach, Approach, what="texture approach")
    if alpha < 0:
        raise NotComputableError(f"NGLDM coarseness alpha must be >= 0, got {alpha}.")
    roi = compact_levels(levels, n_levels=n_levels, family="NGLDM")
    counts = dependence_counts(
        roi.levels,
        grey=roi.grey,
        alpha=alpha,
        in_plane=approach is not Approach.D3,
        per_slice=approach is not Approach.D3,
    )
    if approach is Approach.D25:
        counts = counts.sum(axis=0, keepdims=True)
    counts = counts[counts.sum(axis=(1, 2)) > 0]
    n_voxels = counts.sum(axis=(1, 2)).astype(np.float64)
    used = np.flatnonzero(counts.sum(axis=(0, 1)))
    dependence = (used + 1).astype(np.float64)
    table = size_matrix_features(
        counts[:, :, used].astype(np.float64), roi.grey, dependence, n_voxels
    )
    return named_means(table, _NAMES, SUFFIX_PLAIN[approach])
