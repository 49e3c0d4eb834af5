"""Agreement of the fast texture kernels with slow, obviously correct implementations.

Everything below is written from the IBSI 1 reference manual (sections 3.6-3.11) in plain
Python over dictionaries of voxels, sharing no code with ``nenscope.radiomics``: matrices are
``Counter``s, runs come from ``itertools.groupby`` along each line of the array, zones from
``scipy.ndimage.label`` per grey level, distances from the iterative erosion that IBSI
describes, and each feature is its formula written out as a sum. The fast implementations
must agree on random small ROIs (STYLE 9.3 c) for every approach and aggregation.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from nenscope.radiomics import Approach
from nenscope.radiomics import _texture_kernels as kernels
from nenscope.radiomics import glcm as glcm_module
from nenscope.radiomics.glcm import compute_glcm_features
from nenscope.radiomics.gldzm import compute_gldzm_features
from nenscope.radiomics.glrlm import compute_glrlm_features
from nenscope.radiomics.glszm import compute_glszm_features
from nenscope.radiomics.ngldm import compute_ngldm_features
from nenscope.radiomics.ngtdm import compute_ngtdm_features

Voxel = tuple[int, int, int]
Volume = dict[Voxel, int]
Matrix = Counter[tuple[int, int]]

RTOL = 1e-9  # the two implementations sum in different orders; values are O(1)..O(1e3)
ATOL = 1e-12
SEEDS = range(30)
SPACING = (2.0, 1.0, 1.0)

DIRS_3D: list[Voxel] = [
    (a, b, c)
    for a, b, c in itertools.product((-1, 0, 1), repeat=3)
    if (a, b, c) > (0, 0, 0)  # lexicographically positive: one of each opposite pair
]
DIRS_2D: list[Voxel] = [d for d in DIRS_3D if d[0] == 0]
assert len(DIRS_3D) == 13 and len(DIRS_2D) == 4  # noqa: PT018 (module sanity check)


# --------------------------------------------------------------------------------------------
# Random test ROIs
# --------------------------------------------------------------------------------------------


def random_roi(seed: int) -> tuple[npt.NDArray[np.int64], int]:
    """A small random ROI: grey levels 1..n_levels inside, 0 outside; some levels absent.

    Every third seed gives a larger "onion": an inner box of one level inside a shell of
    another, so that zones lie away from the ROI edge (GLDZM distances > 1) and zones and
    runs are long.
    """
    rng = np.random.default_rng(seed)
    n_levels = int(rng.integers(3, 7))
    palette = rng.choice(np.arange(1, n_levels + 1), size=3, replace=False)
    if seed % 3 == 0:
        shape = (int(rng.integers(4, 7)), int(rng.integers(7, 11)), int(rng.integers(7, 11)))
        levels = np.full(shape, palette[0], dtype=np.int64)
        levels[1:-1, 2:-2, 2:-2] = palette[1]
        sprinkle = rng.random(shape) < 0.1
        levels[sprinkle] = palette[2]
        mask = rng.random(shape) < 0.97
    else:
        shape = (int(rng.integers(1, 5)), int(rng.integers(2, 7)), int(rng.integers(2, 7)))
        levels = rng.choice(palette, size=shape).astype(np.int64)
        mask = rng.random(shape) < 0.75
    mask[0, 0, 0:2] = True  # at least one neighbouring pair
    if shape[0] >= 3 and rng.random() < 0.5:
        mask[1] = False  # a slice without ROI voxels inside the crop
    return np.where(mask, levels, 0), n_levels


def as_volume(levels: npt.NDArray[np.int64]) -> Volume:
    return {(int(z), int(y), int(x)): int(levels[z, y, x]) for z, y, x in np.argwhere(levels > 0)}


def in_slice(vol: Volume, z: int) -> Volume:
    return {k: v for k, v in vol.items() if k[0] == z}


def slices_of(vol: Volume) -> list[int]:
    return sorted({k[0] for k in vol})


def add(k: Voxel, d: Voxel, t: int = 1) -> Voxel:
    return (k[0] + t * d[0], k[1] + t * d[1], k[2] + t * d[2])


def mean_defined(values: Iterable[float]) -> float:
    kept = [v for v in values if not math.isnan(v)]
    return sum(kept) / len(kept) if kept else math.nan


# --------------------------------------------------------------------------------------------
# GLCM
# --------------------------------------------------------------------------------------------


def glcm_matrix(vol: Volume, d: Voxel) -> Matrix:
    m: Matrix = Counter()
    for k, a in vol.items():
        b = vol.get(add(k, d))
        if b is not None:
            m[(a, b)] += 1
            m[(b, a)] += 1  # symmetric
    return m


def glcm_reference_features(m: Matrix, n_g: int) -> dict[str, float]:
    total = sum(m.values())
    p = {ij: c / total for ij, c in m.items()}
    p_i: defaultdict[int, float] = defaultdict(float)
    p_j: defaultdict[int, float] = defaultdict(float)
    p_minus: defaultdict[int, float] = defaultdict(float)
    p_plus: defaultdict[int, float] = defaultdict(float)
    for (i, j), v in p.items():
        p_i[i] += v
        p_j[j] += v
        p_minus[abs(i - j)] += v
        p_plus[i + j] += v
    mu = sum(i * v for (i, _), v in p.items())
    mu_i = sum(i * v for i, v in p_i.items())
    mu_j = sum(j * v for j, v in p_j.items())
    sd_i = math.sqrt(sum((i - mu_i) ** 2 * v for i, v in p_i.items()))
    sd_j = math.sqrt(sum((j - mu_j) ** 2 * v for j, v in p_j.items()))
    diff_avg = sum(k * v for k, v in p_minus.items())
    sum_avg = sum(k * v for k, v in p_plus.items())
    hxy = -sum(v * math.log2(v) for v in p.values())
    hx = -sum(v * math.log2(v) for v in p_i.values())
    hxy1 = -sum(v * math.log2(p_i[i] * p_j[j]) for (i, j), v in p.items())
    hxy2 = -sum(p_i[i] * p_j[j] * math.log2(p_i[i] * p_j[j]) for i in p_i for j in p_j)
    off = [(i, j, v) for (i, j), v in p.items() if i != j]
    f = {
        "GYBY": max(p.values()),
        "60VM": mu,
        "UR99": sum((i - mu) ** 2 * v for (i, _), v in p.items()),
        "TU9B": hxy,
        "TF7R": diff_avg,
        "D3YU": sum((k - diff_avg) ** 2 * v for k, v in p_minus.items()),
        "NTRS": -sum(v * math.log2(v) for v in p_minus.values() if v > 0),
        "ZGXS": sum_avg,
        "OEEB": sum((k - sum_avg) ** 2 * v for k, v in p_plus.items()),
        "P6QZ": -sum(v * math.log2(v) for v in p_plus.values() if v > 0),
        "8ZQL": sum(v * v for v in p.values()),
        "ACUI": sum((i - j) ** 2 * v for (i, j), v in p.items()),
        "8S9J": sum(abs(i - j) * v for (i, j), v in p.items()),
        "IB1Z": sum(v / (1 + abs(i - j)) for (i, j), v in p.items()),
        "NDRX": sum(v / (1 + abs(i - j) / n_g) for (i, j), v in p.items()),
        "WF0Z": sum(v / (1 + (i - j) ** 2) for (i, j), v in p.items()),
        "1QCO": sum(v / (1 + (i - j) ** 2 / n_g**2) for (i, j), v in p.items()),
        "E8JP": sum(v / (i - j) ** 2 for i, j, v in off) if off else math.nan,
        "NI2N": (
            sum((i - mu_i) * (j - mu_j) * v for (i, j), v in p.items()) / (sd_i * sd_j)
            if sd_i > 0 and sd_j > 0
            else 1.0
        ),
        "QWB0": sum(i * j * v for (i, j), v in p.items()),
        "DG8W": sum((i + j - mu_i - mu_j) ** 2 * v for (i, j), v in p.items()),
        "7NFM": sum((i + j - mu_i - mu_j) ** 3 * v for (i, j), v in p.items()),
        "AE86": sum((i + j - mu_i - mu_j) ** 4 * v for (i, j), v in p.items()),
        "R8DG": (hxy - hxy1) / hx if hx > 0 else 1.0,
        "JN9H": 0.0 if hxy2 < hxy else math.sqrt(1 - math.exp(-2 * (hxy2 - hxy))),
    }
    return f


def directional_reference(
    vol: Volume,
    approach: str,
    matrix_of: Callable[[Volume, Voxel], Matrix],
    features_of: Callable[[Matrix, int], dict[str, float]],
) -> dict[str, float]:
    """IBSI aggregation of a directional family; ``features_of(matrix, n_voxels)``."""

    def merged(mats: list[tuple[Matrix, int]]) -> tuple[Matrix, int]:
        total: Matrix = Counter()
        for m, _ in mats:
            total.update(m)
        return total, sum(n for _, n in mats)

    def averaged(groups: list[list[tuple[Matrix, int]]], suffix: str) -> dict[str, float]:
        feats = [features_of(*merged(g)) for g in groups if sum(merged(g)[0].values()) > 0]
        return {f"{code}{suffix}": mean_defined(f[code] for f in feats) for code in feats[0]}

    if approach == "3d":
        mats = [(matrix_of(vol, d), len(vol)) for d in DIRS_3D]
        return averaged([[m] for m in mats], "_3D_avg") | averaged([mats], "_3D_mrg")
    grid = {
        (z, d): (matrix_of(in_slice(vol, z), d), len(in_slice(vol, z)))
        for z in slices_of(vol)
        for d in DIRS_2D
    }
    if approach == "2d":
        by_slice = [[grid[(z, d)] for d in DIRS_2D] for z in slices_of(vol)]
        return averaged([[m] for m in grid.values()], "_2D_avg") | averaged(by_slice, "_2D_smrg")
    by_dir = [[grid[(z, d)] for z in slices_of(vol)] for d in DIRS_2D]
    return averaged(by_dir, "_2.5D_dmrg") | averaged([list(grid.values())], "_2.5D_mrg")


# --------------------------------------------------------------------------------------------
# Grey level × size matrices: GLRLM, GLSZM, GLDZM, NGLDM share their feature formulas
# --------------------------------------------------------------------------------------------

SIZE_CODES = {
    "glrlm": ("22OV W4KF V3SW G3QZ HTZT GD3A IVPO 3KUM R5YN OVBL W92Y IC23 9ZK5 8CE5 SXLW HJ9O"),
    "glszm": ("5QRC 48P8 XMSY 5GN9 5RAI HW1V YH51 J17V JNSA Y1RO 4JP3 VB3A P30P BYLV 3NSA GU8N"),
    "gldzm": ("0GBI MB4I S1RA K26C RUVG DKNJ A7WM KLTH VFT7 7HP3 V294 IATH VIWW QK93 7WT1 GBDU"),
    "ngldm": (
        "SODN IMOQ TL9H OAE7 EQ3F JA6D NBZI 9QMG FP8K 5SPA Z87G OKJI 6XV8 1PFV DNX2 FCBV CAS9"
    ),
}


def size_reference_features(m: Matrix, n_v: int, family: str) -> dict[str, float]:
    """IBSI formulas with r_ij = m[(i, j)] (i grey level, j run length / size / ...)."""
    n_s = sum(m.values())
    r_i: defaultdict[int, int] = defaultdict(int)
    r_j: defaultdict[int, int] = defaultdict(int)
    for (i, j), c in m.items():
        r_i[i] += c
        r_j[j] += c
    p = {ij: c / n_s for ij, c in m.items()}
    mu_i = sum(i * v for (i, _), v in p.items())
    mu_j = sum(j * v for (_, j), v in p.items())
    values = [
        sum(c / j**2 for j, c in r_j.items()) / n_s,
        sum(c * j**2 for j, c in r_j.items()) / n_s,
        sum(c / i**2 for i, c in r_i.items()) / n_s,
        sum(c * i**2 for i, c in r_i.items()) / n_s,
        sum(c / (i**2 * j**2) for (i, j), c in m.items()) / n_s,
        sum(c * i**2 / j**2 for (i, j), c in m.items()) / n_s,
        sum(c * j**2 / i**2 for (i, j), c in m.items()) / n_s,
        sum(c * i**2 * j**2 for (i, j), c in m.items()) / n_s,
        sum(c**2 for c in r_i.values()) / n_s,
        sum(c**2 for c in r_i.values()) / n_s**2,
        sum(c**2 for c in r_j.values()) / n_s,
        sum(c**2 for c in r_j.values()) / n_s**2,
        n_s / n_v,
        sum((i - mu_i) ** 2 * v for (i, _), v in p.items()),
        sum((j - mu_j) ** 2 * v for (_, j), v in p.items()),
        -sum(v * math.log2(v) for v in p.values()),
        sum(v * v for v in p.values()),
    ]
    return dict(zip(SIZE_CODES[family].split(), values, strict=False))


def runs_along(vol: Volume, shape: tuple[int, int, int], d: Voxel) -> Matrix:
    """Walk every line of the array along ``d`` and group it into maximal equal-level runs."""
    m: Matrix = Counter()
    for sz, sy, sx in itertools.product(*(range(n) for n in shape)):
        start = (sz, sy, sx)
        before = add(start, d, -1)
        if all(0 <= before[a] < shape[a] for a in range(3)):
            continue  # not the first voxel of its line
        line = []
        k = start
        while all(0 <= k[a] < shape[a] for a in range(3)):
            line.append(vol.get(k, 0))
            k = add(k, d)
        for level, group in itertools.groupby(line):
            if level > 0:
                m[(level, len(list(group)))] += 1
    return m


def zones_reference(
    levels: npt.NDArray[np.int64], *, in_plane: bool
) -> list[tuple[int, int, list[Voxel]]]:
    """(grey level, slice, voxels) of every zone, from scipy's labelling per grey level."""
    zones = []
    structure = np.ones((3, 3, 3), dtype=bool)
    if in_plane:
        structure[0] = structure[2] = False
    for level in np.unique(levels[levels > 0]):
        labelled, n = ndimage.label(levels == level, structure=structure)
        for label in range(1, n + 1):
            voxels = [(int(z), int(y), int(x)) for z, y, x in np.argwhere(labelled == label)]
            zones.append((int(level), voxels[0][0], voxels))
    return zones


