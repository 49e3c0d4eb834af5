"""Lesion detection and seed segmentation on the synthetic body phantom (tests/factories.py)."""

from __future__ import annotations

import numpy as np
import pytest

from nenscope.core import GeometryError, NotComputableError
from nenscope.quantification import label_statistics
from nenscope.segmentation import (
    Delineation,
    DetectionSettings,
    ThresholdMethod,
    percist_liver_threshold,
    region_grow_from_seed,
    threshold_lesions,
)
from tests.factories import BodyPhantom, PhantomLesion, make_body_phantom

PHYSIOLOGICAL = ("spleen", "kidney_right", "kidney_left", "bladder")


def _detect(p: BodyPhantom, settings: DetectionSettings | None = None):  # type: ignore[no-untyped-def]
    return threshold_lesions(
        p.suv,
        settings=settings,
        exclude={k: p.organs[k] for k in PHYSIOLOGICAL},
        liver_mask=p.organs["liver"],
        liver_reference=(p.organ_suv["liver"], 0.0),
    )


def test_percist_threshold_by_hand() -> None:
    # Wahl 2009: 1.5 × 2.0 + 2 × 0.3 = 3.6.
    assert percist_liver_threshold(2.0, 0.3) == pytest.approx(3.6, rel=1e-12)
    with pytest.raises(ValueError, match="Liver mean"):
        percist_liver_threshold(0.0, 0.1)


def test_unblurred_phantom_lesions_found_exactly() -> None:
    p = make_body_phantom()
    seg = _detect(p)
    assert seg.n_lesions == len(p.lesions)
    assert seg.liver_threshold == pytest.approx(12.0)  # 1.5 × 8 + 2 × 0
    found = {int(seg.labels[m].max()) for m in p.lesion_masks}
    assert found == set(range(1, len(p.lesions) + 1))
    for mask in p.lesion_masks:
        label = int(np.bincount(seg.labels[mask]).argmax())
        # No blur: the background-corrected 50 % contour is the painted sphere, voxel for voxel.
        np.testing.assert_array_equal(seg.labels == label, mask)
    # Labels are ordered by decreasing SUVmax.
    maxima = [s.suvmax for s in label_statistics(p.suv, seg.labels)]
    assert maxima == sorted(maxima, reverse=True)
    assert seg.labels.dtype == np.uint32
    assert set(seg.excluded_organs) == set(PHYSIOLOGICAL)


@pytest.mark.parametrize("delineation", list(Delineation), ids=str)
def test_blurred_phantom_all_found_no_organ_volume_within_10_percent(
    delineation: Delineation,
) -> None:
    p = make_body_phantom(fwhm_mm=7.0)
    seg = _detect(p, DetectionSettings(delineation=delineation))
    stats = {s.label: s for s in label_statistics(p.suv, seg.labels)}
    assert len(stats) == len(p.lesions)
    for lesion, mask in zip(p.lesions, p.lesion_masks, strict=True):
        label = int(np.bincount(seg.labels[mask]).argmax())
        assert label > 0, f"lesion at {lesion.centre_mm} missed"
        truth_ml = float(mask.sum()) * p.suv.voxel_volume_ml
        if delineation is Delineation.BACKGROUND_CORRECTED and truth_ml >= 5.0:
            # Acceptance: volume within 10 % for lesions >= 5 mL after a 7 mm FWHM blur.
            np.testing.assert_allclose(stats[label].volume_ml, truth_ml, rtol=0.10)
    # No false positive: every reported lesion holds a true lesion, so no organ is reported.
    truth = np.any(np.stack(p.lesion_masks), axis=0)
    for label in stats:
        assert (truth & (seg.labels == label)).any(), f"label {label} is not a true lesion"


def test_threshold_methods() -> None:
    p = make_body_phantom()
    pct = _detect(p, DetectionSettings(method=ThresholdMethod.PERCENT_MAX, percent_of_max=40.0))
    # 40 % of the hottest non-excluded voxel (lesion SUV 30) = 12: the SUV 5 and SUV 12 lesions
    # (not strictly above 12) are lost.
    assert pct.threshold == pytest.approx(12.0)
    assert pct.n_lesions == 2
    percist = _detect(p, DetectionSettings(method=ThresholdMethod.PERCIST_LIVER))
    assert percist.threshold == pytest.approx(12.0)
    with pytest.raises(NotComputableError, match="liver"):
        threshold_lesions(p.suv, settings=DetectionSettings(method=ThresholdMethod.PERCIST_LIVER))
    with pytest.raises(GeometryError, match="shape"):
        threshold_lesions(p.suv, exclude={"x": np.zeros((2, 2, 2), dtype=bool)})


def test_without_liver_adaptation_the_liver_is_one_big_lesion() -> None:
    p = make_body_phantom()
    settings = DetectionSettings(delineation=Delineation.NONE)
    seg = threshold_lesions(
        p.suv, settings=settings, exclude={k: p.organs[k] for k in PHYSIOLOGICAL}
    )
    assert seg.liver_threshold is None
    assert np.count_nonzero(p.organs["liver"] & (seg.labels > 0)) > 0.9 * p.organs["liver"].sum()


def test_settings_validated() -> None:
    with pytest.raises(ValueError, match="percent_of_max"):
        DetectionSettings(percent_of_max=0.0)
    with pytest.raises(ValueError, match="delineation_fraction"):
        DetectionSettings(delineation_fraction=1.0)
    with pytest.raises(ValueError, match="min_volume_ml"):
        DetectionSettings(min_volume_ml=-1.0)


def test_region_grow_from_seed_recovers_sphere() -> None:
    p = make_body_phantom()
    lesion, truth = p.lesions[1], p.lesion_masks[1]
    seed = np.asarray(lesion.centre_mm) + np.array([6.0, 0.0, -4.0])  # off-centre click
    np.testing.assert_array_equal(region_grow_from_seed(p.suv, seed), truth)
    plain = region_grow_from_seed(p.suv, seed, background_corrected=False)
    np.testing.assert_array_equal(plain, truth)
    with pytest.raises(GeometryError, match="outside"):
        region_grow_from_seed(p.suv, (0.0, 0.0, 5000.0))
    with pytest.raises(ValueError, match="fraction"):
        region_grow_from_seed(p.suv, seed, fraction=0.0)


def test_seed_in_a_lesion_at_twice_the_liver_uptake() -> None:
    # Liver 8; a lesion of SUV 16 beside the SUV-30 liver lesion. Starting at 50 % of 16 = 8
    # would take the whole liver (and then the hotter lesion); the 70 % start and the
    # background-corrected iteration (level 8 + 0.5 × 8 = 12) give the painted sphere.
    warm = PhantomLesion(centre_mm=(-95.0, 0.0, 330.0), radius_mm=10.0, suv=16.0, organ="liver")
    p = make_body_phantom(lesions=(*make_body_phantom().lesions, warm))
    region = region_grow_from_seed(p.suv, warm.centre_mm)
    np.testing.assert_array_equal(region, p.lesion_masks[-1])
    blurred = make_body_phantom(lesions=(*make_body_phantom().lesions, warm), fwhm_mm=6.0)
    grown = region_grow_from_seed(blurred.suv, warm.centre_mm)
    truth_ml = float(p.lesion_masks[-1].sum()) * p.suv.voxel_volume_ml
    # Background-corrected 50 % contour of a blurred 4.2 mL sphere: within 15 % of its volume.
    np.testing.assert_allclose(grown.sum() * p.suv.voxel_volume_ml, truth_ml, rtol=0.15)
    assert not (grown & p.lesion_masks[0]).any()  # never reaches the hotter lesion
