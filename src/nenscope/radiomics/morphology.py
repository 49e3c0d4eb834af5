"""Morphological features (IBSI 1 section 3.1) from a marching-cubes mesh and voxel sets.

Mesh features use the morphological mask; intensity-weighted features (centre of mass shift,
integrated intensity, Moran's I, Geary's C) use the intensity mask for intensities.
"""

from __future__ import annotations

import sys
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from skimage.measure import marching_cubes

from nenscope.core.arrays import distinct
from nenscope.radiomics._fft import next_fast_len
from nenscope.radiomics._hull import hull_faces
from nenscope.radiomics._ndimage_np import legendre_series
from nenscope.radiomics.processing import PreparedRoi

__all__ = [
    "autocorrelation_indices",
    "compute_morphology_features",
    "convex_hull_measures",
    "ellipsoid_area",
    "mesh_area_volume",
]

AEE_MIN_ECCENTRICITY = 1e-6
"""Floor of α and β in the ellipsoid-area series (relative area error below 1e-11)."""

LATTICE_HULL_VERTICES = 10_000
"""Vertices a process hulls with the exact lattice hull (:mod:`nenscope.radiomics._hull`) before
it switches to Qhull (scipy.spatial): about the CPU time of importing Qhull (~0.1 s), so a
single small ROI skips that import and a batch pays it once, then gets Qhull's speed."""

_lattice_hull_done = [0]
"""Mesh vertices this process has hulled with the lattice hull so far (a cost estimate; a
race between threads only shifts the switch a little)."""

AEE_SERIES_TERMS = 20
"""Terms of the Legendre series of the ellipsoid surface area (IBSI 1, 3.1.21: ν = 0..20)."""


def mesh_area_volume(
    mask: npt.NDArray[np.bool_], spacing_mm: tuple[float, float, float]
) -> tuple[npt.NDArray[np.float64], float, float]:
    """Marching-cubes mesh of a mask: vertices (mm), surface area (mm²) and volume (mm³).

    Parameters
    ----------
    mask
        Bool mask, ``(z, y, x)``.
    spacing_mm
        Voxel size in mm, ``(z, y, x)``.

    Notes
    -----
    The mask is padded with one empty voxel and meshed at level 0.5 (IBSI 1, 3.1.1); the
    volume is the divergence-theorem sum ``|Σ a·(b×c)| / 6`` over the faces.

    Examples
    --------
    >>> m = np.zeros((3, 3, 3), dtype=bool); m[1, 1, 1] = True
    >>> _, area, vol = mesh_area_volume(m, (1.0, 1.0, 1.0))
    >>> round(vol, 4)
    0.1667
    """
    padded = np.pad(mask.astype(np.float64), 1)
    verts, faces, _, _ = marching_cubes(  # type: ignore[no-untyped-call]  # skimage untyped
        padded, level=0.5, spacing=spacing_mm
    )
    v = np.asarray(verts, dtype=np.float64)
    a, b, c = v[faces[:, 0]], v[faces[:, 1]], v[faces[:, 2]]
    cross = np.cross(b - a, c - a)
    area = float(0.5 * np.linalg.norm(cross, axis=1).sum())
    volume = float(abs(np.einsum("ij,ij->i", a, np.cross(b, c)).sum()) / 6.0)
    return v, area, volume


def ellipsoid_area(a: float, b: float, c: float) -> float:
    """Surface area of an ellipsoid with semi-axes ``a >= b >= c`` (mm → mm²).

    Notes
    -----
    IBSI 1 section 3.1.21: ``4πab Σ_ν (αβ)^ν / (1 - 4ν²) P_ν((α² + β²) / (2αβ))`` with
    ``α = sqrt(1 - b²/a²)``, ``β = sqrt(1 - c²/a²)``, ν = 0..20.

    Examples
    --------
    >>> round(ellipsoid_area(1.0, 1.0, 1.0) / np.pi, 6)
    4.0
    """
    # The series is continuous in α and β, but its Legendre argument is 0/0 for spheroids
    # (α or β = 0); evaluating just beside that limit keeps every term finite.
    alpha = max(float(np.sqrt(max(1.0 - b**2 / a**2, 0.0))), AEE_MIN_ECCENTRICITY)
    beta = max(float(np.sqrt(max(1.0 - c**2 / a**2, 0.0))), AEE_MIN_ECCENTRICITY)
    nu = np.arange(AEE_SERIES_TERMS + 1)
    terms = (alpha * beta) ** nu / (1.0 - 4.0 * nu**2)
    terms *= legendre_series(AEE_SERIES_TERMS, (alpha**2 + beta**2) / (2.0 * alpha * beta))
    return float(4.0 * np.pi * a * b * terms.sum())


