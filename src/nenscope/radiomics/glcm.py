"""Grey level co-occurrence matrix (GLCM) features, IBSI 1 section 3.6 (family LFYI).

Settings of the IBSI reference values: symmetric matrices, Chebyshev distance δ = 1, 13
directions in 3D and 4 in-plane directions in 2D; voxels outside the ROI never pair.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from nenscope.core.enums import parse_option
from nenscope.core.errors import NotComputableError
from nenscope.radiomics._texture_common import (
    SUFFIX_DIRECTIONAL,
    compact_levels,
    mean_over_matrices,
    xlogx,
)
from nenscope.radiomics._texture_kernels import (
    DIRECTIONS_2D,
    DIRECTIONS_3D,
    cooccurrence_counts,
    cooccurring_pairs,
)
from nenscope.radiomics.settings import Approach

__all__ = ["FEATURES", "compute_glcm_features"]

FloatArray = npt.NDArray[np.float64]

DENSE_CELLS = 2_000_000
"""Up to this many matrix cells (matrices × G²), co-occurrences are counted into dense
matrices (fastest for few grey levels); beyond it (fine discretisations, 2D) the pairs are
listed and sorted instead, so that memory and time do not grow with G²."""

FEATURES: tuple[tuple[str, str], ...] = (
    ("glcm_joint_maximum", "GYBY"),
    ("glcm_joint_average", "60VM"),
    ("glcm_joint_variance", "UR99"),
    ("glcm_joint_entropy", "TU9B"),
    ("glcm_difference_average", "TF7R"),
    ("glcm_difference_variance", "D3YU"),
    ("glcm_difference_entropy", "NTRS"),
    ("glcm_sum_average", "ZGXS"),
    ("glcm_sum_variance", "OEEB"),
    ("glcm_sum_entropy", "P6QZ"),
    ("glcm_angular_second_moment", "8ZQL"),
    ("glcm_contrast", "ACUI"),
    ("glcm_dissimilarity", "8S9J"),
    ("glcm_inverse_difference", "IB1Z"),
    ("glcm_inverse_difference_normalised", "NDRX"),
    ("glcm_inverse_difference_moment", "WF0Z"),
    ("glcm_inverse_difference_moment_normalised", "1QCO"),
    ("glcm_inverse_variance", "E8JP"),
    ("glcm_correlation", "NI2N"),
    ("glcm_autocorrelation", "QWB0"),
    ("glcm_cluster_tendency", "DG8W"),
    ("glcm_cluster_shade", "7NFM"),
    ("glcm_cluster_prominence", "AE86"),
    ("glcm_information_correlation_1", "R8DG"),
    ("glcm_information_correlation_2", "JN9H"),
)
"""(name, IBSI id) of every GLCM feature; keys carry the aggregation suffix of DESIGN.md."""


def compute_glcm_features(
    levels: npt.NDArray[np.int64],
    *,
    n_levels: int,
    spacing_mm: tuple[float, float, float],
    approach: Approach,
) -> dict[str, float]:
    """Compute the 25 GLCM features with both aggregation methods of ``approach``.

    Parameters
    ----------
    levels
        Discretised ``(z, y, x)`` crop: 0 outside the ROI, ``1 .. n_levels`` inside.
    n_levels
        Number of grey levels ``N_g`` of the discretisation (used by the normalised inverse
        difference features even when some levels do not occur).
    spacing_mm
        Voxel spacing ``(z, y, x)`` in mm. Unused: IBSI distances are in voxels.
    approach
        ``2d`` returns ``_2D_avg`` and ``_2D_smrg`` keys, ``2.5d`` ``_2.5D_dmrg`` and
        ``_2.5D_mrg``, ``3d`` ``_3D_avg`` and ``_3D_mrg``.

    Returns
    -------
    dict
        ``{IBSI id + suffix: value}``, 50 float values (dimensionless or grey-level units).

    Raises
    ------
    EmptyRegionError
        If the ROI holds no voxel.
    NotComputableError
        If no two ROI voxels are neighbours (no co-occurrence at all), or for invalid levels.

    Notes
    -----
    Aggregation (IBSI 1, 3.6 "Aggregating features"): ``2D_avg`` averages features over every
    slice × direction matrix, ``2D_smrg`` merges the 4 directions per slice and averages over
    slices, ``2.5D_dmrg`` merges slices per direction and averages over directions,
    ``2.5D_mrg`` merges everything, ``3D_avg`` averages over the 13 volume matrices and
    ``3D_mrg`` merges them. Empty matrices are skipped. Edge cases follow MIRP: correlation of
    a matrix with zero marginal variance is 1, information correlation 1 with zero marginal
    entropy is 1, and inverse variance is undefined (skipped; 0 if undefined everywhere) for a
    matrix without off-diagonal elements.

    Examples
    --------
    >>> lv = np.array([[[1, 1, 2, 2]]])
    >>> f = compute_glcm_features(
    ...     lv, n_levels=2, spacing_mm=(1.0, 1.0, 1.0), approach=Approach.D3
    ... )
    >>> round(f["ACUI_3D_mrg"], 4)  # pairs (1,1), (1,2), (2,2) + symmetric: contrast 1/3
    0.3333
    """
    approach = parse_option(approach, Approach, what="texture approach")
    roi = compact_levels(levels, n_levels=n_levels, family="GLCM")
    directions = DIRECTIONS_3D if approach is Approach.D3 else DIRECTIONS_2D
    n_grey = roi.grey.size
    n_matrices = len(directions) * (roi.levels.shape[0] if approach is Approach.D2 else 1)
    if n_matrices * n_grey * n_grey <= DENSE_CELLS:
        tables = _dense_tables(roi.levels, roi.grey, directions, approach, n_levels)
    else:
        tables = _pair_tables(roi.levels, roi.grey, directions, approach, n_levels)
    if tables[1][0].size == 0:
        raise NotComputableError(
            "Cannot compute GLCM features: no two ROI voxels are neighbours, so every "
            "co-occurrence matrix is empty."
        )
    out: dict[str, float] = {}
    for table, suffix in zip(tables, SUFFIX_DIRECTIONAL[approach], strict=True):
        for (_, code), values in zip(FEATURES, table, strict=True):
            fallback = 0.0 if code == "E8JP" else np.nan
            out[f"{code}{suffix}"] = mean_over_matrices(values, fallback=fallback)
    return out


Tables = tuple[list[FloatArray], list[FloatArray]]


def _dense_tables(
    levels: npt.NDArray[np.int64],
    grey: FloatArray,
    directions: tuple[tuple[int, int, int], ...],
    approach: Approach,
    n_levels: int,
) -> Tables:
    """(averaged, merged) feature tables from dense count matrices (few grey levels)."""
    n_grey = grey.size
    by_slice = approach is Approach.D2
    per = np.stack(
        [cooccurrence_counts(levels, d, n_levels=n_grey, per_slice=by_slice) for d in directions]
    )
    if by_slice:  # (direction, slice, G, G): every matrix, and the directions merged per slice
        stacks = (per.reshape(-1, n_grey, n_grey), per.sum(axis=0))
    else:  # (direction, 1, G, G): every direction, and all merged
        stacks = (per[:, 0], per.sum(axis=(0, 1))[None])
    tables = []
    for stack in stacks:
        symmetric = stack + stack.transpose(0, 2, 1)
        matrix, row, col = np.nonzero(symmetric)
        cells = symmetric[matrix, row, col].astype(np.float64)
        tables.append(_table(matrix, row, col, cells, grey, n_levels))
    return tables[0], tables[1]


def _pair_tables(
    levels: npt.NDArray[np.int64],
    grey: FloatArray,
    directions: tuple[tuple[int, int, int], ...],
    approach: Approach,
    n_levels: int,
) -> Tables:
    """(averaged, merged) feature tables from listed pairs (many grey levels: sparse)."""
    n_grey = grey.size
    pairs = [cooccurring_pairs(levels, d) for d in directions]
    slices = np.concatenate([p[0] for p in pairs])
    direction = np.concatenate([np.full(p[0].size, d) for d, p in enumerate(pairs)])
    first = np.concatenate([p[1] for p in pairs]) - 1
    second = np.concatenate([p[2] for p in pairs]) - 1
    if approach is Approach.D2:
        matrix_ids = (direction * levels.shape[0] + slices, slices)
    else:
        matrix_ids = (direction, np.zeros_like(direction))
    tables = []
    for matrix in matrix_ids:
        # Each pair counts in both orders (symmetric GLCM); one sort lists the non-zero cells.
        key = np.concatenate([matrix, matrix]) * n_grey + np.concatenate([first, second])
        key = key * n_grey + np.concatenate([second, first])
        cells, counts = np.unique(key, return_counts=True)
        row, col = (cells // n_grey) % n_grey, cells % n_grey
        tables.append(
            _table(cells // (n_grey * n_grey), row, col, counts.astype(np.float64), grey, n_levels)
        )
    return tables[0], tables[1]


def _table(
    matrix: npt.NDArray[np.intp] | npt.NDArray[np.int64],
    row: npt.NDArray[np.intp] | npt.NDArray[np.int64],
    col: npt.NDArray[np.intp] | npt.NDArray[np.int64],
    cells: FloatArray,
    grey: FloatArray,
    n_levels: int,
) -> list[FloatArray]:
    """Renumber the non-empty matrices 0..K-1 (cells sorted by matrix) and compute features."""
    if cells.size == 0:
        return [np.empty(0) for _ in FEATURES]
    _, k_idx = np.unique(matrix, return_inverse=True)
    return glcm_feature_table(
        k_idx, row, col, cells, grey, n_matrices=int(k_idx[-1]) + 1, n_levels=n_levels
    )


def glcm_feature_table(
    k_idx: npt.NDArray[np.intp] | npt.NDArray[np.int64],
    i_idx: npt.NDArray[np.intp] | npt.NDArray[np.int64],
    j_idx: npt.NDArray[np.intp] | npt.NDArray[np.int64],
    cells: FloatArray,
    grey: FloatArray,
    *,
    n_matrices: int,
    n_levels: int,
) -> list[FloatArray]:
    """Compute the 25 GLCM features (order of :data:`FEATURES`) of symmetric matrices.

    Parameters
    ----------
    k_idx, i_idx, j_idx
        Matrix, row and column of each non-zero cell; ``k_idx`` is sorted (each matrix's
        cells are contiguous) and every matrix ``0 .. n_matrices - 1`` has a cell.
    cells
        Co-occurrence count of each cell (the matrices are symmetric).
    grey
        ``(G,)`` grey level of each row / column.
    n_matrices
        Number of matrices ``K``.
    n_levels
        ``N_g`` of the discretisation.

    Returns
    -------
    list of numpy.ndarray
        25 float64 arrays of shape ``(K,)``; NaN where a feature is undefined.

    Notes
    -----
    IBSI 1 section 3.6. ``p_ij`` is the normalised matrix, ``p_i`` its marginal (equal for
    rows and columns, the matrix being symmetric), ``p_{i-j}`` and ``p_{i+j}`` its diagonal
    and cross-diagonal sums; ``log`` is base 2. Only non-zero cells are visited, so the cost
    does not grow with the square of the number of grey levels.
    """
    n_k, n_grey = n_matrices, grey.size
    p = cells / np.bincount(k_idx, weights=cells, minlength=n_k)[k_idx]
    g_i, g_j = grey[i_idx], grey[j_idx]
    # Every feature but the joint maximum, joint entropy and energy is a moment of the
    # marginal p_i or of the diagonal / cross-diagonal sums p_{i-j}(k), p_{i+j}(k).
    p_minus = _per_matrix(k_idx, np.abs(g_i - g_j).astype(np.int64), p, n_k, n_levels)
    p_plus = _per_matrix(k_idx, (g_i + g_j).astype(np.int64), p, n_k, 2 * n_levels + 1)
    p_i = _per_matrix(k_idx, i_idx, p, n_k, n_grey)
    joint_max = np.maximum.reduceat(p, np.searchsorted(k_idx, np.arange(n_k)))
    h_xy = -np.bincount(k_idx, weights=p * np.log2(p), minlength=n_k)
    energy = np.bincount(k_idx, weights=p * p, minlength=n_k)
    k_minus = np.arange(p_minus.shape[1], dtype=np.float64)
    k_plus = np.arange(p_plus.shape[1], dtype=np.float64)
    mu = p_i @ grey
    var = _moment(p_i, grey, mu, 2)
    diff_avg = p_minus @ k_minus
    sum_avg = p_plus @ k_plus
    contrast = p_minus @ k_minus**2
    # sum_ij i j p_ij = (sum (i+j)^2 p - sum (i-j)^2 p) / 4
    auto = (p_plus @ k_plus**2 - contrast) / 4.0
    h_x = -xlogx(p_i).sum(axis=1)
    # For any joint distribution HXY1 = HXY2 = HX + HY, and HY = HX for a symmetric matrix.
    h_xy1 = h_xy2 = 2.0 * h_x
    k_off = k_minus[1:]
    has_off_diag = p_minus[:, 1:].sum(axis=1) > 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = np.where(var > 0.0, (auto - mu**2) / var, 1.0)
        info1 = np.where(h_x > 0.0, (h_xy - h_xy1) / h_x, 1.0)
    info2 = np.where(
        h_xy2 < h_xy, 0.0, np.sqrt(np.clip(1.0 - np.exp(-2.0 * (h_xy2 - h_xy)), 0.0, 1.0))
    )
    ng = float(n_levels)
    return [
        joint_max,
        mu,
        var,
        h_xy,
        diff_avg,
        _moment(p_minus, k_minus, diff_avg, 2),
        -xlogx(p_minus).sum(axis=1),
        sum_avg,
        _moment(p_plus, k_plus, sum_avg, 2),
        -xlogx(p_plus).sum(axis=1),
        energy,
        contrast,
        diff_avg,
        p_minus @ (1.0 / (1.0 + k_minus)),
        p_minus @ (1.0 / (1.0 + k_minus / ng)),
        p_minus @ (1.0 / (1.0 + k_minus**2)),
        p_minus @ (1.0 / (1.0 + k_minus**2 / ng**2)),
        np.where(has_off_diag, p_minus[:, 1:] @ (1.0 / k_off**2), np.nan),
        corr,
        auto,
        _moment(p_plus, k_plus, 2.0 * mu, 2),
        _moment(p_plus, k_plus, 2.0 * mu, 3),
        _moment(p_plus, k_plus, 2.0 * mu, 4),
        info1,
        info2,
    ]


def _moment(weights: FloatArray, values: FloatArray, centre: FloatArray, order: int) -> FloatArray:
    """``sum_v (v - centre)^order weights(v)`` per matrix: ``(K, V)`` weights, ``(K,)`` out."""
    moment: FloatArray = np.sum((values[None, :] - centre[:, None]) ** order * weights, axis=1)
    return moment


def _per_matrix(
    matrix: npt.NDArray[np.intp],
    index: npt.NDArray[np.intp] | npt.NDArray[np.int64],
    weights: FloatArray,
    n_matrices: int,
    n_bins: int,
) -> FloatArray:
    """Sum ``weights`` per (matrix, index) into a dense ``(n_matrices, n_bins)`` array."""
    flat = matrix * n_bins + index
    binned = np.bincount(flat, weights=weights, minlength=n_matrices * n_bins)
    return binned.astype(np.float64).reshape(n_matrices, n_bins)
