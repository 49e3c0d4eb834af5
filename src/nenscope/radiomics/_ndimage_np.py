"""NumPy versions of the SciPy calls on the one-lesion path, with SciPy's exact results.

Importing :mod:`scipy.ndimage` or :mod:`scipy.special` costs about 0.2 s of CPU each (their
array-API wrappers parse every docstring), more than the whole extraction of one lesion, which
``nenscope radiomics`` pays in full (issue 9, item 6). The four calls that one ROI needs are
small enough to write with whole-array NumPy operations:

- :func:`correlate_ones`: ``ndimage.correlate(image, kernel, mode="constant")`` for a 0/1
  kernel (local intensity peak);
- :func:`city_block_distance`: ``ndimage.distance_transform_cdt`` with the taxicab metric, in
  3D or within slices (GLDZM distance to the ROI edge);
- :func:`zone_roots`: the zones of ``ndimage.label`` (GLSZM, GLDZM), all grey levels at once;
- :func:`legendre_series`: ``special.eval_legendre(arange(n + 1), x)`` (ellipsoid area).

Each gives SciPy's values bit for bit: the sums add the same terms in the same order, the
distances and zones are integers (``tests/radiomics/test_ndimage_np.py`` compares them with
SciPy on random input). Array order is ``(z, y, x)``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from nenscope.core.errors import InvalidArgumentError

__all__ = ["city_block_distance", "correlate_ones", "legendre_series", "zone_roots"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def _overlap(n: int, d: int) -> tuple[slice, slice]:
    """Index ranges of an output voxel and of its input at offset ``d`` along one axis."""
    if d >= 0:
        return slice(0, max(n - d, 0)), slice(d, n)
    return slice(-d, n), slice(0, max(n + d, 0))


def correlate_ones(image: FloatArray, kernel: npt.NDArray[np.generic]) -> FloatArray:
    """Sum of ``image`` over the kernel's non-zero voxels around each voxel; 0 outside.

    The same as ``scipy.ndimage.correlate(image, kernel, mode="constant", cval=0.0)`` for a
    kernel of zeros and ones with odd sides: SciPy adds the kernel's voxels in raster order,
    each as ``value * 1.0``, voxels outside the array as ``0.0 * 1.0``; so does this loop,
    one shifted slice per kernel voxel.

    Examples
    --------
    >>> correlate_ones(np.array([[[1.0, 2.0, 4.0]]]), np.ones((1, 1, 3))).tolist()
    [[[3.0, 7.0, 6.0]]]
    """
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel)
    if kernel.ndim != image.ndim or any(k % 2 == 0 for k in kernel.shape):
        raise InvalidArgumentError(
            f"correlate_ones: the kernel needs odd sides and the image's {image.ndim} "
            f"dimensions, got shape {kernel.shape}"
        )
    if not np.isin(kernel, (0, 1)).all():
        raise InvalidArgumentError("correlate_ones: the kernel must hold only zeros and ones")
    total = np.zeros_like(image)
    centre = np.array([k // 2 for k in kernel.shape])
    for index in np.argwhere(kernel):  # raster order, as SciPy's filter offsets
        pairs = [_overlap(n, int(d)) for n, d in zip(image.shape, index - centre, strict=True)]
        total[tuple(p[0] for p in pairs)] += image[tuple(p[1] for p in pairs)]
    return total


def city_block_distance(inside: npt.NDArray[np.bool_], *, in_plane: bool) -> IntArray:
    """Taxicab distance of each ``True`` voxel to the nearest ``False`` one (0 on ``False``).

    ``in_plane`` measures within each ``z`` slice only (4-connected steps), else in 3D
    (6-connected). The same as ``scipy.ndimage.distance_transform_cdt(inside,
    metric="taxicab")`` (3D) or with a 4-connected in-plane metric, for an array that holds at
    least one ``False`` voxel in every slice (in-plane) or anywhere (3D); where no ``False``
    voxel can be reached the distance is -1, as SciPy's.

    Notes
    -----
    The L1 distance is separable: a forward and a backward pass along each axis, ``d[i] =
    min(d[i], d[i - 1] + 1)``, give the exact integer distance (one vectorised step per slice
    along the axis, so the cost is the array's size times the number of axes).

    Examples
    --------
    >>> m = np.pad(np.ones((1, 3, 5), dtype=bool), ((0, 0), (1, 1), (1, 1)))
    >>> city_block_distance(m, in_plane=True)[0, 1:-1, 1:-1].tolist()
    [[1, 1, 1, 1, 1], [1, 2, 2, 2, 1], [1, 1, 1, 1, 1]]
    """
    mask = np.asarray(inside, dtype=bool)
    if mask.ndim != 3:
        raise InvalidArgumentError(f"city_block_distance: expected (z, y, x), got {mask.shape}")
    unreachable = mask.size + 1  # larger than any distance inside the array
    distance = np.where(mask, unreachable, 0).astype(np.int64)
    for axis in (1, 2) if in_plane else (0, 1, 2):
        d = np.moveaxis(distance, axis, 0)  # a view: the passes write into ``distance``
        for i in range(1, d.shape[0]):
            np.minimum(d[i], d[i - 1] + 1, out=d[i])
        for i in range(d.shape[0] - 2, -1, -1):
            np.minimum(d[i], d[i + 1] + 1, out=d[i])
    distance[distance >= unreachable] = -1
    return distance


def zone_roots(levels: IntArray, offsets: IntArray) -> tuple[IntArray, IntArray]:
    """Zones: voxels of equal non-zero level linked through ``offsets``, labelled by first voxel.

    Parameters
    ----------
    levels
        ``(z, y, x)`` integer array, 0 outside the ROI.
    offsets
        ``(k, 3)`` neighbour offsets; a link goes both ways, as in ``scipy.ndimage.label``
        with the structure element of these offsets (which SciPy requires symmetric).

    Returns
    -------
    tuple of numpy.ndarray
        ``position``: flat (raster) index of every ROI voxel, ascending; ``root``: for each,
        the index into ``position`` of the first voxel (in raster order) of its zone. The
        zones of one level are those of ``ndimage.label(levels == level, structure)``.

    Notes
    -----
    Union-find on the links, vectorised: every round hooks each zone root to the smallest
    root linked to it and then follows the pointers until each voxel points at its root. A
    root is always the smallest index of its tree, hence the zone's first voxel.

    Examples
    --------
    >>> lv = np.array([[[1, 1, 0, 1, 2]]])
    >>> position, root = zone_roots(lv, np.array([[0, 0, 1], [0, 0, -1]]))
    >>> position.tolist(), root.tolist()
    ([0, 1, 3, 4], [0, 0, 2, 3])
    """
    lv = np.asarray(levels)
    if lv.ndim != 3:
        raise InvalidArgumentError(f"zone_roots: expected (z, y, x) levels, got {lv.shape}")
    position = np.flatnonzero(lv)
    compact = np.full(lv.shape, -1, dtype=np.int64)
    compact.ravel()[position] = np.arange(position.size)
    heads, tails = [], []
    seen: set[tuple[int, int, int]] = set()
    for offset in np.asarray(offsets, dtype=np.int64).reshape(-1, 3):
        d = (int(offset[0]), int(offset[1]), int(offset[2]))
        if d == (0, 0, 0) or d in seen or (-d[0], -d[1], -d[2]) in seen:
            continue
        seen.add(d)
        pairs = [_overlap(n, s) for n, s in zip(lv.shape, d, strict=True)]
        here = tuple(p[0] for p in pairs)
        there = tuple(p[1] for p in pairs)
        linked = (lv[here] > 0) & (lv[here] == lv[there])
        heads.append(compact[here][linked])
        tails.append(compact[there][linked])
    root = np.arange(position.size, dtype=np.int64)
    a = np.concatenate(heads) if heads else np.zeros(0, dtype=np.int64)
    b = np.concatenate(tails) if tails else np.zeros(0, dtype=np.int64)
    while a.size:
        ra, rb = root[a], root[b]
        apart = ra != rb
        a, b, ra, rb = a[apart], b[apart], ra[apart], rb[apart]
        if not a.size:
            break
        np.minimum.at(root, np.maximum(ra, rb), np.minimum(ra, rb))
        while True:  # pointer jumping until every voxel points at a root
            jumped = root[root]
            if np.array_equal(jumped, root):
                break
            root = jumped
    return position, root


def legendre_series(n_max: int, x: float) -> FloatArray:
    """Legendre polynomials ``P_0(x) .. P_n_max(x)``, as ``scipy.special.eval_legendre``.

    SciPy evaluates an integer degree by the recurrence below (for ``|x| >= 1e-5``); the same
    operations in the same order give its values bit for bit. Near 0, where SciPy sums a power
    series instead, this calls SciPy.

    Examples
    --------
    >>> legendre_series(3, 0.5).tolist()  # as SciPy's, last bit included
    [1.0, 0.5, -0.125, -0.43749999999999994]
    """
    if n_max < 0:
        raise InvalidArgumentError(f"legendre_series: n_max must be >= 0, got {n_max}")
    x = float(x)
    if abs(x) < 1e-5:
        from scipy.special import eval_legendre  # SciPy's power series near 0

        return np.asarray(eval_legendre(np.arange(n_max + 1), x), dtype=np.float64)
    values = [1.0, x]
    d, p = x - 1, x
    for kk in range(n_max - 1):
        k = kk + 1.0
        d = ((2 * k + 1) / (k + 1)) * (x - 1) * p + (k / (k + 1)) * d
        p = d + p
        values.append(p)
    return np.asarray(values[: n_max + 1], dtype=np.float64)
