"""The exact lattice convex hull (morphology R3ER, 7T7F, L0JK) against Qhull, and next_fast_len.

Issue 9 item 6 replaced ``scipy.spatial.ConvexHull`` (whose import costs ~0.1 s per process)
for meshes of up to QHULL_MIN_VERTICES vertices; these tests hold it to Qhull's answers.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
import scipy.fft
from scipy.spatial import ConvexHull
from skimage.measure import marching_cubes

from nenscope.radiomics import morphology
from nenscope.radiomics._fft import next_fast_len
from nenscope.radiomics._hull import hull_faces, lattice_hull_faces
from nenscope.radiomics.morphology import convex_hull_measures


def _volume_area(v: npt.NDArray[np.float64], faces: npt.NDArray[np.int64]) -> tuple[float, float]:
    a, b, c = (v[faces[:, i]] - v.mean(axis=0) for i in range(3))
    volume = float(np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6.0)
    area = float(0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1).sum())
    return volume, area


def _rows(a: npt.NDArray[np.float64] | npt.NDArray[np.int64]) -> set[tuple[float, ...]]:
    return {tuple(float(x) for x in row) for row in a}


@pytest.mark.parametrize("seed", range(40))
def test_random_lattice_points_match_qhull(seed: int) -> None:
    rng = np.random.default_rng(seed)
    # Small ranges give many duplicate and coplanar points: the degenerate cases.
    high = (3, 6, 11)[seed % 3]
    pts = rng.integers(0, high, size=(int(rng.integers(8, 300)), 3))
    qhull = ConvexHull(pts)
    faces = lattice_hull_faces(pts)
    volume, area = _volume_area(pts.astype(np.float64), faces)
    assert volume == pytest.approx(qhull.volume, rel=1e-12)
    assert area == pytest.approx(qhull.area, rel=1e-12)
    # Every Qhull vertex is a vertex here (flat faces may keep extra boundary points).
    assert _rows(pts[qhull.vertices]) <= _rows(pts[np.unique(faces)])
    # Closed, consistently oriented surface: every directed edge has its reverse.
    edges = {(int(f[i]), int(f[(i + 1) % 3])) for f in faces for i in range(3)}
    assert all((j, i) in edges for i, j in edges)
    assert len(edges) == 3 * len(faces)


@pytest.mark.parametrize("seed", range(20))
def test_marching_cubes_mesh_matches_qhull(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    shape = tuple(int(s) for s in rng.integers(2, 14, size=3))
    mask = rng.random(shape) < rng.uniform(0.05, 0.9)
    mask[0, 0, 0] = True
    spacing = (float(rng.uniform(0.5, 4.0)), float(rng.uniform(0.5, 4.0)), 3.65)
    verts, _, _, _ = marching_cubes(np.pad(mask.astype(np.float64), 1), 0.5, spacing=spacing)
    verts = np.asarray(verts, dtype=np.float64)
    faces = hull_faces(verts, spacing)
    assert faces is not None  # a binary mask meshed at 0.5 lies on the half-voxel lattice
    qhull = ConvexHull(verts)
    volume, area, diameter = convex_hull_measures(verts, spacing)
    assert volume == pytest.approx(qhull.volume, rel=1e-12)
    assert area == pytest.approx(qhull.area, rel=1e-12)
    corners = verts[qhull.vertices]
    expected = np.sqrt(((corners[:, None] - corners[None]) ** 2).sum(axis=2)).max()
    assert diameter == pytest.approx(expected, rel=1e-14)


def test_off_lattice_and_large_meshes_use_qhull(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(7)
    verts = rng.normal(size=(200, 3))
    assert hull_faces(verts, (1.0, 1.0, 1.0)) is None
    qhull = ConvexHull(verts)
    volume, area, _ = convex_hull_measures(verts, (1.0, 1.0, 1.0))
    assert (volume, area) == (pytest.approx(qhull.volume), pytest.approx(qhull.area))
    lattice = rng.integers(0, 9, size=(200, 3)).astype(np.float64)
    exact = convex_hull_measures(lattice, (2.0, 2.0, 2.0))
    monkeypatch.setattr(morphology, "QHULL_MIN_VERTICES", 10)
    via_qhull = convex_hull_measures(lattice, (2.0, 2.0, 2.0))
    assert via_qhull == pytest.approx(exact, rel=1e-12)


def test_degenerate_point_sets_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 4 points"):
        lattice_hull_faces(np.zeros((3, 3), dtype=np.int64))
    with pytest.raises(ValueError, match="coplanar"):
        lattice_hull_faces(np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0], [2, 3, 0]]))
    with pytest.raises(ValueError, match="collinear"):
        lattice_hull_faces(np.array([[0, 0, 0], [1, 1, 1], [2, 2, 2], [3, 3, 3]]))
    with pytest.raises(ValueError, match="below"):
        lattice_hull_faces(np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1 << 21]]))


def test_next_fast_len_is_scipys_real_length() -> None:
    for n in range(1, 3000):
        assert next_fast_len(n) == scipy.fft.next_fast_len(n, real=True), n
    with pytest.raises(ValueError, match="positive"):
        next_fast_len(0)