def erosion_distance(mask: npt.NDArray[np.bool_], *, in_plane: bool) -> npt.NDArray[np.int64]:
    """IBSI 1 section 3.9: erode until empty, adding 1 to every voxel still in the mask."""
    structure = ndimage.generate_binary_structure(3, 1)
    if in_plane:
        structure[0] = structure[2] = False
    distance = np.zeros(mask.shape, dtype=np.int64)
    current = mask.copy()
    while current.any():
        distance += current
        current = ndimage.binary_erosion(current, structure=structure, border_value=0)
    return distance


def zone_reference(levels: npt.NDArray[np.int64], approach: str, family: str) -> dict[str, float]:
    in_plane = approach != "3d"
    zones = zones_reference(levels, in_plane=in_plane)
    distance = erosion_distance(levels > 0, in_plane=in_plane)

    def value(zone: tuple[int, int, list[Voxel]]) -> int:
        return len(zone[2]) if family == "glszm" else min(int(distance[v]) for v in zone[2])

    suffix = {"2d": "_2D", "2.5d": "_2.5D", "3d": "_3D"}[approach]
    if approach == "2d":
        per_slice = []
        for z in sorted({zone[1] for zone in zones}):
            m = Counter((zone[0], value(zone)) for zone in zones if zone[1] == z)
            per_slice.append(size_reference_features(m, int((levels[z] > 0).sum()), family))
        return {f"{c}{suffix}": mean_defined(f[c] for f in per_slice) for c in per_slice[0]}
    m = Counter((zone[0], value(zone)) for zone in zones)
    return {
        f"{c}{suffix}": v
        for c, v in size_reference_features(m, int((levels > 0).sum()), family).items()
    }


