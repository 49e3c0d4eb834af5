"""The exact lattice convex hull (morphology R3ER, 7T7F, L0JK) against Qhull, and next_fast_len.

Issue 9 item 6 replaced ``scipy.spatial.ConvexHull`` (its import costs ~0.1 s per process)
for the first LATTICE_HULL_VERTICES mesh vertices of a process; these tests hold it to Qhull.
This module imports scipy.spatial, so "auto" means Qhull here: the lattice hull is forced.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import scipy.fft
from scipy.spatial import ConvexHull
from skimage.measure import marching_cubes

from nenscope.dicom.nifti import read_nifti
from nenscope.radiomics import load_settings, morphology
from nenscope.radiomics._fft import next_fast_len
from nenscope.radiomics._hull import hull_faces, lattice_hull_faces
from nenscope.radiomics.extract import extract_features
from nenscope.radiomics.morphology import convex_hull_measures
from nenscope.radiomics.registry import Family


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
    volume, area, diameter = convex_hull_measures(verts, spacing, method="lattice")
    assert volume == pytest.approx(qhull.volume, rel=1e-12)
    assert area == pytest.approx(qhull.area, rel=1e-12)
    corners = verts[qhull.vertices]
    expected = np.sqrt(((corners[:, None] - corners[None]) ** 2).sum(axis=2)).max()
    assert diameter == pytest.approx(expected, rel=1e-14)


def test_off_lattice_vertices_use_qhull() -> None:
    rng = np.random.default_rng(7)
    verts = rng.normal(size=(200, 3))
    assert hull_faces(verts, (1.0, 1.0, 1.0)) is None
    qhull = ConvexHull(verts)
    volume, area, _ = convex_hull_measures(verts, (1.0, 1.0, 1.0), method="lattice")
    assert (volume, area) == (pytest.approx(qhull.volume), pytest.approx(qhull.area))
    lattice = rng.integers(0, 9, size=(200, 3)).astype(np.float64)
    exact = convex_hull_measures(lattice, (2.0, 2.0, 2.0), method="lattice")
    via_qhull = convex_hull_measures(lattice, (2.0, 2.0, 2.0), method="qhull")
    assert via_qhull == pytest.approx(exact, rel=1e-12)


IBSI = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ibsi"


@pytest.mark.parametrize("config", ["phantom", "a", "b", "c", "d", "e"])
def test_ibsi_hull_features_are_qhulls(config: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """R3ER, 7T7F and L0JK of the IBSI 1 data sets: lattice hull = Qhull (to 1e-12), so the
    IBSI compliance tests, whichever hull a test process ends up using, check both."""
    folder = "ibsi_1_digital_phantom" if config == "phantom" else "ibsi_1_ct_radiomics_phantom"
    base = IBSI / folder / "nifti"
    if not (base / "image" / "phantom.nii.gz").exists():
        pytest.fail(f"IBSI data missing under {base} (../shared/data/ibsi, see tests/README)")
    image = read_nifti(base / "image" / "phantom.nii.gz")
    mask = np.asarray(read_nifti(base / "mask" / "mask.nii.gz").array) > 0
    settings = load_settings("ibsi-phantom" if config == "phantom" else f"ibsi-{config}")
    results = {}
    for method in ("lattice", "qhull"):
        measure = functools.partial(morphology.convex_hull_measures, method=method)
        monkeypatch.setattr(morphology, "convex_hull_measures", measure)
        features = extract_features(image, mask, settings, families=[Family.MORPHOLOGY]).features
        results[method] = [features[key] for key in ("R3ER", "7T7F", "L0JK")]
    assert results["lattice"] == pytest.approx(results["qhull"], rel=1e-12)


def test_a_process_switches_to_qhull_after_its_budget() -> None:
    """One small ROI skips the Qhull import; a batch pays it once (issue 9 item 6)."""
    code = (
        "import sys, numpy as np\n"
        "from nenscope.radiomics.morphology import convex_hull_measures, mesh_area_volume\n"
        "m = np.zeros((12, 12, 12), bool); m[2:10, 3:9, 1:11] = True; m[5, 5, 0] = True\n"
        "verts, _, _ = mesh_area_volume(m, (2.0, 3.0, 1.5))\n"
        "convex_hull_measures(verts, (2.0, 3.0, 1.5))\n"
        "assert 'scipy.spatial' not in sys.modules, 'one small ROI imported Qhull'\n"
        "for _ in range(10_000 // len(verts) + 1):\n"
        "    convex_hull_measures(verts, (2.0, 3.0, 1.5))\n"
        "assert 'scipy.spatial' in sys.modules, 'the budget never switched to Qhull'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)


def test_degenerate_point_sets_are_refused() -> None:
    with pytest.raises(ValueError, match="n >= 4"):
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
