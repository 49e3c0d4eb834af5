"""Vectorised NumPy texture kernels: the same counts as the numba kernels, without numba.

For a small ROI, importing numba and loading its compiled kernels (about half a second of CPU
and 70 MB) costs more than the whole computation, which a process that extracts one lesion
(``nenscope radiomics``) pays in full. These functions compute the identical tables with
whole-array NumPy operations (shifted copies of the level array, one per neighbour offset)
and, for zones, :func:`~nenscope.radiomics._ndimage_np.zone_roots` (the zones of
``scipy.ndimage.label``, without importing SciPy); :mod:`nenscope.radiomics._texture_kernels` uses
them below :data:`~nenscope.radiomics._texture_kernels.NUMPY_MAX_VOXELS`.

Results are bit-identical to the loop kernels: integer tables trivially, the NGTDM sums because
each voxel's neighbour sum adds the offsets in the same order and :func:`numpy.bincount`
accumulates the voxels in raster order, as the loop does (``tests/radiomics`` compares them).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from nenscope.radiomics._ndimage_np import zone_roots

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

__all__ = [
    "cooccurrence_np",
    "dependence_np",
    "grey_tone_np",
    "pairs_np",
    "run_length_np",
    "zone_table_np",
]


def _overlap(n: int, d: int) -> tuple[slice, slice]:
    """Index ranges of the first voxel and of its neighbour at offset ``d`` along one axis."""
    if d >= 0:
        return slice(0, max(n - d, 0)), slice(d, n)
    return slice(-d, n), slice(0, max(n + d, 0))


def _shifted(levels: IntArray, offset: tuple[int, int, int], fill: int = 0) -> IntArray:
    """``out[k] = levels[k + offset]`` where that is inside the array, else ``fill``."""
    out = np.full(levels.shape, fill, dtype=np.int64)
    first, second = zip(
        *(_overlap(n, int(d)) for n, d in zip(levels.shape, offset, strict=True)), strict=True
    )
    out[first] = levels[second]
    return out


def _slice_index(shape: tuple[int, ...], per_slice: bool) -> IntArray:
    """Output slice of every voxel: its z where ``per_slice``, else 0."""
    if not per_slice:
        return np.zeros(shape, dtype=np.int64)
    return np.broadcast_to(np.arange(shape[0], dtype=np.int64)[:, None, None], shape)


def cooccurrence_np(
    levels: IntArray, dz: int, dy: int, dx: int, n_levels: int, per_slice: bool
) -> IntArray:
    """As ``_cooccurrence_py``: ordered pair counts ``(levels[k], levels[k + d])``."""
    nz = levels.shape[0]
    n_out = nz if per_slice else 1
    first, second = zip(
        *(_overlap(n, d) for n, d in zip(levels.shape, (dz, dy, dx), strict=True)), strict=True
    )
    a = levels[first]
    b = levels[second]
    keep = (a > 0) & (b > 0)
    s = _slice_index(levels.shape, per_slice)[first][keep]
    flat = (s * n_levels + (a[keep] - 1)) * n_levels + (b[keep] - 1)
    counts = np.bincount(flat, minlength=n_out * n_levels * n_levels)
    return counts.astype(np.int64).reshape(n_out, n_levels, n_levels)


def pairs_np(levels: IntArray, dz: int, dy: int, dx: int) -> tuple[IntArray, IntArray, IntArray]:
    """As ``_pairs_py``: the pairs in raster order of their first voxel."""
    first, second = zip(
        *(_overlap(n, d) for n, d in zip(levels.shape, (dz, dy, dx), strict=True)), strict=True
    )
    a = levels[first]
    b = levels[second]
    keep = (a > 0) & (b > 0)
    z = _slice_index(levels.shape, True)[first][keep]
    return (
        np.ascontiguousarray(z, dtype=np.int64),
        np.ascontiguousarray(a[keep], dtype=np.int64),
        np.ascontiguousarray(b[keep], dtype=np.int64),
    )


def run_length_np(
    levels: IntArray, dz: int, dy: int, dx: int, n_levels: int, per_slice: bool
) -> IntArray:
    """As ``_run_length_py``: runs of equal level along ``(dz, dy, dx)``, by length."""
    nz, ny, nx = levels.shape
    max_run = max(nz, ny, nx)
    n_out = nz if per_slice else 1
    previous = _shifted(levels, (-dz, -dy, -dx), fill=-1)
    starts = (levels > 0) & (previous != levels)
    z, y, x = np.nonzero(starts)
    grey = levels[z, y, x]
    length = np.ones(z.size, dtype=np.int64)
    active = np.arange(z.size)
    step = 1
    while active.size:
        zn, yn, xn = z[active] + step * dz, y[active] + step * dy, x[active] + step * dx
        inside = (zn >= 0) & (zn < nz) & (yn >= 0) & (yn < ny) & (xn >= 0) & (xn < nx)
        active, zn, yn, xn = active[inside], zn[inside], yn[inside], xn[inside]
        same = levels[zn, yn, xn] == grey[active]
        active = active[same]
        length[active] += 1
        step += 1
    s = z if per_slice else np.zeros_like(z)
    flat = (s * n_levels + (grey - 1)) * max_run + (length - 1)
    counts = np.bincount(flat, minlength=n_out * n_levels * max_run)
    return counts.astype(np.int64).reshape(n_out, n_levels, max_run)


def zone_table_np(
    levels: IntArray, distance: IntArray, offsets: IntArray
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """As ``_zone_table_py``: zones in raster order of their first voxel."""
    position, root = zone_roots(levels, offsets)
    if not position.size:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy(), empty.copy(), empty.copy()
    is_root = root == np.arange(position.size)  # a zone's root is its first voxel
    zone = (np.cumsum(is_root) - 1)[root]  # zones numbered in raster order of their roots
    n = int(np.count_nonzero(is_root))
    first = position[is_root]
    dmin = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(dmin, zone, distance.ravel()[position])
    ny_nx = levels.shape[1] * levels.shape[2]
    return (
        levels.ravel()[first].astype(np.int64),
        np.bincount(zone, minlength=n).astype(np.int64),
        dmin,
        (first // ny_nx).astype(np.int64),
    )


def grey_tone_np(
    levels: IntArray, offsets: IntArray, grey: FloatArray, per_slice: bool
) -> tuple[FloatArray, IntArray]:
    """As ``_grey_tone_py``: NGTDM sums and counts (bit-identical sums, see the module)."""
    n_levels = grey.shape[0]
    n_out = levels.shape[0] if per_slice else 1
    total = np.zeros(levels.shape, dtype=np.float64)
    count = np.zeros(levels.shape, dtype=np.int64)
    for offset in offsets:
        b = _shifted(levels, (int(offset[0]), int(offset[1]), int(offset[2])))
        valid = b > 0
        total[valid] += grey[b[valid] - 1]
        count += valid
    keep = (levels > 0) & (count > 0)
    a = levels[keep]
    diff = np.abs(grey[a - 1] - total[keep] / count[keep])
    bins = _slice_index(levels.shape, per_slice)[keep] * n_levels + (a - 1)
    s_sum = np.bincount(bins, weights=diff, minlength=n_out * n_levels)
    n_count = np.bincount(bins, minlength=n_out * n_levels)
    return (
        s_sum.astype(np.float64).reshape(n_out, n_levels),
        n_count.astype(np.int64).reshape(n_out, n_levels),
    )


def dependence_np(
    levels: IntArray, offsets: IntArray, grey: FloatArray, alpha: float, per_slice: bool
) -> IntArray:
    """As ``_dependence_py``: NGLDM counts of grey level × dependence."""
    n_levels = grey.shape[0]
    n_off = offsets.shape[0]
    n_out = levels.shape[0] if per_slice else 1
    inside = levels > 0
    own = np.where(inside, grey[np.maximum(levels, 1) - 1], 0.0)
    dependence = np.ones(levels.shape, dtype=np.int64)
    for offset in offsets:
        b = _shifted(levels, (int(offset[0]), int(offset[1]), int(offset[2])))
        valid = b > 0
        other = grey[np.maximum(b, 1) - 1]
        dependence += valid & (np.abs(own - other) <= alpha)
    a = levels[inside]
    bins = (_slice_index(levels.shape, per_slice)[inside] * n_levels + (a - 1)) * (n_off + 1) + (
        dependence[inside] - 1
    )
    counts = np.bincount(bins, minlength=n_out * n_levels * (n_off + 1))
    return counts.astype(np.int64).reshape(n_out, n_levels, n_off + 1)
