"""detect_lesions: physiological uptake kept out (segmentation/physiology.py)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy import ndimage

from nenscope.core import ImageVolume
from nenscope.segmentation import (
    DetectionSettings,
    LesionDetection,
    PhysiologySettings,
    detect_lesions,
    place_reference_regions,
)
from tests.factories import (
    SSTR_ORGANS,
    BodyPhantom,
    OrganSpec,
    PhantomLesion,
    make_body_phantom,
)

EXTRA_ORGANS = (
    OrganSpec(
        name="adrenal_right", centre_mm=(-45, 62, 272), semi_axes_mm=(8, 8, 14), suv=10, hu=20
    ),
    OrganSpec(
        name="adrenal_left", centre_mm=(45, 62, 272), semi_axes_mm=(8, 8, 14), suv=10, hu=20
    ),
    OrganSpec(
        name="gland_right", centre_mm=(-60, -20, 450), semi_axes_mm=(12, 18, 20), suv=4.5, hu=20
    ),
    OrganSpec(
        name="gland_left", centre_mm=(60, -20, 450), semi_axes_mm=(12, 18, 20), suv=4.5, hu=20
    ),
)


def _phantom() -> BodyPhantom:
    return make_body_phantom(
        organs=SSTR_ORGANS + EXTRA_ORGANS,
        fwhm_mm=7.0,
        noise_cv=0.1,
        rng=np.random.default_rng(11),
    )


def _assert_lesions_exactly_found(p: BodyPhantom, det: LesionDetection) -> None:
    assert det.n_lesions == len(p.lesions)
    for lesion, mask in zip(p.lesions, p.lesion_masks, strict=True):
        assert (det.labels[mask] > 0).any(), f"lesion at {lesion.centre_mm} missed"
    truth = np.any(np.stack(p.lesion_masks), axis=0)
    for label in range(1, det.n_lesions + 1):
        assert (truth & (det.labels == label)).any(), f"label {label} is not a true lesion"


def test_automatic_rules_keep_organs_out_and_find_every_lesion() -> None:
    p = _phantom()
    refs = place_reference_regions(p.suv, p.ct)
    det = detect_lesions(p.suv, references=refs)
    _assert_lesions_exactly_found(p, det)
    assert det.method == "automatic"
    organs = sorted(d.organ for d in det.physiological)
    # Kidneys and bladder by size; the paired glands and the adrenals by the mirror rule.
    assert organs.count("kidney") == 2
    assert "urinary bladder" in organs
    paired = [d for d in det.physiological if "mirror" in d.reason]
    assert len(paired) >= 2
    assert any("SUV 12.00" in n or "inside the liver" in n for n in det.notes)
    assert det.labels.dtype == np.uint32


def test_given_organ_masks_are_excluded() -> None:
    p = _phantom()
    refs = place_reference_regions(p.suv, p.ct)
    names = (
        "liver",
        "spleen",
        "kidney_right",
        "kidney_left",
        "bladder",
        "adrenal_right",
        "adrenal_left",
        "gland_right",
        "gland_left",
    )
    det = detect_lesions(p.suv, references=refs, organ_masks={k: p.organs[k] for k in names})
    _assert_lesions_exactly_found(p, det)
    assert det.method == "organ masks"
    assert det.physiological == ()
    assert det.liver_mask is not None


def test_rules_can_be_tuned_and_work_without_references() -> None:
    p = make_body_phantom()
    # Without references there is no liver threshold: the liver and its lesion form one
    # candidate, whose background-corrected contour keeps only the lesion (liver 8, lesion 30:
    # level 19); the spleen is dropped by the size rule (used only without an organ estimate).
    bare = detect_lesions(p.suv)
    assert any("no organ estimate" in n for n in bare.notes)
    _assert_lesions_exactly_found(p, bare)
    assert any(d.volume_ml > 300 for d in bare.physiological)  # spleen, 364 mL
    huge = detect_lesions(
        p.suv,
        references=place_reference_regions(p.suv, p.ct),
        physiology=PhysiologySettings(organ_min_ml=1e6, pair_distance_mm=0.0),
        settings=DetectionSettings(),
    )
    # With the organ-sized position rules and the pair rule off, the kidneys come back as
    # "lesions" (the bladder rule has no size limit and still drops the bladder).
    assert huge.n_lesions >= len(p.lesions) + 2


@pytest.mark.parametrize("spacing", [(4.0, 4.0, 4.0), (3.0, 2.5, 2.5)], ids=["4mm", "aniso"])
def test_automatic_detection_on_other_grids(spacing: tuple[float, float, float]) -> None:
    p = make_body_phantom(spacing_mm=spacing, fwhm_mm=6.0)
    det = detect_lesions(p.suv, references=place_reference_regions(p.suv, p.ct))
    _assert_lesions_exactly_found(p, det)


def test_kidney_touching_the_liver_does_not_pull_the_liver_into_a_lesion() -> None:
    organs = tuple(
        replace(o, centre_mm=(-75.0, 45.0, 245.0)) if o.name == "kidney_right" else o
        for o in SSTR_ORGANS
    )
    p = make_body_phantom(organs=organs)
    assert (ndimage.binary_dilation(p.organs["kidney_right"]) & p.organs["liver"]).any()
    det = detect_lesions(p.suv, references=place_reference_regions(p.suv, p.ct))
    _assert_lesions_exactly_found(p, det)
    # The kidney (SUV 14 > 2.5) was a candidate; its 50 % contour (level ~7.4 < liver 8) must
    # not spread into the liver, whose own threshold is 12.
    assert not (det.segmentation.labels.astype(bool) & p.organs["liver"]).any()


def test_threshold_options_accept_strings() -> None:
    p = make_body_phantom()
    refs = place_reference_regions(p.suv, p.ct)
    det = detect_lesions(
        p.suv,
        references=refs,
        settings=DetectionSettings(method="liver-fraction", delineation="background-corrected"),  # type: ignore[arg-type]  # strings on purpose
    )
    # By hand: 0.5 × liver mean 8.0 = 4.0; every phantom lesion (SUV >= 5) is above it.
    assert det.segmentation.threshold == pytest.approx(4.0)
    _assert_lesions_exactly_found(p, det)
    with pytest.raises(ValueError, match="liver_fraction"):
        DetectionSettings(liver_fraction=0.0)


def _flip(volume: ImageVolume, axes: tuple[int, ...]) -> ImageVolume:
    """Same image stored with reversed array axes (e.g. slices stored head first)."""
    affine = volume.affine.copy()
    for ax in axes:
        n = volume.shape[ax]
        affine[:3, 3] += affine[:3, ax] * (n - 1)
        affine[:3, ax] *= -1.0
    return ImageVolume(
        array=np.flip(volume.array, axis=axes).copy(), affine=affine, unit=volume.unit
    )


def test_detection_and_references_do_not_depend_on_array_order() -> None:
    p = make_body_phantom(fwhm_mm=6.0)
    refs = place_reference_regions(p.suv, p.ct)
    det = detect_lesions(p.suv, references=refs)
    axes = (0, 2)
    suv_f, ct_f = _flip(p.suv, axes), _flip(p.ct, axes)
    refs_f = place_reference_regions(suv_f, ct_f)
    det_f = detect_lesions(suv_f, references=refs_f)
    for name in ("liver", "spleen", "blood_pool"):
        a, b = getattr(refs, name), getattr(refs_f, name)
        assert a is not None
        assert b is not None
        # Same voxels in patient space -> same statistics; the blurred phantom's values were
        # computed by FFT-free filters in another memory order, hence 1e-9, not 1e-12.
        np.testing.assert_allclose(b.mean, a.mean, rtol=1e-9)
        np.testing.assert_allclose(b.centre_mm, a.centre_mm, atol=1e-9)
    assert det_f.n_lesions == det.n_lesions
    np.testing.assert_array_equal(np.flip(det_f.labels, axis=axes) > 0, det.labels > 0)


def test_node_at_the_renal_hilum_is_kept_and_adrenal_dropped() -> None:
    node = PhantomLesion(centre_mm=(-30.0, 40.0, 200.0), radius_mm=8.0, suv=11.0, organ="node")
    p = make_body_phantom(
        organs=SSTR_ORGANS + EXTRA_ORGANS[1:2],  # left adrenal only: no mirror partner
        lesions=(*make_body_phantom().lesions, node),
        fwhm_mm=5.0,
    )
    det = detect_lesions(p.suv, references=place_reference_regions(p.suv, p.ct))
    # The node is medial (30 mm from the midline) at mid-kidney height: not an adrenal.
    _assert_lesions_exactly_found(p, det)
    adrenal = [d for d in det.physiological if "adrenal" in d.reason]
    assert len(adrenal) == 1
    np.testing.assert_allclose(adrenal[0].centroid_mm, (45.0, 62.0, 272.0), atol=4.0)


def test_large_lesion_outside_the_liver_is_kept_and_a_small_bladder_is_dropped() -> None:
    # A 150 mL mass (radius 33 mm: 4/3 pi 33^3 = 150.5 mL) at SUV 15, anterior and right of
    # the midline below the liver, was once dropped by "larger than 100 mL outside the liver";
    # a 24 mL bladder (radius 18 mm) at SUV 40 was once kept as a lesion. Organs are now named
    # by position: the mass is neither midline (bladder), paravertebral (kidney), above the
    # liver dome (heart) nor in the head (brain).
    organs = tuple(
        replace(o, semi_axes_mm=(18.0, 18.0, 18.0)) if o.name == "bladder" else o
        for o in SSTR_ORGANS
    )
    mass = PhantomLesion(centre_mm=(-60, -60, 130), radius_mm=33.0, suv=15.0, organ="soft_tissue")
    p = make_body_phantom(organs=organs, lesions=(mass,), fwhm_mm=7.0)
    det = detect_lesions(p.suv, references=place_reference_regions(p.suv, p.ct))
    _assert_lesions_exactly_found(p, det)
    volume_ml = float((det.labels == 1).sum()) * p.suv.voxel_volume_ml
    truth_ml = float(p.lesion_masks[0].sum()) * p.suv.voxel_volume_ml
    # Background-corrected 50 % contour of a blurred sphere: within 10 % of the painted volume.
    assert volume_ml == pytest.approx(truth_ml, rel=0.10)
    named = {d.organ for d in det.physiological}
    assert {"urinary bladder", "kidney"} <= named, det.physiological


def test_bladder_rule_needs_water_density_where_the_ct_covers_it() -> None:
    # The same hot midline pelvic structure is the bladder at 10 HU (urine) and not at 45 HU
    # (soft tissue: a mass), where the CT covers it.
    organs = tuple(replace(o, hu=45.0) if o.name == "bladder" else o for o in SSTR_ORGANS)
    p = make_body_phantom(organs=organs, lesions=())
    det = detect_lesions(p.suv, references=place_reference_regions(p.suv, p.ct))
    assert "urinary bladder" not in {d.organ for d in det.physiological}
    assert det.n_lesions == 1


def test_sstr_urinary_tract_rules_keep_the_hilum_node() -> None:
    # Issue 10 (d): the kidney and ureter rules run on SSTR too. A ureter segment (a thin
    # ellipsoid, SUV 12, 10 mm below the right kidney's lower pole: peristalsis leaves gaps)
    # is tubular uptake continuing the urinary tract; the node at the renal hilum (medial,
    # mid-kidney height, SUV 11) is kept.
    ureter = OrganSpec(
        name="ureter_right", centre_mm=(-55, 20, 117), semi_axes_mm=(5, 5, 17.5), suv=12, hu=10
    )
    node = PhantomLesion(centre_mm=(-30.0, 40.0, 200.0), radius_mm=8.0, suv=11.0, organ="node")
    p = make_body_phantom(
        organs=(*SSTR_ORGANS, ureter),
        lesions=(*make_body_phantom().lesions, node),
        fwhm_mm=5.0,
    )
    refs = place_reference_regions(p.suv, p.ct)
    sstr = detect_lesions(p.suv, references=refs, tracer="sstr")
    _assert_lesions_exactly_found(p, sstr)
    reasons = [d.reason for d in sstr.physiological]
    assert any("continuing the urinary tract (ureter)" in r for r in reasons), reasons
    # The kidney rule of the anatomy runs on SSTR (the left kidney, touching the spleen here,
    # may be named by the organ-position rule instead).
    assert any("with its collecting system (kidney)" in r for r in reasons), reasons
    # Without the urinary-tract rules (tracer family "other") the ureter segment is a
    # candidate: the rule, not something else, keeps it out on SSTR.
    other = detect_lesions(p.suv, references=refs, tracer="other")
    ureter_mask = p.organs["ureter_right"]
    assert (other.labels[ureter_mask] > 0).any()
    assert not (sstr.labels[ureter_mask] > 0).any()


def test_anatomy_from_the_organ_estimates_ct_body_is_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # locate_anatomy reuses the organ estimate's PET outline, and its CT body outline where
    # the CT covers every slice with body (here all but the empty end slices), instead of
    # outlining them again: every mask, landmark and source stays the same.
    from nenscope.segmentation import anatomy
    from nenscope.segmentation.anatomy import locate_anatomy

    def _not_called(*args: object) -> None:
        raise AssertionError("pet_body called again")

    p = _phantom()
    organs = place_reference_regions(p.suv, p.ct).organs
    assert organs is not None
    assert organs.body_from_ct
    assert organs.ct_on_pet is not None
    ct = np.asarray(organs.ct_on_pet.array)
    common = {"liver": organs.liver, "smooth": organs.smooth}
    assert organs.pet_body is not None
    with monkeypatch.context() as patch:
        # Given the organ estimate, the PET outline is not found again.
        patch.setattr(anatomy, "pet_body", _not_called)
        reused = locate_anatomy(p.suv, ct, organs=organs, **common)
    assert reused.ct_slices.any()
    assert not reused.ct_slices.all()
    again = locate_anatomy(p.suv, ct, **common)
    assert np.array_equal(reused.body, again.body)
    assert reused.body is not organs.body
    assert sorted(reused.masks) == sorted(again.masks)
    for name, mask in again.masks.items():
        assert np.array_equal(reused.masks[name], mask), name
    assert reused.landmarks_z_mm == again.landmarks_z_mm
    assert reused.sources == again.sources
