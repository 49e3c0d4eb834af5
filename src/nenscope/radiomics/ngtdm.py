"""Neighbourhood grey tone difference matrix (NGTDM) features, IBSI 1 section 3.10 (IPET).

Settings of the IBSI reference values: Chebyshev distance δ = 1 (26 neighbours in 3D, 8 in
2D); only ROI voxels count as neighbours, and a voxel without any ROI neighbour is left out.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from nenscope.core.enums import parse_option
from nenscope.core.errors import NotComputableError
from nenscope.radiomics._texture_common import SUFFIX_PLAIN, compact_levels, mean_over_matrices
from nenscope.radiomics._texture_kernels import grey_tone_differences
from nenscope.radiomics.settings import Approach

__all__ = ["COARSENESS_MAX", "FEATURES", "compute_ngtdm_features", "ngtdm_feature_table"]

FloatArray = npt.NDArray[np.float64]

COARSENESS_MAX = 1.0e6
"""Coarseness when ``sum_i p_i s_i`` is below ``1 / COARSENESS_MAX`` (IBSI 1, QCDE)."""

FEATURES: tuple[tuple[str, str], ...] = (
    ("ngtdm_coarseness", "QCDE"),
    ("ngtdm_contrast", "65HE"),
    ("ngtdm_busyness", "NQ30"),
    ("ngtdm_complexity", "HDEZ"),
    ("ngtdm_strength", "1X9X"),
)
"""(name, IBSI id) of every NGTDM feature; keys carry ``_2D``, ``_2.5D`` or ``_3D``."""


def compute_ngtdm_features(
    levels: npt.NDArray[np.int64],
    *,
    n_levels: int,
    spacing_mm: tuple[float, float, float],
    approach: Approach,
) -> dict[str, float]:
    """Compute the 5 NGTDM features for ``approach``.

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

    Returns
    -------
    dict
        ``{IBSI id + suffix: value}``, 5 float values.

    Raises
    ------
    EmptyRegionError
        If the ROI holds no voxel.
    NotComputableError
        If no ROI voxel has a neighbour in the ROI.

    Examples
    --------
    >>> lv = np.array([[[1, 2]]])
    >>> f = compute_ngtdm_features(
    ...     lv, n_levels=2, spacing_mm=(1.0, 1.0, 1.0), approach=Approach.D3
    ... )
    >>> f["QCDE_3D"]  # s = (1, 1), p = (0.5, 0.5)
    1.0
    """
    approach = parse_option(approach, Approach, what="texture approach")
    roi = compact_levels(levels, n_levels=n_levels, family="NGTDM")
    s, n = grey_tone_differences(
        roi.levels,
        grey=roi.grey,
        in_plane=approach is not Approach.D3,
        per_slice=approach is not Approach.D3,
    )
    if approach is Approach.D25:
        s, n = s.sum(axis=0, keepdims=True), n.sum(axis=0, keepdims=True)
    keep = n.sum(axis=1) > 0
    if not np.any(keep):
        raise NotComputableError(
            "Cannot compute NGTDM features: no ROI voxel has a neighbour inside the ROI."
        )
    table = ngtdm_feature_table(s[keep], n[keep].astype(np.float64), roi.grey)
    suffix = SUFFIX_PLAIN[approach]
    return {
        f"{code}{suffix}": mean_over_matrices(values)
        for (_, code), values in zip(FEATURES, table, strict=True)
    }


def ngtdm_feature_table(s: FloatArray, n: FloatArray, grey: FloatArray) -> list[FloatArray]:
    """Compute the 5 NGTDM features (order of :data:`FEATURES`) of a stack of matrices.

    Parameters
    ----------
    s
        ``(K, G)`` grey tone difference sums ``s_i``.
    n
        ``(K, G)`` counts ``n_i`` of voxels with a valid neighbourhood (no row all zero).
    grey
        ``(G,)`` grey levels.

    Returns
    -------
    list of numpy.ndarray
        5 float64 arrays of shape ``(K,)``.

    Notes
    -----
    IBSI 1 section 3.10 with ``p_i = n_i / N_vc`` and sums over pairs of grey levels that
    occur (``p > 0``). Busyness and contrast are 0 with a single grey level (and busyness
    when its denominator vanishes), strength is 0 when ``sum s_i = 0``.
    """
    n_vc = n.sum(axis=1)
    p = n / n_vc[:, None]
    present = p > 0.0
    n_gp = present.sum(axis=1).astype(np.float64)
    pair = present[:, :, None] & present[:, None, :]
    gd = grey[:, None] - grey[None, :]
    ps = np.sum(p * s, axis=1)
    s_total = s.sum(axis=1)
    p1, p2 = p[:, :, None], p[:, None, :]
    s1, s2 = s[:, :, None], s[:, None, :]
    coarseness = np.where(ps < 1.0 / COARSENESS_MAX, COARSENESS_MAX, 1.0 / np.maximum(ps, 1e-300))
    contrast_pairs = np.sum(p1 * p2 * gd**2, axis=(1, 2))
    multi = n_gp > 1.0
    contrast = np.where(
        multi, contrast_pairs / np.where(multi, n_gp * (n_gp - 1.0), 1.0) * s_total / n_vc, 0.0
    )
    gp = grey[None, :] * p
    busy_den = np.sum(np.where(pair, np.abs(gp[:, :, None] - gp[:, None, :]), 0.0), axis=(1, 2))
    busy_ok = multi & (busy_den > 0.0)
    busyness = np.where(busy_ok, ps / np.where(busy_ok, busy_den, 1.0), 0.0)
    denom = np.where(pair, p1 + p2, 1.0)
    complexity = (
        np.sum(np.where(pair, np.abs(gd) * (p1 * s1 + p2 * s2) / denom, 0.0), axis=(1, 2)) / n_vc
    )
    strength_num = np.sum(np.where(pair, (p1 + p2) * gd**2, 0.0), axis=(1, 2))
    strength = np.where(s_total > 0.0, strength_num / np.where(s_total > 0.0, s_total, 1.0), 0.0)
    return [coarseness, contrast, busyness, complexity, strength]
