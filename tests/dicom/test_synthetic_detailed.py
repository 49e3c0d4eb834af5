"""The detailed phantom anatomy (issue 10): tubes, urinary tract, rings and shells.

A unit-test tool: these tests check that the generator paints what its docstring says (shapes,
connections, uptake and HU), not that any analysis method holds on patients.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage

from nenscope.core.errors import GeometryError, OptionError
from nenscope.core.geometry import affine_from_spacing
from nenscope.dicom._synthetic_settings import settings_from_dict, settings_to_dict
from nenscope.dicom.synthetic import PhantomSettings, grid_spec
from nenscope.quantification.phantom_model import (
    PhantomAnatomy,
    PhantomModel,
    Shape,
    ShapeKind,
    Tracer,
    build_phantom_model,
    default_lesions,
)

STRUCTURES = (
    "white_matter",
    "myocardium",
    "lv_cavity",
    "psoas_right",
    "psoas_left",
    "ureter_right",
    "ureter_left",
    "renal_pelvis_right",
    "renal_pelvis_left",
    "uncinate_process",
    "bowel",
    "thigh_muscle_right",
    "thigh_muscle_left",
)


def _detailed(tracer: Tracer) -> PhantomModel:
    return build_phantom_model(tracer, default_lesions(tracer), anatomy="detailed")


def _region(model: PhantomModel, name: str) -> tuple[float, float]:
    r = model.regions[model.label_of(name) - 1]
    return r.suv, r.hu


def test_tube_contains_bounds_and_volume() -> None:
    # An L-shaped tube of radius 2 mm: (0,0,0) → (10,0,0) → (10,10,0).
    tube = Shape.tube([(0, 0, 0), (10, 0, 0), (10, 10, 0)], 2.0)
    points = np.array(
        [[5.0, 1.9, 0.0], [5.0, 2.1, 0.0], [10.0, 5.0, 1.9], [12.1, 5.0, 0.0], [-1.9, 0.0, 0.0]]
    )
    assert tube.contains(points).tolist() == [True, False, True, False, True]
    lo, hi = tube.bounds_mm
    np.testing.assert_allclose(lo, [-2.0, -2.0, -2.0])
    np.testing.assert_allclose(hi, [12.0, 12.0, 2.0])
    # By hand: pi r^2 (10 + 10) + 4/3 pi r^3 = 80 pi + 32/3 pi mm3 (joint counted twice).
    assert tube.nominal_volume_ml == pytest.approx((80.0 + 32.0 / 3.0) * math.pi / 1000.0)
    assert tube.kind is ShapeKind.TUBE


def test_fine_grid_straight_tube_volume_converges() -> None:
    # A straight tube of radius 5 mm and length 40 mm (+ caps) on a 0.5 mm grid.
    tube = Shape.tube([(0, 0, -20), (0, 0, 20)], 5.0)
    model = PhantomModel(regions=())
    del model
    step = 0.5
    n = (30, 30, 120)  # x, y, z points
    affine = affine_from_spacing((step, step, step), origin_mm=(-7.25, -7.25, -29.75))
    z, y, x = np.meshgrid(*(np.arange(k) for k in n[::-1]), indexing="ij")
    idx = np.stack([z, y, x], axis=-1).astype(np.float64)
    pts = idx @ affine[:3, :3].T + affine[:3, 3]
    volume_ml = float(tube.contains(pts).sum()) * step**3 / 1000.0
    expected = (math.pi * 25.0 * 40.0 + 4.0 / 3.0 * math.pi * 125.0) / 1000.0
    # Voxelisation of a 5 mm radius at 0.5 mm: within 2 %.
    assert volume_ml == pytest.approx(expected, rel=0.02)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": ShapeKind.TUBE, "centre_mm": (0, 0, 0), "radii_mm": (1, 1, 1)}, "path_mm"),
        (
            {
                "kind": ShapeKind.ELLIPSOID,
                "centre_mm": (0, 0, 0),
                "radii_mm": (1, 1, 1),
                "path_mm": ((0, 0, 0), (1, 0, 0)),
            },
            "takes no path_mm",
        ),
        (
            {
                "kind": ShapeKind.TUBE,
                "centre_mm": (0, 0, 0),
                "radii_mm": (1, 2, 1),
                "path_mm": ((0, 0, 0), (1, 0, 0)),
            },
            "one radius",
        ),
    ],
    ids=["tube-without-path", "ellipsoid-with-path", "tube-two-radii"],
)
def test_bad_tubes_refused(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(GeometryError, match=match):
        Shape(**kwargs)  # type: ignore[arg-type]  # deliberately wrong combinations


def test_basic_anatomy_is_unchanged_and_detailed_adds_the_structures() -> None:
    basic = build_phantom_model(Tracer.FDG, ())
    names = [r.name for r in basic.regions]
    # The original 28 regions, in the original order (every existing study depends on them).
    assert len(names) == 28
    assert names[0] == "body_fat"
    assert names[-1] == "femoral_head_left"
    assert not set(STRUCTURES) & set(names)
    detailed = build_phantom_model(Tracer.FDG, (), anatomy=PhantomAnatomy.DETAILED)
    assert set(STRUCTURES) <= {r.name for r in detailed.regions}
    # Paint order: white matter after the brain, the cavity after the myocardium, the
    # ureters before the pelves, the thighs after the femoral heads.
    order = {r.name: i for i, r in enumerate(detailed.regions)}
    assert order["brain"] < order["white_matter"] < order["pituitary"]
    assert order["heart"] < order["myocardium"] < order["lv_cavity"]
    assert order["ureter_right"] < order["renal_pelvis_right"] < order["bladder"]
    assert order["femoral_head_left"] < order["thigh_muscle_right"]
    with pytest.raises(OptionError, match="anatomy"):
        build_phantom_model(Tracer.FDG, (), anatomy="detailled")


def test_detailed_uptake_and_hu_per_tracer() -> None:
    fdg, sstr = _detailed(Tracer.FDG), _detailed(Tracer.GA68_DOTATATE)
    # FDG: avid myocardial wall over a blood-pool cavity and heart; cortex over white matter.
    assert _region(fdg, "myocardium")[0] > 3 * _region(fdg, "lv_cavity")[0]
    assert _region(fdg, "heart")[0] == _region(fdg, "lv_cavity")[0]
    assert _region(fdg, "brain")[0] > 3 * _region(fdg, "white_matter")[0]
    # SSTR: no brain or myocardial avidity; an uncinate focus above the pancreas and below the
    # spleen; urine in the pelves hotter than the renal cortex.
    assert _region(sstr, "brain")[0] < 0.5
    assert _region(sstr, "pancreas")[0] < _region(sstr, "uncinate_process")[0]
    assert _region(sstr, "uncinate_process")[0] < _region(sstr, "spleen")[0]
    assert _region(sstr, "renal_pelvis_right")[0] > _region(sstr, "kidney_right")[0]
    # CT: urine water-dense, muscle and myocardium soft tissue, white below grey matter.
    for name in ("renal_pelvis_left", "ureter_left"):
        assert -10.0 <= _region(sstr, name)[1] <= 20.0
    assert _region(sstr, "psoas_left")[1] == 50.0
    assert _region(sstr, "white_matter")[1] < _region(sstr, "brain")[1]
    # Muscle is mild on FDG (below the liver's 2.2 here) and the bowel below 2 x liver.
    assert _region(fdg, "psoas_right")[0] < _region(fdg, "liver")[0]
    assert _region(fdg, "bowel")[0] < 2 * _region(fdg, "liver")[0]


def test_urinary_tract_is_one_connected_structure_and_bowel_one_loop() -> None:
    model = _detailed(Tracer.GA68_DOTATATE)
    spec = grid_spec("small")  # 4 mm, z -230..150 mm: kidneys to bladder
    labels = model.rasterise(spec.pet_affine, spec.pet_shape)
    urinary = np.isin(
        labels,
        [
            model.label_of(n)
            for n in (
                "renal_pelvis_right",
                "renal_pelvis_left",
                "ureter_right",
                "ureter_left",
                "bladder",
            )
        ],
    )
    _, n = ndimage.label(urinary, np.ones((3, 3, 3), dtype=bool))
    assert n == 1
    # The kidneys join through their pelves: kidneys + urinary tract is one structure too.
    kidneys = np.isin(labels, [model.label_of("kidney_right"), model.label_of("kidney_left")])
    _, n = ndimage.label(urinary | kidneys, np.ones((3, 3, 3), dtype=bool))
    assert n == 1
    bowel = labels == model.label_of("bowel")
    _, n = ndimage.label(bowel, np.ones((3, 3, 3), dtype=bool))
    assert n == 1
    # Meandering loops: 150 mm across and three passes high, long for their volume (longest
    # extent at least twice the diameter of a sphere of the same volume).
    box = ndimage.find_objects(bowel.astype(np.uint8))[0]
    extent_mm = np.array([b.stop - b.start for b in box]) * 4.0
    assert extent_mm[2] >= 150.0
    assert extent_mm[0] >= 50.0
    sphere_mm = (6.0 * bowel.sum() * 64.0 / math.pi) ** (1.0 / 3.0)
    assert extent_mm.max() >= 2.0 * sphere_mm


def test_myocardium_is_a_ring_and_the_cortex_a_shell() -> None:
    model = _detailed(Tracer.FDG)
    # One axial slice at z = 165 mm (the left ventricle's centre) on a 2 mm grid.
    affine = affine_from_spacing((2.0, 2.0, 2.0), origin_mm=(-100.0, -120.0, 165.0))
    ring = model.rasterise_slice(affine, (1, 100, 120), 0)
    wall = ring == model.label_of("myocardium")
    cavity = ring == model.label_of("lv_cavity")
    assert cavity.any()
    # The wall encloses the cavity: filling the wall's holes covers the whole cavity.
    assert (ndimage.binary_fill_holes(wall) & cavity).sum() == cavity.sum()
    # Wall thickness 11 mm along x (semi-axes 35 and 24 mm about x = 35): on the row through
    # the centre (y = -30 mm), lateral of it, x = 60..70 mm: 6 voxels of 2 mm.
    x = -100.0 + 2.0 * np.arange(120)
    assert int(wall[45][x > 35.0].sum()) == 6
    affine = affine_from_spacing((2.0, 2.0, 2.0), origin_mm=(-100.0, -120.0, 500.0))
    head = model.rasterise_slice(affine, (1, 120, 100), 0)
    cortex = head == model.label_of("brain")
    white = head == model.label_of("white_matter")
    assert (ndimage.binary_fill_holes(cortex) & white).sum() == white.sum()


def test_settings_round_trip_and_basic_truth_unchanged() -> None:
    basic = settings_to_dict(PhantomSettings(seed=2))
    assert "anatomy" not in basic  # a basic study's truth.json (and UIDs) as before
    detailed = PhantomSettings(seed=2, anatomy="detailed")
    data = settings_to_dict(detailed)
    assert data["anatomy"] == "detailed"
    assert settings_from_dict(data).anatomy == PhantomAnatomy.DETAILED
    assert settings_from_dict(basic).anatomy == PhantomAnatomy.BASIC
    with pytest.raises(OptionError, match="phantom anatomy"):
        PhantomSettings(anatomy="full")