def _smooth(
    x: npt.NDArray[np.float64],
    w_hat: npt.NDArray[np.complexfloating[Any, Any]],
    shape: tuple[int, ...],
    crop: tuple[slice, ...],
) -> npt.NDArray[np.float64]:
    """Circular convolution of ``x`` with the weight grid (single-precision FFT), cropped."""
    axes = tuple(range(len(shape)))
    spectrum = w_hat * np.fft.rfftn(x.astype(np.float32), shape, axes=axes)
    out = np.fft.irfftn(spectrum, shape, axes=axes)[crop]
    return np.asarray(out, dtype=np.float64)


def autocorrelation_indices(
    values: npt.NDArray[np.float64],
    mask: npt.NDArray[np.bool_],
    spacing_mm: tuple[float, float, float],
) -> tuple[float, float]:
    """Moran's I (N365) and Geary's C (NPT7) with inverse-distance weights, over all pairs.

    Parameters
    ----------
    values
        Intensities, ``(z, y, x)``.
    mask
        Voxels taking part, bool, same shape.
    spacing_mm
        Voxel size in mm, ``(z, y, x)``.

    Notes
    -----
    ``w_kl = 1 / ||x_k - x_l||`` (mm) for all pairs ``k != l`` (IBSI 1, 3.1.26-27). Because the
    weight depends only on the displacement, the double sums are correlations, evaluated
    with FFTs on a grid padded to twice the ROI box: O(N log N) instead of O(N²). The FFTs run
    in single precision (2.5× faster) on operands scaled to unit range, and every sum is
    accumulated in double precision: measured against double-precision FFTs on the IBSI CT
    phantom (configs A, C-E) the relative difference is below 1e-7, four orders below the
    IBSI tolerances. Both are NaN for a single voxel (no pairs).
    """
    idx = np.nonzero(mask)
    box = tuple(slice(int(i.min()), int(i.max()) + 1) for i in idx)
    m = mask[box].astype(np.float64)
    n = float(m.sum())
    if n < 2:
        return float("nan"), float("nan")
    x = np.where(mask[box], values[box], 0.0)
    mean = float(x.sum() / n)
    a = (x - mean) * m
    shape = tuple(next_fast_len(2 * s - 1) for s in m.shape)
    grids = []
    for size, s_mm in zip(shape, spacing_mm, strict=True):
        d = np.arange(size, dtype=np.float64)
        d = np.where(d < size / 2, d, d - size)
        grids.append(d * s_mm)
    dz, dy, dx = np.meshgrid(*grids, indexing="ij", sparse=True)
    dist = np.sqrt(dz**2 + dy**2 + dx**2)
    dist[0, 0, 0] = np.inf
    # The weight grid is even, so correlating with it is convolving with it: one forward FFT
    # per operand and one inverse per smoothed operand give every double sum as a dot product.
    w_hat = np.fft.rfftn((1.0 / dist).astype(np.float32), shape, axes=(0, 1, 2))
    crop = tuple(slice(0, s) for s in m.shape)
    scale = float(np.abs(a).max()) or 1.0
    w_m = _smooth(m, w_hat, shape, crop)
    w_a = _smooth(a / scale, w_hat, shape, crop) * scale
    sum_w = float(np.sum(m * w_m))
    squares = float(np.sum(a * a * w_m))
    cross = float(np.sum(a * w_a))
    denom = float(np.sum(a * a))
    if denom == 0:
        return float("nan"), float("nan")
    moran = n / sum_w * cross / denom
    geary = (n - 1.0) / (2.0 * sum_w) * (2.0 * squares - 2.0 * cross) / denom
    return float(moran), float(geary)


def convex_hull_measures(
    verts: npt.NDArray[np.float64],
    spacing_mm: tuple[float, float, float],
    *,
    method: Literal["auto", "lattice", "qhull"] = "auto",
) -> tuple[float, float, float]:
    """Convex hull of mesh vertices (mm): volume (mm³), area (mm²) and maximum diameter (mm).

    Notes
    -----
    The maximum 3D diameter (L0JK) is the largest distance between two hull vertices. Until
    the process has hulled :data:`LATTICE_HULL_VERTICES` vertices, the vertices of a binary
    mask's mesh get the exact lattice hull; then, and for vertices off the half-voxel lattice
    or once scipy.spatial is loaded anyway, Qhull. Both give the same volume and area to
    rounding (relative 1e-15; IBSI tolerances are 1e-2 and wider) and the same diameter.
    ``method`` forces one of them ("lattice" still falls back to Qhull off the lattice).

    Examples
    --------
    >>> cube = np.array([[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)], float)
    >>> [round(v, 6) for v in convex_hull_measures(cube, (0.5, 0.5, 0.5))]
    [1.0, 6.0, 1.732051]
    """
    lattice = method == "lattice" or (
        method == "auto"
        and len(verts) <= LATTICE_HULL_VERTICES - _lattice_hull_done[0]
        and "scipy.spatial" not in sys.modules
    )
    faces = None
    if lattice:
        faces = hull_faces(verts, spacing_mm)
        _lattice_hull_done[0] += len(verts)
    if faces is None:
        from scipy.spatial import ConvexHull  # ~0.1 s import: only here

        hull = ConvexHull(verts)
        hull_volume, hull_area = float(hull.volume), float(hull.area)
        corners = verts[hull.vertices]
    else:
        centre = verts.mean(axis=0)
        a, b, c = (verts[faces[:, i]] - centre for i in range(3))
        hull_volume = float(np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6.0)
        hull_area = float(0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1).sum())
        corners = verts[distinct(faces)]
    diameter = 0.0
    for start in range(0, len(corners), 512):  # pairwise distances in blocks of 512 rows
        block = corners[start : start + 512]
        d2 = ((block[:, None, :] - corners[None, :, :]) ** 2).sum(axis=2)
        diameter = max(diameter, float(np.sqrt(d2.max())))
    return hull_volume, hull_area, diameter


