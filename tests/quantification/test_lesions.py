"""Tests of quantification/lesions.py and _peak.py (per-lesion measures, SUVpeak)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nenscope.core import EmptyRegionError, GeometryError, ImageVolume, Unit, affine_from_spacing
from nenscope.quantification import (
    PEAK_SPHERE_RADIUS_MM,
    axial_diameters,
    label_statistics,
    lesion_statistics,
    peak_kernel,
    suv_peak,
    tumour_burden,
)
from tests.factories import grid, sphere_mask


def _slow_peak(suv: ImageVolume, mask: npt.NDArray[np.bool_]) -> float:
    """Independent oracle: for every lesion voxel, average every image voxel within 1 mL sphere."""
    values = np.asarray(suv.array, dtype=np.float64)
    all_idx = np.argwhere(np.ones(suv.shape, dtype=bool))
    all_mm = suv.index_to_lps(all_idx)
    best = -np.inf
    for idx in np.argwhere(mask):
        centre = suv.index_to_lps(idx)[0]
        inside = np.linalg.norm(all_mm - centre, axis=1) <= PEAK_SPHERE_RADIUS_MM * (1 + 1e-12)
        best = max(best, float(values.reshape(-1)[inside].mean()))
    return best


def test_peak_radius_is_one_millilitre() -> None:
    # By hand: 4/3 π r³ = 1000 mm³.
    np.testing.assert_allclose(4 / 3 * math.pi * PEAK_SPHERE_RADIUS_MM**3, 1000.0, rtol=1e-12)


@pytest.mark.parametrize(
    ("spacing", "expected"),
    [((4.0, 4.0, 4.0), 19), ((5.0, 5.0, 5.0), 7), ((7.0, 7.0, 7.0), 1)],
    ids=["4mm-faces-edges", "5mm-faces", "7mm-centre-only"],
)
def test_peak_kernel_voxel_counts(spacing: tuple[float, float, float], expected: int) -> None:
    # By hand: face neighbours at s, edge at s√2, corner at s√3 compared with r = 6.2035 mm.
    assert int(peak_kernel(np.diag([*spacing, 1.0])).sum()) == expected


def test_suv_peak_matches_brute_force_on_anisotropic_oblique_grid() -> None:
    rng = np.random.default_rng(1)
    direction = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    affine = affine_from_spacing((3.0, 2.0, 1.5), direction=direction)
    suv = ImageVolume(array=rng.gamma(2.0, 2.0, size=(9, 11, 12)), affine=affine, unit=Unit.SUV_BW)
    mask = np.zeros(suv.shape, dtype=bool)
    mask[0:4, 3:7, 8:12] = True  # touches the image border on two axes
    peak, _ = suv_peak(suv, mask)
    # Source (c): independent brute-force implementation above; same arithmetic -> 1e-12.
    np.testing.assert_allclose(peak, _slow_peak(suv, mask), rtol=1e-12)


def test_uniform_sphere_statistics_are_exact() -> None:
    suv = grid((40, 50, 50), (2.5, 1.5, 1.5))
    mask = sphere_mask(suv, (37.5, 37.5, 50.0), 15.0)
    img = np.where(mask, 10.0, 1.0)
    vol = suv.with_array(img)
    stats = lesion_statistics(vol, mask, liver_mean=5.0, spleen_mean=20.0)
    n = int(mask.sum())
    # By hand: uniform 10 inside -> max = mean = 10, SD 0; volume = n × 2.5×1.5×1.5 mm³.
    np.testing.assert_allclose(stats.volume_ml, n * 2.5 * 1.5 * 1.5 / 1000, rtol=1e-12)
    assert (stats.suvmax, stats.suvmean, stats.suv_sd) == (10.0, 10.0, 0.0)
    np.testing.assert_allclose(stats.tlg, 10.0 * stats.volume_ml, rtol=1e-12)
    # The 1 mL sphere (r 6.2 mm) fits inside the r = 15 mm sphere -> peak is exactly 10.
    np.testing.assert_allclose(stats.suvpeak, 10.0, rtol=1e-12)
    # Digitised sphere volume vs 4/3 π r³ = 14.137 mL: ~2 % at r = 10 voxels (discretisation).
    np.testing.assert_allclose(stats.volume_ml, 4 / 3 * math.pi * 15.0**3 / 1000, rtol=0.03)
    # The digitised sphere is symmetric about its centre voxel -> centroid exact.
    np.testing.assert_allclose(stats.centroid_mm, (37.5, 37.5, 50.0), atol=1e-9)
    assert (stats.lesion_to_liver, stats.lesion_to_spleen) == (2.0, 0.5)
    assert stats.organ is None
    assert stats.label == 1
    assert stats.n_voxels == n


def test_point_source_peak_is_value_over_kernel_size() -> None:
    vol = grid((7, 7, 7), (4.0, 4.0, 4.0))
    img = np.zeros(vol.shape)
    img[3, 3, 3] = 19.0
    stats = lesion_statistics(vol.with_array(img), img > 0)
    # By hand: 19 / 19 kernel voxels at 4 mm (see test_peak_kernel_voxel_counts).
    np.testing.assert_allclose(stats.suvpeak, 1.0, rtol=1e-12)
    np.testing.assert_allclose(stats.suvpeak_mm, (12.0, 12.0, 12.0), atol=1e-12)


def test_rectangle_diameters_by_hand() -> None:
    mask = np.zeros((3, 20, 20), dtype=bool)
    mask[1, 2:12, 5:9] = True  # 10 rows × 4 columns of 2 mm pixels: 20 × 8 mm
    mask[2, 3:5, 5:7] = True  # smaller slice: not chosen
    long_mm, short_mm, z = axial_diameters(np.diag([3.0, 2.0, 2.0, 1.0]), mask)
    # By hand: diagonal sqrt(20² + 8²); extent across the diagonal = 2ab / diagonal.
    diag = math.hypot(20.0, 8.0)
    np.testing.assert_allclose(long_mm, diag, rtol=1e-12)
    np.testing.assert_allclose(short_mm, 2 * 20 * 8 / diag, rtol=1e-12)
    assert z == 1


def test_disk_diameter_close_to_true_diameter() -> None:
    vol = grid((1, 81, 81), (1.0, 0.5, 0.5))
    mask = sphere_mask(vol, (20.0, 20.0, 0.0), 15.0)
    long_mm, short_mm, _ = axial_diameters(vol.affine, mask)
    # Outline corners lie at most one pixel diagonal (0.71 mm) outside the true 30 mm circle.
    assert 30.0 <= long_mm <= 30.0 + 2 * 0.5 * math.sqrt(2)
    assert 30.0 <= short_mm <= 30.0 + 2 * 0.5 * math.sqrt(2)


def test_organ_named_by_largest_overlap() -> None:
    vol = grid((4, 4, 4), (2.0, 2.0, 2.0), fill=1.0)
    lesion = np.zeros(vol.shape, dtype=bool)
    lesion[1:3, 1:3, 1:3] = True
    liver = np.zeros(vol.shape, dtype=bool)
    liver[:, :, :2] = True  # 4 of 8 lesion voxels
    node = np.zeros(vol.shape, dtype=bool)
    node[1, 1, 2] = True  # 1 voxel
    stats = lesion_statistics(vol, lesion, organ_masks={"node": node, "liver": liver})
    assert stats.organ == "liver"
    outside = lesion_statistics(vol, lesion, organ_masks={"x": np.zeros(vol.shape, bool)})
    assert outside.organ is None


def test_errors_and_contracts() -> None:
    vol = grid((3, 3, 3), (1.0, 1.0, 1.0), fill=2.0)
    with pytest.raises(EmptyRegionError, match="no voxel"):
        lesion_statistics(vol, np.zeros(vol.shape, dtype=bool))
    with pytest.raises(GeometryError, match="shape"):
        lesion_statistics(vol, np.ones((2, 2, 2), dtype=bool))
    with pytest.raises(EmptyRegionError):
        suv_peak(vol, np.zeros(vol.shape, dtype=bool))
    with pytest.raises(TypeError, match="integers"):
        label_statistics(vol, np.zeros(vol.shape))  # type: ignore[arg-type]  # wrong on purpose
    with pytest.raises(ValueError, match="negative"):
        label_statistics(vol, -np.ones(vol.shape, dtype=int))
    bad = {"a": np.ones((1, 1, 1), dtype=bool)}
    with pytest.raises(GeometryError, match="Organ mask"):
        lesion_statistics(vol, np.ones(vol.shape, bool), organ_masks=bad)
    before = np.asarray(vol.array).copy()
    s = lesion_statistics(vol, np.ones(vol.shape, dtype=bool))
    np.testing.assert_array_equal(vol.array, before)
    assert all(isinstance(v, float) for v in (s.volume_ml, s.suvmax, s.suvpeak, s.tlg))


def _two_lesion_image() -> tuple[ImageVolume, npt.NDArray[np.int64]]:
    rng = np.random.default_rng(3)
    vol = grid((12, 14, 16), (3.0, 2.0, 2.0))
    img = rng.uniform(0.5, 1.5, size=vol.shape)
    labels = np.zeros(vol.shape, dtype=np.int64)
    labels[3:6, 4:8, 4:8] = 1  # the 1 mL sphere of every voxel stays inside the grid
    labels[7:11, 8:12, 9:14] = 2
    img[labels == 1] += 5.0
    img[labels == 2] += rng.uniform(8, 12, size=int((labels == 2).sum()))
    return vol.with_array(img), labels


def test_label_statistics_match_single_mask_calls_and_burden() -> None:
    vol, labels = _two_lesion_image()
    stats = label_statistics(vol, labels)
    assert [s.label for s in stats] == [1, 2]
    for s in stats:
        single = lesion_statistics(vol, labels == s.label, label=s.label)
        assert s == single
    burden = tumour_burden(stats)
    # By hand: the totals are the sums of the per-lesion values.
    np.testing.assert_allclose(burden.total_volume_ml, stats[0].volume_ml + stats[1].volume_ml)
    np.testing.assert_allclose(burden.total_lesion_uptake, stats[0].tlg + stats[1].tlg)
    assert burden.n_lesions == 2


@settings(max_examples=25, deadline=None)
@given(
    first=st.integers(1, 60000),
    second=st.integers(1, 60000),
    shift=st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 3)),
)
def test_statistics_invariant_to_renumbering_and_translation(
    first: int, second: int, shift: tuple[int, int, int]
) -> None:
    if first == second:
        second = first + 1
    vol, labels = _two_lesion_image()
    base = label_statistics(vol, labels)
    renumbered = np.zeros_like(labels)
    renumbered[labels == 1] = first
    renumbered[labels == 2] = second
    by_label = {s.label: s for s in label_statistics(vol, renumbered)}
    for old, new in ((1, first), (2, second)):
        a, b = base[old - 1], by_label[new]
        assert (a.volume_ml, a.suvmax, a.suvmean, a.suvpeak, a.centroid_mm) == (
            b.volume_ml,
            b.suvmax,
            b.suvmean,
            b.suvpeak,
            b.centroid_mm,
        )
    # Translation: pad the image (background 0 is never inside a sphere of the lesions because
    # the 1 mL sphere stays inside the original grid) and move the affine origin to compensate.
    pad = [(p, 0) for p in shift]
    moved_img = np.pad(np.asarray(vol.array), pad, constant_values=0.0)
    affine = vol.affine.copy()
    affine[:3, 3] -= vol.affine[:3, :3] @ np.asarray(shift, dtype=float)
    moved = ImageVolume(array=moved_img, affine=affine, unit=vol.unit)
    for a, b in zip(base, label_statistics(moved, np.pad(labels, pad)), strict=True):
        np.testing.assert_allclose(b.centroid_mm, a.centroid_mm, atol=1e-9)
        np.testing.assert_allclose(
            (b.volume_ml, b.suvmax, b.suvmean, b.suvpeak, b.longest_diameter_mm),
            (a.volume_ml, a.suvmax, a.suvmean, a.suvpeak, a.longest_diameter_mm),
            rtol=1e-12,
        )