# --------------------------------------------------------------------------------------------
# NGTDM and NGLDM: neighbourhoods at Chebyshev distance 1, ROI voxels only
# --------------------------------------------------------------------------------------------


def neighbours(vol: Volume, k: Voxel, *, in_plane: bool) -> list[int]:
    dirs = DIRS_2D if in_plane else DIRS_3D
    found = []
    for d in dirs:
        for t in (1, -1):
            level = vol.get(add(k, d, t))
            if level is not None:
                found.append(level)
    return found


def ngtdm_reference_features(s: dict[int, float], n: dict[int, int]) -> dict[str, float]:
    n_vc = sum(n.values())
    p = {i: c / n_vc for i, c in n.items() if c > 0}
    n_gp = len(p)
    pairs = [(i1, i2) for i1 in p for i2 in p]
    ps = sum(p[i] * s[i] for i in p)
    s_sum = sum(s.values())
    busy_den = sum(abs(i1 * p[i1] - i2 * p[i2]) for i1, i2 in pairs)
    return {
        "QCDE": 1e6 if ps < 1e-6 else 1 / ps,
        "65HE": (
            sum(p[a] * p[b] * (a - b) ** 2 for a, b in pairs) / (n_gp * (n_gp - 1)) * s_sum / n_vc
            if n_gp > 1
            else 0.0
        ),
        "NQ30": ps / busy_den if n_gp > 1 and busy_den > 0 else 0.0,
        "HDEZ": sum(abs(a - b) * (p[a] * s[a] + p[b] * s[b]) / (p[a] + p[b]) for a, b in pairs)
        / n_vc,
        "1X9X": sum((p[a] + p[b]) * (a - b) ** 2 for a, b in pairs) / s_sum if s_sum > 0 else 0.0,
    }


