"""extract_features contract and the registry (STYLE 4.8, 9.5)."""

from __future__ import annotations

import numpy as np
import pytest

from nenscope import __version__
from nenscope.core import ImageVolume, Unit, affine_from_spacing
from nenscope.core.errors import EmptyRegionError, GeometryError, UnitError
from nenscope.radiomics.extract import extract_features
from nenscope.radiomics.registry import FEATURES, Family, features_of
from nenscope.radiomics.settings import Approach, load_settings


def _volume() -> tuple[ImageVolume, np.ndarray]:
    rng = np.random.default_rng(7)
    array = rng.integers(1, 7, size=(10, 12, 12)).astype(np.float64)
    mask = np.zeros(array.shape, dtype=bool)
    mask[3:7, 3:9, 2:10] = True
    return ImageVolume(
        array=array, affine=affine_from_spacing((2.0, 1.0, 1.0)), unit=Unit.HU
    ), mask


@pytest.mark.parametrize("approach", list(Approach))
def test_every_registered_feature_is_computed(approach: Approach) -> None:
    image, mask = _volume()
    settings = load_settings("ibsi-phantom")
    settings = type(settings)(approach=approach)
    result = extract_features(image, mask, settings)
    keys = set(result.features)
    bases = {k.split("_")[0] for k in keys} | keys
    missing = [f.ibsi_id for f in FEATURES if f.ibsi_id and f.ibsi_id not in bases]
    assert missing == []
    assert all(isinstance(v, float) for v in result.features.values())


def test_registry_is_unique_and_complete() -> None:
    names = [f.name for f in FEATURES]
    assert len(names) == len(set(names))
    per_family = {fam: len(features_of(fam)) for fam in Family}
    # IBSI 1 counts: morphology 29 (25 with reference values; OMBB/MVEE not computed),
    # local intensity 2, statistics 18, histogram 23, IVH 7 here (V10, V90, I10, I90, two
    # differences, AUC), GLCM 25, GLRLM 16, GLSZM 16, GLDZM 16, NGTDM 5, NGLDM 17.
    assert per_family == {
        Family.MORPHOLOGY: 25,
        Family.LOCAL_INTENSITY: 2,
        Family.STATISTICS: 18,
        Family.INTENSITY_HISTOGRAM: 23,
        Family.IVH: 7,
        Family.GLCM: 25,
        Family.GLRLM: 16,
        Family.GLSZM: 16,
        Family.GLDZM: 16,
        Family.NGTDM: 5,
        Family.NGLDM: 17,
    }


def test_contract_carries_settings_and_version() -> None:
    image, mask = _volume()
    result = extract_features(
        image, mask, load_settings("ibsi-phantom"), families=[Family.STATISTICS]
    )
    contract = result.to_contract()
    assert set(contract) == {"features", "settings", "version"}
    assert contract["version"] == __version__
    assert contract["settings"]["name"] == "ibsi-phantom"
    # Hand check: statistics of the ROI values.
    np.testing.assert_allclose(contract["features"]["Q4LE"], image.array[mask].mean(), rtol=1e-12)


def test_inputs_are_not_mutated() -> None:
    image, mask = _volume()
    before, mask_before = image.array.copy(), mask.copy()
    extract_features(image, mask, load_settings("ct-hu"))
    np.testing.assert_array_equal(image.array, before)
    np.testing.assert_array_equal(mask, mask_before)


def test_mask_shape_must_match() -> None:
    image, mask = _volume()
    with pytest.raises(GeometryError, match="differs from the image shape"):
        extract_features(image, mask[:-1], load_settings("ibsi-phantom"))


def test_empty_mask_is_refused() -> None:
    image, mask = _volume()
    with pytest.raises(EmptyRegionError):
        extract_features(image, np.zeros_like(mask), load_settings("ibsi-phantom"))


@pytest.mark.parametrize("approach", list(Approach))
def test_degenerate_rois_give_values_or_reasons(approach: Approach) -> None:
    image, _ = _volume()
    settings = type(load_settings("ibsi-phantom"))(approach=approach)
    one = np.zeros(image.shape, dtype=bool)
    one[5, 5, 5] = True
    result = extract_features(image, one, settings)
    # One voxel: no neighbours, so the texture matrices are empty; the reason is recorded
    # and the other families are still there.
    assert "glcm" in result.not_computable
    assert "neighbour" in result.not_computable["glcm"]
    assert result.features["YEKZ"] == pytest.approx(2.0)
    assert result.features["Q4LE"] == image.array[5, 5, 5]
    assert "not_computable" in result.to_contract()
    two = np.zeros(image.shape, dtype=bool)
    two[5, 5, 5:7] = True
    pair = extract_features(image, two, settings)
    assert pair.not_computable == {}
    # Two voxels: nothing lies strictly inside (P10, P90) unless both values are equal.
    values = image.array[two]
    if values[0] != values[1]:
        assert np.isnan(pair.features["1128"])


def test_unit_of_the_settings_is_checked() -> None:
    image, mask = _volume()  # HU
    with pytest.raises(UnitError, match="g/mL"):
        extract_features(image, mask, load_settings("pet-suv"))
    # Unknown unit (plain NIfTI) passes; the matching unit passes.
    unknown = ImageVolume(array=image.array, affine=image.affine, unit=Unit.UNITLESS)
    assert extract_features(unknown, mask, load_settings("pet-suv")).features
    assert extract_features(image, mask, load_settings("ct-hu")).features
