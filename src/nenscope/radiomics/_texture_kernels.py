"""Numba kernels that accumulate the IBSI 1 texture matrices (STYLE 4.1).

Every kernel walks a discretised ``(z, y, x)`` int64 array ``levels`` in which 0 marks a voxel
outside the ROI and ``1 .. n_levels`` the grey level of a voxel inside it. Voxels outside the ROI
(and outside the array) are never neighbours. The bodies are written as plain, annotated Python
functions and compiled with ``numba.njit(cache=True)``; the typed public wrappers below are all
that the family modules use, so that numba (which ships no type information) stays in this file.

Kernels that support the 2D and 2.5D approaches return one matrix per slice (axis 0 = slice
``z``), so that the caller can average features over slices (2D) or sum the slice matrices
(2.5D); in 3D they return a single matrix with a leading axis of length 1.
"""

from __future__ import annotations

import threading
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from nenscope.core.numba_cache import configure_numba_cache
from nenscope.radiomics import _texture_numpy as _np

__all__ = [
    "DIRECTIONS_2D",
    "DIRECTIONS_3D",
    "cooccurrence_counts",
    "cooccurring_pairs",
    "dependence_counts",
    "grey_tone_differences",
    "neighbour_offsets",
    "run_length_counts",
    "zone_table",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

NUMPY_MAX_VOXELS = 20_000
"""ROIs of at most this many voxels use the vectorised NumPy kernels (``_texture_numpy``),
larger ones the numba kernels. Both give identical tables; below this size the NumPy tables
take a few tens of ms (bench: 5,500 voxels, every family, 0.04 s NumPy vs 0.03 s numba),
less than importing numba and loading its compiled kernels (about 0.5 s CPU and 70 MB), which
a process that extracts one lesion pays in full (issue 9, item 6)."""

DIRECTIONS_3D: tuple[tuple[int, int, int], ...] = (
    (0, 0, 1),
    (0, 1, -1),
    (0, 1, 0),
    (0, 1, 1),
    (1, -1, -1),
    (1, -1, 0),
    (1, -1, 1),
    (1, 0, -1),
    (1, 0, 0),
    (1, 0, 1),
    (1, 1, -1),
    (1, 1, 0),
    (1, 1, 1),
)
"""The 13 unique ``(dz, dy, dx)`` directions at Chebyshev distance 1 (the other 13 are their
opposites, which a symmetric matrix or a run walk covers)."""

DIRECTIONS_2D: tuple[tuple[int, int, int], ...] = DIRECTIONS_3D[:4]
"""The 4 unique in-plane directions at Chebyshev distance 1."""


def neighbour_offsets(*, in_plane: bool) -> IntArray:
    """All ``(dz, dy, dx)`` offsets at Chebyshev distance 1: 8 in-plane or 26 in 3D.

    Returns
    -------
    numpy.ndarray
        int64 array of shape ``(8, 3)`` or ``(26, 3)``.

    Examples
    --------
    >>> neighbour_offsets(in_plane=True).shape, neighbour_offsets(in_plane=False).shape
    ((8, 3), (26, 3))
    """
    half = np.asarray(DIRECTIONS_2D if in_plane else DIRECTIONS_3D, dtype=np.int64)
    return np.ascontiguousarray(np.concatenate([half, -half]))


def _cooccurrence_py(
    levels: IntArray, dz: int, dy: int, dx: int, n_levels: int, per_slice: bool
) -> IntArray:
    nz, ny, nx = levels.shape
    out = np.zeros((nz if per_slice else 1, n_levels, n_levels), dtype=np.int64)
    for z in range(nz):
        z2 = z + dz
        if z2 < 0 or z2 >= nz:
            continue
        s = z if per_slice else 0
        for y in range(ny):
            y2 = y + dy
            if y2 < 0 or y2 >= ny:
                continue
            for x in range(nx):
                x2 = x + dx
                if x2 < 0 or x2 >= nx:
                    continue
                a = levels[z, y, x]
                b = levels[z2, y2, x2]
                if a > 0 and b > 0:
                    out[s, a - 1, b - 1] += 1
    return out


def _count_roi_py(levels: IntArray) -> int:
    nz, ny, nx = levels.shape
    n_roi = 0
    for z in range(nz):
        for y in range(ny):
            for x in range(nx):
                if levels[z, y, x] > 0:
                    n_roi += 1
    return n_roi


def _pairs_py(levels: IntArray, dz: int, dy: int, dx: int) -> tuple[IntArray, IntArray, IntArray]:
    nz, ny, nx = levels.shape
    n_max = _count_roi_jit(levels)
    slices = np.empty(n_max, dtype=np.int64)
    first = np.empty(n_max, dtype=np.int64)
    second = np.empty(n_max, dtype=np.int64)
    n_pairs = 0
    for z in range(nz):
        z2 = z + dz
        if z2 < 0 or z2 >= nz:
            continue
        for y in range(ny):
            y2 = y + dy
            if y2 < 0 or y2 >= ny:
                continue
            for x in range(nx):
                x2 = x + dx
                if x2 < 0 or x2 >= nx:
                    continue
                a = levels[z, y, x]
                b = levels[z2, y2, x2]
                if a > 0 and b > 0:
                    slices[n_pairs] = z
                    first[n_pairs] = a
                    second[n_pairs] = b
                    n_pairs += 1
    return slices[:n_pairs].copy(), first[:n_pairs].copy(), second[:n_pairs].copy()


def _run_length_py(
    levels: IntArray, dz: int, dy: int, dx: int, n_levels: int, per_slice: bool
) -> IntArray:
    nz, ny, nx = levels.shape
    max_run = max(nz, ny, nx)
    out = np.zeros((nz if per_slice else 1, n_levels, max_run), dtype=np.int64)
    for z in range(nz):
        s = z if per_slice else 0
        for y in range(ny):
            for x in range(nx):
                a = levels[z, y, x]
                if a == 0:
                    continue
                # Only the first voxel of a run (its predecessor differs) starts a walk, so
                # every voxel is visited O(1) times per direction.
                zp, yp, xp = z - dz, y - dy, x - dx
                if 0 <= zp < nz and 0 <= yp < ny and 0 <= xp < nx and levels[zp, yp, xp] == a:
                    continue
                length = 1
                zn, yn, xn = z + dz, y + dy, x + dx
                while 0 <= zn < nz and 0 <= yn < ny and 0 <= xn < nx and levels[zn, yn, xn] == a:
                    length += 1
                    zn += dz
                    yn += dy
                    xn += dx
                out[s, a - 1, length - 1] += 1
    return out


def _flood_zone_py(
    levels: IntArray,
    distance: IntArray,
    offsets: IntArray,
    visited: npt.NDArray[np.bool_],
    stack: IntArray,
    seed: tuple[int, int, int],
) -> tuple[int, int]:
    """Depth-first flood fill of the zone of ``seed``; returns its size and minimum distance."""
    nz, ny, nx = levels.shape
    z, y, x = seed
    a = levels[z, y, x]
    visited[z, y, x] = True
    stack[0, 0], stack[0, 1], stack[0, 2] = z, y, x
    top = 1
    size = 0
    dmin = distance[z, y, x]
    while top > 0:
        top -= 1
        cz, cy, cx = stack[top, 0], stack[top, 1], stack[top, 2]
        size += 1
        dmin = min(dmin, distance[cz, cy, cx])
        for k in range(offsets.shape[0]):
            qz = cz + offsets[k, 0]
            qy = cy + offsets[k, 1]
            qx = cx + offsets[k, 2]
            if qz < 0 or qz >= nz or qy < 0 or qy >= ny or qx < 0 or qx >= nx:
                continue
            if visited[qz, qy, qx] or levels[qz, qy, qx] != a:
                continue
            visited[qz, qy, qx] = True
            stack[top, 0], stack[top, 1], stack[top, 2] = qz, qy, qx
            top += 1
    return size, dmin


def _zone_table_py(
    levels: IntArray, distance: IntArray, offsets: IntArray
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    nz, ny, nx = levels.shape
    n_roi = _count_roi_jit(levels)
    visited = np.zeros((nz, ny, nx), dtype=np.bool_)
    stack = np.empty((n_roi, 3), dtype=np.int64)
    zone_level = np.empty(n_roi, dtype=np.int64)
    zone_size = np.empty(n_roi, dtype=np.int64)
    zone_dist = np.empty(n_roi, dtype=np.int64)
    zone_slice = np.empty(n_roi, dtype=np.int64)
    n_zones = 0
    for z in range(nz):
        for y in range(ny):
            for x in range(nx):
                a = levels[z, y, x]
                if a == 0 or visited[z, y, x]:
                    continue
                size, dmin = _flood_zone_jit(levels, distance, offsets, visited, stack, (z, y, x))
                zone_level[n_zones] = a
                zone_size[n_zones] = size
                zone_dist[n_zones] = dmin
                zone_slice[n_zones] = z
                n_zones += 1
    return (
        zone_level[:n_zones].copy(),
        zone_size[:n_zones].copy(),
        zone_dist[:n_zones].copy(),
        zone_slice[:n_zones].copy(),
    )


def _grey_tone_py(
    levels: IntArray, offsets: IntArray, grey: FloatArray, per_slice: bool
) -> tuple[FloatArray, IntArray]:
    n_levels = grey.shape[0]
    nz, ny, nx = levels.shape
    n_out = nz if per_slice else 1
    s_sum = np.zeros((n_out, n_levels), dtype=np.float64)
    n_count = np.zeros((n_out, n_levels), dtype=np.int64)
    n_off = offsets.shape[0]
    for z in range(nz):
        s = z if per_slice else 0
        for y in range(ny):
            for x in range(nx):
                a = levels[z, y, x]
                if a == 0:
                    continue
                total = 0.0
                count = 0
                for k in range(n_off):
                    qz = z + offsets[k, 0]
                    qy = y + offsets[k, 1]
                    qx = x + offsets[k, 2]
                    if qz < 0 or qz >= nz or qy < 0 or qy >= ny or qx < 0 or qx >= nx:
                        continue
                    b = levels[qz, qy, qx]
                    if b > 0:
                        total += grey[b - 1]
                        count += 1
                if count > 0:
                    s_sum[s, a - 1] += abs(grey[a - 1] - total / count)
                    n_count[s, a - 1] += 1
    return s_sum, n_count


def _dependence_py(
    levels: IntArray, offsets: IntArray, grey: FloatArray, alpha: float, per_slice: bool
) -> IntArray:
    n_levels = grey.shape[0]
    nz, ny, nx = levels.shape
    n_off = offsets.shape[0]
    out = np.zeros((nz if per_slice else 1, n_levels, n_off + 1), dtype=np.int64)
    for z in range(nz):
        s = z if per_slice else 0
        for y in range(ny):
            for x in range(nx):
                a = levels[z, y, x]
                if a == 0:
                    continue
                dependence = 1
                for k in range(n_off):
                    qz = z + offsets[k, 0]
                    qy = y + offsets[k, 1]
                    qx = x + offsets[k, 2]
                    if qz < 0 or qz >= nz or qy < 0 or qy >= ny or qx < 0 or qx >= nx:
                        continue
                    b = levels[qz, qy, qx]
                    if b > 0 and abs(grey[a - 1] - grey[b - 1]) <= alpha:
                        dependence += 1
                out[s, a - 1, dependence - 1] += 1
    return out


# numba ships no type information: compile the bodies here and call them only through the typed
# wrappers below. numba itself (about half a second and 50 MB) is imported on the first texture
# computation, not when the feature registry is imported: morphology, statistics, histogram and
# IVH never load it. The compiled kernels come from numba's on-disk cache (cache=True).
_KERNELS = (
    # callees first: the bodies of _pairs_py and _zone_table_py call these two
    "count_roi",
    "flood_zone",
    "cooccurrence",
    "pairs",
    "run_length",
    "zone_table",
    "grey_tone",
    "dependence",
)
_COMPILE_LOCK = threading.Lock()
_cooccurrence_jit: Any = None
_count_roi_jit: Any = None
_pairs_jit: Any = None
_run_length_jit: Any = None
_flood_zone_jit: Any = None
_zone_table_jit: Any = None
_grey_tone_jit: Any = None
_dependence_jit: Any = None


def _compiled(name: str) -> Any:
    """Return the numba dispatcher ``_<name>_jit``, importing numba on the first call."""
    space = globals()
    if space["_dependence_jit"] is None:
        with _COMPILE_LOCK:
            if space["_dependence_jit"] is None:
                configure_numba_cache()  # the user's cache folder, not the package (issue 14)
                import numba

                for kernel in _KERNELS:
                    space[f"_{kernel}_jit"] = numba.njit(cache=True, nogil=True)(
                        space[f"_{kernel}_py"]
                    )
    return space[f"_{name}_jit"]


def _as_levels(levels: npt.ArrayLike) -> IntArray:
    return np.ascontiguousarray(levels, dtype=np.int64)


def _small(levels: IntArray) -> bool:
    """Whether the ROI is small enough for the NumPy kernels (:data:`NUMPY_MAX_VOXELS`)."""
    return int(np.count_nonzero(levels)) <= NUMPY_MAX_VOXELS


def cooccurrence_counts(
    levels: IntArray,
    direction: tuple[int, int, int],
    *,
    n_levels: int,
    per_slice: bool,
) -> IntArray:
    """Count ordered grey-level pairs ``(levels[k], levels[k + direction])`` inside the ROI.

    Parameters
    ----------
    levels
        Discretised ``(z, y, x)`` array, 0 outside the ROI, ``1 .. n_levels`` inside.
    direction
        ``(dz, dy, dx)`` offset of the neighbour.
    n_levels
        Number of grey levels ``N_g`` (matrix size).
    per_slice
        One matrix per slice (of the first voxel) instead of one for the volume.

    Returns
    -------
    numpy.ndarray
        int64 counts of shape ``(n_slices or 1, n_levels, n_levels)``; not symmetrised.

    Examples
    --------
    >>> lv = np.array([[[1, 2, 2]]])
    >>> cooccurrence_counts(lv, (0, 0, 1), n_levels=2, per_slice=False)[0].tolist()
    [[0, 1], [0, 1]]
    """
    dz, dy, dx = direction
    lv = _as_levels(levels)
    if _small(lv):
        return _np.cooccurrence_np(lv, dz, dy, dx, n_levels, per_slice)
    out = _compiled("cooccurrence")(lv, dz, dy, dx, n_levels, per_slice)
    return cast(IntArray, out)


def cooccurring_pairs(
    levels: IntArray, direction: tuple[int, int, int]
) -> tuple[IntArray, IntArray, IntArray]:
    """List the ordered grey-level pairs ``(levels[k], levels[k + direction])`` in the ROI.

    Parameters
    ----------
    levels
        Discretised ``(z, y, x)`` array, 0 outside the ROI.
    direction
        ``(dz, dy, dx)`` offset of the neighbour.

    Returns
    -------
    tuple of numpy.ndarray
        Per pair: slice of the first voxel, its level, the neighbour's level (int64). Listing
        pairs instead of filling a matrix keeps the cost independent of the number of levels.

    Examples
    --------
    >>> z, a, b = cooccurring_pairs(np.array([[[1, 2, 2]]]), (0, 0, 1))
    >>> z.tolist(), a.tolist(), b.tolist()
    ([0, 0], [1, 2], [2, 2])
    """
    dz, dy, dx = direction
    lv = _as_levels(levels)
    if _small(lv):
        return _np.pairs_np(lv, dz, dy, dx)
    out = _compiled("pairs")(lv, dz, dy, dx)
    return cast(tuple[IntArray, IntArray, IntArray], out)


def run_length_counts(
    levels: IntArray,
    direction: tuple[int, int, int],
    *,
    n_levels: int,
    per_slice: bool,
) -> IntArray:
    """Count runs of equal grey level along ``direction`` inside the ROI.

    Returns
    -------
    numpy.ndarray
        int64 counts of shape ``(n_slices or 1, n_levels, max(levels.shape))``; element
        ``[s, i - 1, r - 1]`` counts runs of grey level ``i`` and length ``r``.

    Examples
    --------
    >>> lv = np.array([[[1, 1, 2, 0, 2]]])
    >>> run_length_counts(lv, (0, 0, 1), n_levels=2, per_slice=False)[0].tolist()
    [[0, 1, 0, 0, 0], [2, 0, 0, 0, 0]]
    """
    dz, dy, dx = direction
    lv = _as_levels(levels)
    if _small(lv):
        return _np.run_length_np(lv, dz, dy, dx, n_levels, per_slice)
    out = _compiled("run_length")(lv, dz, dy, dx, n_levels, per_slice)
    return cast(IntArray, out)


def zone_table(
    levels: IntArray, distance: IntArray, *, in_plane: bool
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Label the zones (connected voxels of equal grey level) of the ROI.

    Parameters
    ----------
    levels
        Discretised ``(z, y, x)`` array, 0 outside the ROI.
    distance
        ``(z, y, x)`` int64 distance map; each zone reports the minimum over its voxels.
    in_plane
        8-connectivity within slices (2D) instead of 26-connectivity (3D).

    Returns
    -------
    tuple of numpy.ndarray
        Per zone: grey level, size in voxels, minimum distance, slice of its first voxel.

    Examples
    --------
    >>> lv = np.array([[[1, 0, 1], [0, 1, 2]]])
    >>> level, size, dist, _ = zone_table(lv, np.ones_like(lv), in_plane=True)
    >>> level.tolist(), size.tolist()
    ([1, 2], [3, 1])
    """
    offsets = neighbour_offsets(in_plane=in_plane)
    dist = np.ascontiguousarray(distance, dtype=np.int64)
    lv = _as_levels(levels)
    if _small(lv):
        return _np.zone_table_np(lv, dist, offsets)
    out = _compiled("zone_table")(lv, dist, offsets)
    return cast(tuple[IntArray, IntArray, IntArray, IntArray], out)


def grey_tone_differences(
    levels: IntArray, *, grey: FloatArray, in_plane: bool, per_slice: bool
) -> tuple[FloatArray, IntArray]:
    """NGTDM sums ``s_i`` and counts ``n_i`` (Chebyshev distance 1, ROI neighbours only).

    ``levels`` holds level indices ``1 .. len(grey)``; differences are taken between the grey
    values ``grey[level - 1]``.

    Returns
    -------
    tuple of numpy.ndarray
        ``s`` (float64) and ``n`` (int64), each of shape ``(n_slices or 1, len(grey))``. Voxels
        without any ROI neighbour are left out of both (IBSI 1, NGTDM).

    Examples
    --------
    >>> s, n = grey_tone_differences(
    ...     np.array([[[1, 3]]]), grey=np.array([1.0, 2.0, 3.0]), in_plane=True, per_slice=False
    ... )
    >>> s.tolist(), n.tolist()
    ([[2.0, 0.0, 2.0]], [[1, 0, 1]])
    """
    offsets = neighbour_offsets(in_plane=in_plane)
    values = np.ascontiguousarray(grey, dtype=np.float64)
    lv = _as_levels(levels)
    if _small(lv):
        return _np.grey_tone_np(lv, offsets, values, per_slice)
    out = _compiled("grey_tone")(lv, offsets, values, per_slice)
    return cast(tuple[FloatArray, IntArray], out)


def dependence_counts(
    levels: IntArray, *, grey: FloatArray, alpha: int, in_plane: bool, per_slice: bool
) -> IntArray:
    """NGLDM counts: grey level × dependence ``j = 1 + #(ROI neighbours with |Δ| <= alpha)``.

    ``levels`` holds level indices ``1 .. len(grey)``; ``Δ`` is the difference of the grey
    values ``grey[level - 1]``.

    Returns
    -------
    numpy.ndarray
        int64 counts of shape ``(n_slices or 1, len(grey), 9 or 27)``; element
        ``[s, i - 1, j - 1]`` counts voxels of grey level ``i`` with dependence ``j``.

    Examples
    --------
    >>> m = dependence_counts(
    ...     np.array([[[1, 1, 2]]]), grey=np.array([1.0, 2.0]), alpha=0, in_plane=True,
    ...     per_slice=False,
    ... )
    >>> m[0, :, :3].tolist()
    [[0, 2, 0], [1, 0, 0]]
    """
    offsets = neighbour_offsets(in_plane=in_plane)
    values = np.ascontiguousarray(grey, dtype=np.float64)
    lv = _as_levels(levels)
    if _small(lv):
        return _np.dependence_np(lv, offsets, values, float(alpha), per_slice)
    out = _compiled("dependence")(lv, offsets, values, float(alpha), per_slice)
    return cast(IntArray, out)