def ngtdm_sums(vol: Volume, *, in_plane: bool) -> tuple[dict[int, float], dict[int, int]]:
    s: defaultdict[int, float] = defaultdict(float)
    n: defaultdict[int, int] = defaultdict(int)
    for k, a in vol.items():
        nb = neighbours(vol, k, in_plane=in_plane)
        if nb:
            s[a] += abs(a - sum(nb) / len(nb))
            n[a] += 1
    return dict(s), dict(n)


def ngtdm_reference(levels: npt.NDArray[np.int64], approach: str) -> dict[str, float]:
    vol = as_volume(levels)
    suffix = {"2d": "_2D", "2.5d": "_2.5D", "3d": "_3D"}[approach]
    if approach == "3d":
        return {
            f"{c}{suffix}": v
            for c, v in ngtdm_reference_features(*ngtdm_sums(vol, in_plane=False)).items()
        }
    per_slice = [ngtdm_sums(in_slice(vol, z), in_plane=True) for z in slices_of(vol)]
    per_slice = [(s, n) for s, n in per_slice if sum(n.values()) > 0]
    if approach == "2d":
        feats = [ngtdm_reference_features(s, n) for s, n in per_slice]
        return {f"{c}{suffix}": mean_defined(f[c] for f in feats) for c in feats[0]}
    s_all: Counter[int] = Counter()
    n_all: Counter[int] = Counter()
    for s, n in per_slice:
        s_all.update(s)
        n_all.update(n)
    return {
        f"{c}{suffix}": v for c, v in ngtdm_reference_features(dict(s_all), dict(n_all)).items()
    }


