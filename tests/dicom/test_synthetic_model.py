"""Tests of the pure phantom model (nenscope.quantification.phantom_model)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nenscope.core.errors import GeometryError, OptionError
from nenscope.core.geometry import affine_from_spacing
from nenscope.quantification.phantom_model import (
    FWHM_PER_SIGMA,
    LesionSpec,
    PhantomModel,
    Region,
    RegionKind,
    Shape,
    ShapeKind,
    Tracer,
    add_pet_noise,
    blur_image,
    build_phantom_model,
    default_lesions,
    sphere_diameter_mm,
)


def _model(*shapes: Shape) -> PhantomModel:
    return PhantomModel(
        regions=tuple(
            Region(name=f"r{i}", kind=RegionKind.ORGAN, shape=sh, hu=0.0, suv=float(i + 1))
            for i, sh in enumerate(shapes)
        )
    )


def test_fine_grid_sphere_volume_converges_to_closed_form() -> None:
    # Closed form 4/3 pi r^3 for r = 10 mm: 4.18879 mL; a 0.5 mm grid digitises it within 1 %.
    sphere = Shape(kind=ShapeKind.ELLIPSOID, centre_mm=(0.3, -0.2, 0.1), radii_mm=(10, 10, 10))
    affine = affine_from_spacing((0.5, 0.5, 0.5), origin_mm=(-12.0, -12.0, -12.0))
    labels = _model(sphere).rasterise(affine, (49, 49, 49))
    volume_ml = np.count_nonzero(labels) * 0.125 / 1000.0
    np.testing.assert_allclose(volume_ml, 4.0 / 3.0 * math.pi * 1000 / 1000.0, rtol=0.01)
    assert sphere.nominal_volume_ml == pytest.approx(4.0 / 3.0 * math.pi, rel=1e-12)


def test_cylinder_contains_and_volume() -> None:
    # Elliptic cylinder x-radius 20, y-radius 10, half length 5: volume pi*20*10*10 mm^3.
    cyl = Shape(kind=ShapeKind.CYLINDER, centre_mm=(0, 0, 0), radii_mm=(20, 10, 5))
    points = np.array([[19.9, 0, 0], [0, 9.9, 4.9], [0, 0, 5.1], [0, 10.1, 0], [14, 7, 0]])
    np.testing.assert_array_equal(cyl.contains(points), [True, True, False, False, True])
    assert cyl.nominal_volume_ml == pytest.approx(math.pi * 20 * 10 * 10 / 1000.0, rel=1e-12)


def test_later_regions_win_and_slices_match_volume() -> None:
    big = Shape(kind=ShapeKind.ELLIPSOID, centre_mm=(0, 0, 0), radii_mm=(8, 8, 8))
    small = Shape(kind=ShapeKind.ELLIPSOID, centre_mm=(0, 0, 0), radii_mm=(3, 3, 3))
    model = _model(big, small)
    affine = affine_from_spacing((1.0, 1.0, 1.0), origin_mm=(-10.0, -10.0, -10.0))
    labels = model.rasterise(affine, (21, 21, 21))
    assert labels[10, 10, 10] == 2  # centre: the later, smaller region
    assert labels[10, 10, 15] == 1  # 5 mm out: only the big one
    assert labels[0, 0, 0] == 0
    np.testing.assert_array_equal(model.rasterise_slice(affine, (21, 21, 21), 10), labels[10])
    np.testing.assert_array_equal(model.suv_table[labels][10, 10, 10], 2.0)


@settings(max_examples=25, deadline=None)
@given(shift=st.integers(-3, 3), origin=st.floats(-50.0, 50.0))
def test_rasterising_is_translation_equivariant(shift: int, origin: float) -> None:
    # Moving the grid origin by whole voxels moves the label map by the same number of voxels.
    sphere = Shape(kind=ShapeKind.ELLIPSOID, centre_mm=(origin, 0, 0), radii_mm=(6, 5, 4))
    model = _model(sphere)
    a = affine_from_spacing((2.0, 2.0, 2.0), origin_mm=(origin - 20.0, -20.0, -20.0))
    b = affine_from_spacing((2.0, 2.0, 2.0), origin_mm=(origin - 20.0 + 2.0 * shift, -20, -20))
    la, lb = model.rasterise(a, (21, 21, 21)), model.rasterise(b, (21, 21, 21))
    assert np.count_nonzero(la) == np.count_nonzero(lb) > 0
    np.testing.assert_array_equal(np.roll(lb, shift, axis=2), la)


def test_oblique_grid_agrees_with_point_test() -> None:
    # A rotated grid: every voxel's label equals the shape's own point test at its centre.
    sphere = Shape(kind=ShapeKind.ELLIPSOID, centre_mm=(1, 2, 3), radii_mm=(7, 5, 6))
    c, s = math.cos(0.4), math.sin(0.4)
    # Columns: LPS directions of the z, y and x array axes (x and y rotated in plane).
    direction = np.array([[0.0, 0.0, 1.0], [-s, c, 0.0], [c, s, 0.0]]).T
    affine = affine_from_spacing((1.5, 1.5, 1.5), origin_mm=(-12, -12, -12), direction=direction)
    labels = _model(sphere).rasterise(affine, (18, 18, 18))
    idx = np.stack(np.meshgrid(*(np.arange(18.0),) * 3, indexing="ij"), axis=-1)
    points = idx @ affine[:3, :3].T + affine[:3, 3]
    np.testing.assert_array_equal(labels == 1, sphere.contains(points))


def test_blur_fwhm_from_second_moment() -> None:
    # A point source blurred with FWHM 8 mm on 1 mm voxels has sigma 8 / 2.3548 = 3.397 mm.
    image = np.zeros((61, 61, 61))
    image[30, 30, 30] = 1.0
    out = blur_image(image, spacing_mm=(1.0, 1.0, 1.0), fwhm_mm=8.0)
    x = np.arange(61) - 30.0
    profile = out.sum(axis=(0, 1))
    sigma = math.sqrt(float((profile * x**2).sum() / profile.sum()))
    np.testing.assert_allclose(sigma, 8.0 / FWHM_PER_SIGMA, rtol=1e-3)
    np.testing.assert_allclose(out.sum(), 1.0, rtol=1e-9)  # far from the edges: mass conserved
    assert image.sum() == 1.0  # input untouched


def test_noise_is_seeded_and_scales_like_counts() -> None:
    flat = np.full((40, 40, 40), 4.0)
    a = add_pet_noise(flat, noise=0.1, rng=np.random.default_rng(1))
    b = add_pet_noise(flat, noise=0.1, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    # SD = noise * sqrt(SUV) = 0.1 * 2 = 0.2; 64 000 samples: relative SE of an SD ~ 0.3 %.
    np.testing.assert_allclose(a.std(), 0.2, rtol=0.02)
    np.testing.assert_array_equal(add_pet_noise(flat, noise=0.0, rng=np.random.default_rng(1)), 4)


@pytest.mark.parametrize("tracer", list(Tracer), ids=str)
def test_default_lesions_lie_in_their_organs(tracer: Tracer) -> None:
    lesions = default_lesions(tracer)
    model = build_phantom_model(tracer, lesions)  # raises if a centre is outside its site
    assert len(model.regions) == 28 + len(lesions)
    volumes = [les.nominal_volume_ml for les in lesions]
    assert min(volumes) == pytest.approx(1.0)
    assert max(volumes) == pytest.approx(28.0)


def test_sstr_lesions_span_krenning_grades() -> None:
    model = build_phantom_model(Tracer.GA68_DOTATATE, default_lesions(Tracer.GA68_DOTATATE))
    by_name = {r.name: r.suv for r in model.regions}
    liver, spleen = by_name["liver"], by_name["spleen"]
    suvs = [les.suv for les in default_lesions(Tracer.GA68_DOTATATE)]
    assert any(v < liver for v in suvs)
    assert any(liver < v < spleen for v in suvs)
    assert any(v > spleen for v in suvs)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: Shape(kind=ShapeKind.ELLIPSOID, centre_mm=(0, 0, 0), radii_mm=(1, 0, 1)),
         GeometryError, "radii"),
        (lambda: Shape(kind=ShapeKind.ELLIPSOID, centre_mm=(0, math.nan, 0), radii_mm=(1, 1, 1)),
         GeometryError, "centre"),
        (lambda: sphere_diameter_mm(-1.0), OptionError, "volume"),
        (lambda: LesionSpec(lesion_id="x", centre_mm=(0, 0, 0), diameter_mm=0, suv=1, site="x"),
         OptionError, "diameter"),
        (lambda: Region(name="r", kind=RegionKind.ORGAN, shape=Shape(
            kind=ShapeKind.ELLIPSOID, centre_mm=(0, 0, 0), radii_mm=(1, 1, 1)), hu=5000, suv=1),
         OptionError, "HU"),
        (lambda: blur_image(np.zeros((2, 2, 2)), spacing_mm=(1, 1, 1), fwhm_mm=-1),
         OptionError, "FWHM"),
    ],
    ids=["radius", "centre", "volume", "diameter", "hu", "fwhm"],
)  # fmt: skip
def test_invalid_model_input_refused(make: object, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        make()  # type: ignore[operator]


def test_duplicate_region_names_refused() -> None:
    sh = Shape(kind=ShapeKind.ELLIPSOID, centre_mm=(0, 0, 0), radii_mm=(1, 1, 1))
    region = Region(name="a", kind=RegionKind.ORGAN, shape=sh, hu=0, suv=1)
    with pytest.raises(OptionError, match="unique"):
        PhantomModel(regions=(region, region))
