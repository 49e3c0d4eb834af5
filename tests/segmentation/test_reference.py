"""Reference regions, organ estimate and resampling (segmentation/reference.py, organs.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nenscope.core import (
    EmptyRegionError,
    GeometryError,
    ImageVolume,
    NotComputableError,
    Unit,
    affine_from_spacing,
)
from nenscope.segmentation import (
    PlacementMethod,
    estimate_organs,
    is_axial,
    place_reference_regions,
    reference_region_from_mask,
    reference_region_from_point,
    resample_to,
)
from tests.factories import grid, lps_coordinates, make_body_phantom, sphere_mask


def test_point_region_on_uniform_image() -> None:
    suv = grid((30, 30, 30), (2.0, 2.0, 2.0), fill=4.0)
    region = reference_region_from_point(suv, (30.0, 30.0, 30.0), radius_mm=15.0, sul_factor=0.75)
    truth = sphere_mask(suv, (30.0, 30.0, 30.0), 15.0)
    np.testing.assert_array_equal(region.mask, truth)
    # By hand: uniform 4 -> mean 4, SD 0; SUL = 0.75 × 4.
    assert (region.mean, region.sd, region.suvmax, region.sul_mean) == (4.0, 0.0, 4.0, 3.0)
    assert region.method is PlacementMethod.POINT
    assert region.n_voxels == int(truth.sum())
    # Digitised 30 mm sphere at 2 mm spacing vs 4/3 π 15³ = 14.14 mL: within 3 %.
    np.testing.assert_allclose(
        region.n_voxels * suv.voxel_volume_ml, 4 / 3 * math.pi * 15**3 / 1000, rtol=0.03
    )
    with pytest.raises(EmptyRegionError, match="no voxel"):
        reference_region_from_point(suv, (500.0, 0.0, 0.0))


def test_mask_region_and_errors() -> None:
    suv = grid((4, 4, 4), (1.0, 1.0, 1.0))
    img = np.arange(64, dtype=float).reshape(4, 4, 4)
    mask = np.zeros((4, 4, 4), dtype=bool)
    mask[0, 0, :2] = True  # values 0 and 1
    region = reference_region_from_mask(suv.with_array(img), mask, name="spleen")
    # By hand: mean 0.5, population SD 0.5, centroid index (0, 0, 0.5) -> LPS (0.5, 0, 0).
    assert (region.mean, region.sd, region.suvmax, region.sul_mean) == (0.5, 0.5, 1.0, None)
    assert region.centre_mm == (0.5, 0.0, 0.0)
    assert region.method is PlacementMethod.MASK
    with pytest.raises(GeometryError, match="shape"):
        reference_region_from_mask(suv, np.ones((2, 2, 2), dtype=bool))
    with pytest.raises(EmptyRegionError):
        reference_region_from_mask(suv, np.zeros((4, 4, 4), dtype=bool))


def test_automatic_placement_exact_without_blur() -> None:
    p = make_body_phantom()
    refs = place_reference_regions(p.suv, p.ct, sul_factor=0.8)
    assert refs.liver is not None
    assert refs.spleen is not None
    assert refs.blood_pool is not None
    for region, organ in (
        (refs.liver, "liver"),
        (refs.spleen, "spleen"),
        (refs.blood_pool, "aorta"),
    ):
        assert region.method is PlacementMethod.AUTOMATIC
        assert not (region.mask & ~p.organs[organ]).any(), f"{organ} region leaves the organ"
    # Unblurred uniform organs: the means are the painted SUVs exactly.
    assert (refs.liver.mean, refs.spleen.mean, refs.blood_pool.mean) == (8.0, 22.0, 1.5)
    assert refs.liver.sul_mean == pytest.approx(6.4, rel=1e-12)
    # Right lobe: the liver sphere is on the lateral (patient-right, -x) half of the liver.
    xs = np.broadcast_to(lps_coordinates(p.suv)[0], p.suv.shape)
    assert refs.liver.centre_mm[0] <= float(np.median(xs[p.organs["liver"]]))
    # PERCIST sizes: 30 mm sphere; 10 mm × 20 mm cylinder (4 mm voxels: 30 of them).
    assert refs.liver.n_voxels == int(sphere_mask(p.suv, refs.liver.centre_mm, 15.0).sum())
    assert "cylinder 10 mm × 20 mm" in refs.blood_pool.description


def test_automatic_placement_within_5_percent_blurred_noisy() -> None:
    p = make_body_phantom(fwhm_mm=7.0, noise_cv=0.15, rng=np.random.default_rng(7))
    refs = place_reference_regions(p.suv, p.ct)
    assert refs.liver is not None
    assert refs.spleen is not None
    assert refs.blood_pool is not None
    # Acceptance: reference means within 5 % of the painted organ SUV.
    np.testing.assert_allclose(refs.liver.mean, 8.0, rtol=0.05)
    np.testing.assert_allclose(refs.spleen.mean, 22.0, rtol=0.05)
    np.testing.assert_allclose(refs.blood_pool.mean, 1.5, rtol=0.05)


def test_without_ct_blood_pool_is_missing_with_reason_and_points_override() -> None:
    p = make_body_phantom()
    refs = place_reference_regions(p.suv)
    assert refs.blood_pool is None
    assert any("needs the CT" in n for n in refs.notes)
    given = place_reference_regions(
        p.suv,
        points={"blood_pool": (25.0, 40.0, 300.0), "liver": (-70.0, -10.0, 310.0)},
        masks={"spleen": p.organs["spleen"]},
    )
    assert given.blood_pool is not None
    assert given.liver is not None
    assert given.spleen is not None
    assert given.blood_pool.method is PlacementMethod.POINT
    assert given.blood_pool.mean == 1.5
    assert given.liver.method is PlacementMethod.POINT
    assert given.spleen.method is PlacementMethod.MASK
    assert given.organs is None  # nothing automatic was needed
    with pytest.raises(ValueError, match="Unknown reference region"):
        place_reference_regions(p.suv, points={"lung": (0.0, 0.0, 0.0)})


def test_estimate_organs_masks_lie_in_the_organs() -> None:
    p = make_body_phantom(fwhm_mm=6.0)
    est = estimate_organs(p.suv, p.ct)
    assert est.liver is not None
    assert est.spleen is not None
    # Blurred edges make the estimate slightly smaller or larger; 90 % overlap both ways.
    for mine, organ in ((est.liver, "liver"), (est.spleen, "spleen")):
        truth = p.organs[organ] | np.any(np.stack(p.lesion_masks), axis=0) & p.organs["liver"]
        inter = np.count_nonzero(mine & (truth | p.organs[organ]))
        assert inter >= 0.9 * mine.sum()
        assert inter >= 0.85 * p.organs[organ].sum()
    assert abs(est.midline_x_mm) < 4.0


def test_resample_linear_ramp_is_exact_and_frames_checked() -> None:
    fine = grid((40, 40, 40), (1.0, 1.0, 1.0), origin_mm=(-20.0, -20.0, -20.0), unit=Unit.HU)
    x, y, z = lps_coordinates(fine)
    ramp = fine.with_array(np.broadcast_to(2.0 * x - 3.0 * y + 0.5 * z, fine.shape).copy())
    coarse = grid((8, 9, 10), (3.0, 2.5, 2.0), origin_mm=(-9.0, -10.0, -11.0))
    out = resample_to(ramp, coarse)
    cx, cy, cz = lps_coordinates(coarse)
    # Trilinear interpolation reproduces a linear function exactly inside the grid.
    expected = np.broadcast_to(2.0 * cx - 3.0 * cy + 0.5 * cz, coarse.shape)
    np.testing.assert_allclose(np.asarray(out.array, dtype=float), expected, atol=1e-9)
    assert out.unit is Unit.HU
    assert out.same_grid(coarse)
    same = resample_to(ramp, ramp)
    np.testing.assert_array_equal(same.array, ramp.array)
    cubic = resample_to(ramp, coarse, order=3)
    np.testing.assert_allclose(
        np.asarray(cubic.array, dtype=float), np.asarray(out.array, dtype=float), atol=1e-6
    )
    a = ImageVolume(
        array=np.zeros((2, 2, 2)), affine=np.eye(4), unit=Unit.HU, frame_of_reference_uid="1.2.3"
    )
    b = ImageVolume(
        array=np.zeros((2, 2, 2)), affine=np.eye(4), unit=Unit.HU, frame_of_reference_uid="1.2.4"
    )
    with pytest.raises(GeometryError, match="frames of reference"):
        resample_to(a, b)
    with pytest.raises(ValueError, match="order"):
        resample_to(a, a, order=7)


def test_is_axial() -> None:
    axial = ImageVolume(
        array=np.zeros((2, 2, 2)), affine=affine_from_spacing((2, 1, 1)), unit=Unit.HU
    )
    sagittal_dirs = np.array([[1.0, 0, 0], [0, 1, 0], [0, 0, 1]])  # array z runs along x
    sagittal = ImageVolume(
        array=np.zeros((2, 2, 2)),
        affine=affine_from_spacing((2, 1, 1), direction=sagittal_dirs),
        unit=Unit.HU,
    )
    assert is_axial(axial)
    assert not is_axial(sagittal)
    with pytest.raises(NotComputableError, match="axial"):
        place_reference_regions(sagittal.with_array(np.ones((2, 2, 2))), sagittal)


def test_resample_stored_dtype_equals_float64_reference_on_rotated_grid() -> None:
    # Orders 0/1 read the stored (float32/int16) source directly, plane by plane: the result
    # must equal map_coordinates on the whole float64 volume, outside points taking cval.
    from scipy import ndimage

    rng = np.random.default_rng(5)
    stored = rng.normal(0.0, 300.0, (30, 40, 50))
    angle = 0.15
    rotation = np.eye(4)
    rotation[1:3, 1:3] = [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
    coarse = ImageVolume(
        array=np.zeros((25, 20, 20)),
        affine=affine_from_spacing((2.0, 3.0, 3.0), origin_mm=(-10.0, -5.0, -20.0)) @ rotation,
        unit=Unit.SUV_BW,
    )
    for dtype in (np.float32, np.int16):
        source = ImageVolume(
            array=stored.astype(dtype),
            affine=affine_from_spacing((1.5, 1.0, 1.0), origin_mm=(-3.0, 2.0, -4.0)),
            unit=Unit.HU,
        )
        mapping = np.linalg.inv(source.affine) @ coarse.affine
        index = np.indices(coarse.shape).reshape(3, -1)
        points = mapping[:3, :3] @ index + mapping[:3, 3:]
        for order in (0, 1):
            expected = ndimage.map_coordinates(
                np.asarray(source.array, dtype=np.float64),
                points,
                order=order,
                mode="constant",
                cval=-1000.0,
            ).reshape(coarse.shape)
            out = resample_to(source, coarse, order=order, cval=-1000.0)
            np.testing.assert_array_equal(np.asarray(out.array), expected)
            assert np.asarray(out.array).dtype == np.float64
            assert (expected == -1000.0).any()  # part of the grid lies outside the source


def test_ct_slice_coverage_from_geometry_matches_resampling() -> None:
    from nenscope.segmentation.organs import _covered_slices

    pet = ImageVolume(
        array=np.zeros((40, 30, 30)),
        affine=affine_from_spacing((2.0, 3.0, 3.0), origin_mm=(-20.0, -30.0, -30.0)),
        unit=Unit.SUV_BW,
    )
    for n_slices, z0 in ((10, 0.0), (25, -31.0), (60, -50.0), (5, 100.0)):
        ct = ImageVolume(
            array=np.zeros((n_slices, 64, 64), dtype=np.float32),
            affine=affine_from_spacing((1.5, 1.0, 1.0), origin_mm=(z0, -30.0, -30.0)),
            unit=Unit.HU,
        )
        ones = resample_to(ct.with_array(np.ones(ct.shape)), pet, order=0, cval=0.0)
        expected = float(np.mean(np.asarray(ones.array).any(axis=(1, 2))))
        assert _covered_slices(ct, pet) == pytest.approx(expected), (n_slices, z0)


# ------------------------------------------------- fast internals against the plain formulas


@pytest.mark.parametrize("oblique", [False, True], ids=["axial", "oblique"])
def test_sphere_mask_equals_the_whole_grid_formula(oblique: bool) -> None:
    from nenscope.segmentation.organs import lps_axes
    from nenscope.segmentation.reference import sphere_mask_mm

    rng = np.random.default_rng(7)
    for _ in range(60):
        affine = affine_from_spacing(
            tuple(rng.uniform(0.5, 4.0, 3)), origin_mm=tuple(rng.uniform(-50, 50, 3))
        )
        if oblique:
            t = rng.uniform(0.1, 1.0)
            rot = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
            affine[:3, :3] = rot @ affine[:3, :3]
        volume = ImageVolume(array=np.zeros((20, 25, 30)), affine=affine, unit=Unit.HU)
        centre, radius = rng.uniform(-80, 120, 3), float(rng.uniform(0.0, 40.0))
        x, y, z = lps_axes(volume)
        # The definition, evaluated on every voxel.
        expected = (x - centre[0]) ** 2 + (y - centre[1]) ** 2 + (z - centre[2]) ** 2
        np.testing.assert_array_equal(
            sphere_mask_mm(volume, centre, radius), expected <= radius**2
        )


def test_placement_convolution_is_scipy_fftconvolve_exactly() -> None:
    from scipy import signal

    from nenscope.segmentation.reference import _ball, _convolve_same

    rng = np.random.default_rng(3)
    kernel = _ball((3.0, 2.0, 2.5), 15.0)
    for shape in [(37, 50, 61), (20, 33, 18), (5, 5, 5)]:
        image = rng.random(shape) * 5.0
        mean, square = _convolve_same(image, image * image, kernel=kernel)
        np.testing.assert_array_equal(mean, signal.fftconvolve(image, kernel, mode="same"))
        np.testing.assert_array_equal(
            square, signal.fftconvolve(image * image, kernel, mode="same")
        )


def test_bounding_box_equals_find_objects() -> None:
    from scipy import ndimage

    from nenscope.segmentation._labels import bounding_box

    rng = np.random.default_rng(5)
    for _ in range(20):
        mask = rng.random((9, 11, 13)) > 0.97
        if not mask.any():
            continue
        assert bounding_box(mask) == ndimage.find_objects(mask.astype(np.uint8))[0]
    with pytest.raises(ValueError, match="at least one True"):
        bounding_box(np.zeros((2, 2, 2), dtype=bool))


def test_blood_pool_placed_from_the_lungs_when_the_liver_is_given_not_estimated() -> None:
    # Issue 10: with --liver-mm on a study whose liver estimate is not used (FDG, raised arms),
    # the blood pool said "the liver ... was not found" although the liver was given. The CT
    # lung bases mark the lower thorax then.
    from nenscope.segmentation import OrganSettings, PlacementSettings

    p = make_body_phantom()
    liver_point = tuple(
        float(np.broadcast_to(a, p.suv.shape)[p.organs["liver"]].mean())
        for a in lps_coordinates(p.suv)
    )
    no_liver = PlacementSettings(organs=OrganSettings(max_liver_volume_ml=1.0))
    refs = place_reference_regions(p.suv, p.ct, points={"liver": liver_point}, settings=no_liver)
    assert refs.organs is not None
    assert refs.organs.liver is None  # the estimate was rejected ...
    assert refs.liver is not None
    assert refs.liver.method is PlacementMethod.POINT  # ... the user's point was used
    assert refs.blood_pool is not None, refs.notes
    assert not (refs.blood_pool.mask & ~p.organs["aorta"]).any()
    assert not any("liver" in n and "not found" in n for n in refs.notes)