def ngldm_matrix(vol: Volume, *, in_plane: bool) -> Matrix:
    return Counter(
        (a, 1 + sum(1 for b in neighbours(vol, k, in_plane=in_plane) if b == a))
        for k, a in vol.items()
    )


def ngldm_reference(levels: npt.NDArray[np.int64], approach: str) -> dict[str, float]:
    vol = as_volume(levels)
    suffix = {"2d": "_2D", "2.5d": "_2.5D", "3d": "_3D"}[approach]
    if approach == "3d":
        m = ngldm_matrix(vol, in_plane=False)
        feats = size_reference_features(m, len(vol), "ngldm")
        return {f"{c}{suffix}": v for c, v in feats.items()}
    mats = [ngldm_matrix(in_slice(vol, z), in_plane=True) for z in slices_of(vol)]
    if approach == "2d":
        per = [size_reference_features(m, sum(m.values()), "ngldm") for m in mats]
        return {f"{c}{suffix}": mean_defined(f[c] for f in per) for c in per[0]}
    total: Matrix = Counter()
    for m in mats:
        total.update(m)
    feats = size_reference_features(total, len(vol), "ngldm")
    return {f"{c}{suffix}": v for c, v in feats.items()}


# --------------------------------------------------------------------------------------------
# The agreement tests
# --------------------------------------------------------------------------------------------


def reference(
    family: str, levels: npt.NDArray[np.int64], n_levels: int, approach: str
) -> dict[str, float]:
    vol = as_volume(levels)
    if family == "glcm":
        out = directional_reference(
            vol, approach, glcm_matrix, lambda m, _n: glcm_reference_features(m, n_levels)
        )
        for key in [k for k in out if k.startswith("E8JP") and math.isnan(out[k])]:
            out[key] = 0.0  # inverse variance of matrices without off-diagonal elements
        return out
    if family == "glrlm":
        shape = (levels.shape[0], levels.shape[1], levels.shape[2])
        return directional_reference(
            vol,
            approach,
            lambda v, d: runs_along(v, shape, d),
            lambda m, n: size_reference_features(m, n, "glrlm"),
        )
    if family in ("glszm", "gldzm"):
        return zone_reference(levels, approach, family)
    if family == "ngtdm":
        return ngtdm_reference(levels, approach)
    return ngldm_reference(levels, approach)