def _voxel_positions(
    mask: npt.NDArray[np.bool_], spacing_mm: tuple[float, float, float]
) -> npt.NDArray[np.float64]:
    pos = np.stack(np.nonzero(mask), axis=1).astype(np.float64)
    return np.asarray(pos * np.asarray(spacing_mm), dtype=np.float64)


def compute_morphology_features(roi: PreparedRoi) -> dict[str, float]:
    """Morphological features (IBSI 1 section 3.1), lengths in mm, areas mm², volumes mm³.

    Notes
    -----
    PCA axis lengths are ``4 sqrt(λ)`` of the covariance of the voxel centres of the
    morphological mask. The oriented minimum bounding box and minimum-volume enclosing
    ellipsoid densities (ZH1A, IQYR, SWZ1, BRI8) have no IBSI reference values and are not
    computed.
    """
    verts, area, volume = mesh_area_volume(roi.morph_mask, roi.spacing_mm)
    n_voxels = int(roi.morph_mask.sum())
    voxel_ml = float(np.prod(roi.spacing_mm))
    pos = _voxel_positions(roi.morph_mask, roi.spacing_mm)
    int_pos = _voxel_positions(roi.int_mask, roi.spacing_mm)
    intensities = roi.image[roi.int_mask]
    com_geom = pos.mean(axis=0)
    com_int = (int_pos * intensities[:, None]).sum(axis=0) / intensities.sum()
    eig = np.sort(np.linalg.eigvalsh(np.cov(pos.T)))[::-1] if n_voxels > 1 else (np.zeros(3))
    eig = np.maximum(eig, 0.0)
    major, minor, least = (float(v) for v in eig)
    hull_volume, hull_area, diameter = convex_hull_measures(verts, roi.spacing_mm)
    extent = verts.max(axis=0) - verts.min(axis=0)
    aabb_volume = float(np.prod(extent))
    aabb_area = float(
        2.0 * (extent[0] * extent[1] + extent[0] * extent[2] + extent[1] * extent[2])
    )
    semi = 2.0 * np.sqrt(np.array([major, minor, least]))
    aee_volume = 4.0 * np.pi * float(np.prod(semi)) / 3.0
    # A ROI of one voxel, or one row of voxels, has no ellipsoid (zero semi-axes).
    aee_area = (
        ellipsoid_area(float(semi[0]), float(semi[1]), float(semi[2]))
        if semi[0] > 0 and semi[1] > 0
        else 0.0
    )
    moran, geary = autocorrelation_indices(roi.image, roi.int_mask, roi.spacing_mm)
    sph = (36.0 * np.pi * volume**2) ** (1.0 / 3.0)
    return {
        "RNU0": volume,
        "YEKZ": n_voxels * voxel_ml,
        "C0JK": area,
        "2PR5": area / volume,
        "SKGS": volume / (np.sqrt(np.pi) * area**1.5),
        "BQWJ": 36.0 * np.pi * volume**2 / area**3,
        "KRCK": area / sph,
        "QCFX": sph / area,
        "25C7": (area / sph) - 1.0,
        "KLMA": float(np.linalg.norm(com_geom - com_int)),
        "L0JK": diameter,
        "TDIC": 4.0 * np.sqrt(major),
        "P9VJ": 4.0 * np.sqrt(minor),
        "7J51": 4.0 * np.sqrt(least),
        "Q3CK": float(np.sqrt(minor / major)) if major > 0 else float("nan"),
        "N17B": float(np.sqrt(least / major)) if major > 0 else float("nan"),
        "PBX1": volume / aabb_volume,
        "R59B": area / aabb_area,
        "6BDE": volume / aee_volume if aee_volume > 0 else float("nan"),
        "RDD2": area / aee_area if aee_area > 0 else float("nan"),
        "R3ER": volume / hull_volume,
        "7T7F": area / hull_area,
        "99N0": volume * float(intensities.mean()),
        "N365": moran,
        "NPT7": geary,
    }