FAST = {
    "glcm": compute_glcm_features,
    "glrlm": compute_glrlm_features,
    "glszm": compute_glszm_features,
    "gldzm": compute_gldzm_features,
    "ngtdm": compute_ngtdm_features,
    "ngldm": compute_ngldm_features,
}


@pytest.mark.parametrize("approach", ["2d", "2.5d", "3d"])
@pytest.mark.parametrize("family", sorted(FAST))
@pytest.mark.parametrize("seed", SEEDS)
def test_fast_kernels_agree_with_slow_reference(seed: int, family: str, approach: str) -> None:
    levels, n_levels = random_roi(seed)
    fast = FAST[family](levels, n_levels=n_levels, spacing_mm=SPACING, approach=Approach(approach))
    slow = reference(family, levels, n_levels, approach)
    assert sorted(fast) == sorted(slow)
    for key in slow:
        np.testing.assert_allclose(fast[key], slow[key], rtol=RTOL, atol=ATOL, err_msg=key)


def test_random_rois_exercise_the_edge_cases() -> None:
    """The seeds must cover what the agreement test claims: absent levels, 1-slice volumes,
    slices with no ROI voxel, and zones / runs longer than one voxel."""
    rois = [random_roi(seed) for seed in SEEDS]
    assert any(lv.shape[0] == 1 for lv, _ in rois)
    assert any(len(np.unique(lv[lv > 0])) < n for lv, n in rois)
    assert any(not (lv[z] > 0).any() for lv, _ in rois for z in range(lv.shape[0]))
    sizes = [len(z[2]) for lv, _ in rois for z in zones_reference(lv, in_plane=False)]
    assert max(sizes) > 3
    zone_distances = [
        min(int(erosion_distance(lv > 0, in_plane=False)[v]) for v in zone[2])
        for lv, _ in rois
        for zone in zones_reference(lv, in_plane=False)
    ]
    assert max(zone_distances) > 1


# --------------------------------------------------------------------------------------------
# Symmetries (STYLE 9.4): every family uses direction sets and neighbourhoods that are closed
# under reflections and axis swaps, so mirroring the ROI or swapping rows and columns cannot
# change any feature; reversing the slice order cannot either.
# --------------------------------------------------------------------------------------------


@st.composite
def small_rois(draw: st.DrawFn) -> tuple[npt.NDArray[np.int64], int]:
    shape = (draw(st.integers(1, 3)), draw(st.integers(2, 6)), draw(st.integers(2, 6)))
    n_levels = draw(st.integers(1, 5))
    flat = draw(
        st.lists(
            st.integers(0, n_levels),
            min_size=shape[0] * shape[1] * shape[2],
            max_size=shape[0] * shape[1] * shape[2],
        )
    )
    levels = np.array(flat, dtype=np.int64).reshape(shape)
    levels[0, 0, 0:2] = 1  # at least one neighbouring pair
    return levels, n_levels


TRANSFORMS = {
    "mirror-x": lambda a: a[:, :, ::-1],
    "mirror-y": lambda a: a[:, ::-1, :],
    "reverse-slices": lambda a: a[::-1],
    "swap-rows-columns": lambda a: a.transpose(0, 2, 1),
}


@settings(max_examples=80, deadline=None)
@given(
    roi=small_rois(),
    family=st.sampled_from(sorted(FAST)),
    approach=st.sampled_from(list(Approach)),
    transform=st.sampled_from(sorted(TRANSFORMS)),
)
def test_features_are_invariant_under_mirroring_and_axis_swaps(
    roi: tuple[npt.NDArray[np.int64], int], family: str, approach: Approach, transform: str
) -> None:
    levels, n_levels = roi
    moved = np.ascontiguousarray(TRANSFORMS[transform](levels))
    base = FAST[family](levels, n_levels=n_levels, spacing_mm=SPACING, approach=approach)
    other = FAST[family](moved, n_levels=n_levels, spacing_mm=SPACING, approach=approach)
    assert base.keys() == other.keys()
    for key, value in base.items():
        np.testing.assert_allclose(other[key], value, rtol=1e-10, atol=1e-12, err_msg=key)


# --------------------------------------------------------------------------------------------
# The numba kernels are compiled from plain Python bodies; run those bodies uncompiled too, so
# that the compiled and interpreted semantics (integer division, bounds, dtypes) agree.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(0, 30, 5))
def test_compiled_kernels_equal_their_python_bodies(seed: int) -> None:
    levels, _ = random_roi(seed)
    compact = np.unique(levels, return_inverse=True)[1].reshape(levels.shape).astype(np.int64)
    n_present = int(compact.max())
    grey = np.arange(1, n_present + 1, dtype=np.float64) * 1.5
    # The public wrappers use the NumPy kernels for ROIs this small (NUMPY_MAX_VOXELS; their
    # agreement is tests/radiomics/test_texture_numpy.py): call the compiled ones directly.
    jit = kernels._compiled
    jit("count_roi")  # compiles every kernel: the _py bodies call _count_roi_jit/_flood_zone_jit
    for per_slice in (True, False):
        for d in DIRS_3D:
            for got, want in zip(
                kernels._pairs_py(compact, *d), jit("pairs")(compact, *d), strict=True
            ):
                np.testing.assert_array_equal(got, want)
            np.testing.assert_array_equal(
                kernels._cooccurrence_py(compact, *d, n_present, per_slice),
                jit("cooccurrence")(compact, *d, n_present, per_slice),
            )
            np.testing.assert_array_equal(
                kernels._run_length_py(compact, *d, n_present, per_slice),
                jit("run_length")(compact, *d, n_present, per_slice),
            )
        for in_plane in (True, False):
            offsets = kernels.neighbour_offsets(in_plane=in_plane)
            s_py, n_py = kernels._grey_tone_py(compact, offsets, grey, per_slice)
            s_jit, n_jit = jit("grey_tone")(compact, offsets, grey, per_slice)
            np.testing.assert_allclose(s_py, s_jit, rtol=1e-12)
            np.testing.assert_array_equal(n_py, n_jit)
            # alpha = 1.5 grey units: neighbours one level apart are dependent.
            np.testing.assert_array_equal(
                kernels._dependence_py(compact, offsets, grey, 1.5, per_slice),
                kernels._dependence_jit(compact, offsets, grey, 1.5, per_slice),
            )
    assert kernels._count_roi_py(compact) == np.count_nonzero(compact)
    distance = np.arange(compact.size, dtype=np.int64).reshape(compact.shape) % 4 + 1
    for in_plane in (True, False):
        offsets = kernels.neighbour_offsets(in_plane=in_plane)
        for got, want in zip(
            kernels._zone_table_py(compact, distance, offsets),
            jit("zone_table")(compact, distance, offsets),
            strict=True,
        ):
            np.testing.assert_array_equal(got, want)
        visited = np.zeros(compact.shape, dtype=np.bool_)
        stack = np.empty((compact.size, 3), dtype=np.int64)
        seed_voxel = tuple(int(i) for i in np.argwhere(compact > 0)[0])
        size, dmin = kernels._flood_zone_py(
            compact,
            distance,
            offsets,
            visited,
            stack,
            (seed_voxel[0], seed_voxel[1], seed_voxel[2]),
        )
        _, sizes, dists, _ = kernels.zone_table(compact, distance, in_plane=in_plane)
        assert (size, dmin) == (int(sizes[0]), int(dists[0]))


@pytest.mark.parametrize("approach", ["2d", "2.5d", "3d"])
@pytest.mark.parametrize("seed", range(0, 30, 3))
def test_glcm_pair_list_path_agrees_with_slow_reference(
    seed: int, approach: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fine discretisations take the sorted-pair path instead of dense matrices; force it.
    monkeypatch.setattr(glcm_module, "DENSE_CELLS", 0)
    levels, n_levels = random_roi(seed)
    fast = compute_glcm_features(
        levels, n_levels=n_levels, spacing_mm=SPACING, approach=Approach(approach)
    )
    slow = reference("glcm", levels, n_levels, approach)
    assert sorted(fast) == sorted(slow)
    for key in slow:
        np.testing.assert_allclose(fast[key], slow[key], rtol=RTOL, atol=ATOL, err_msg=key)
