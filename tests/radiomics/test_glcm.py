"""GLCM (IBSI 1 section 3.6): digital-phantom reference values, hand-derived values, contract."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from nenscope.core import EmptyRegionError, NotComputableError, OptionError
from nenscope.radiomics import Approach
from nenscope.radiomics.glcm import compute_glcm_features
from tests.radiomics._texture_fixtures import (
    PHANTOM_N_LEVELS,
    PHANTOM_SPACING_MM,
    phantom_levels,
)

UNIT = (1.0, 1.0, 1.0)


@functools.cache
def phantom_features(approach: Approach) -> dict[str, float]:
    return compute_glcm_features(
        phantom_levels(),
        n_levels=PHANTOM_N_LEVELS,
        spacing_mm=PHANTOM_SPACING_MM,
        approach=approach,
    )


def test_two_voxels_by_hand() -> None:
    # One pair (1, 2) along x, symmetrised: p(1,2) = p(2,1) = 1/2. In 2D only the x
    # direction has a pair, so every aggregation sees the same matrix.
    f = compute_glcm_features(
        np.array([[[1, 2]]]), n_levels=2, spacing_mm=UNIT, approach=Approach.D2
    )
    np.testing.assert_allclose(f["GYBY_2D_avg"], 0.5, rtol=1e-12)
    np.testing.assert_allclose(f["60VM_2D_smrg"], 1.5, rtol=1e-12)  # joint average
    np.testing.assert_allclose(f["ACUI_2D_avg"], 1.0, rtol=1e-12)  # contrast
    np.testing.assert_allclose(f["TU9B_2D_avg"], 1.0, rtol=1e-12)  # joint entropy, bits
    np.testing.assert_allclose(f["NI2N_2D_avg"], -1.0, rtol=1e-12)  # perfect anticorrelation
    np.testing.assert_allclose(f["E8JP_2D_avg"], 1.0, rtol=1e-12)  # inverse variance
    np.testing.assert_allclose(f["NDRX_2D_avg"], 1.0 / (1.0 + 1.0 / 2.0), rtol=1e-12)


def test_absent_grey_levels_count_for_the_normalised_features() -> None:
    # N_g is the number of bins, occurring or not: 1 / (1 + |i-j| / N_g) with N_g = 4.
    f = compute_glcm_features(
        np.array([[[1, 2]]]), n_levels=4, spacing_mm=UNIT, approach=Approach.D3
    )
    np.testing.assert_allclose(f["NDRX_3D_mrg"], 1.0 / (1.0 + 1.0 / 4.0), rtol=1e-12)
    np.testing.assert_allclose(f["1QCO_3D_mrg"], 1.0 / (1.0 + 1.0 / 16.0), rtol=1e-12)


def test_uniform_roi_edge_cases_follow_mirp() -> None:
    # One grey level: correlation and information correlation 1 are set to 1, inverse
    # variance has no off-diagonal element (0), information correlation 2 is 0.
    f = compute_glcm_features(
        np.full((2, 2, 2), 3), n_levels=4, spacing_mm=UNIT, approach=Approach.D3
    )
    assert f["NI2N_3D_avg"] == 1.0
    assert f["R8DG_3D_mrg"] == 1.0
    assert f["E8JP_3D_avg"] == 0.0
    assert f["JN9H_3D_mrg"] == 0.0
    assert f["GYBY_3D_mrg"] == 1.0


@pytest.mark.parametrize("approach", list(Approach))
def test_zero_padding_and_translation_do_not_change_features(approach: Approach) -> None:
    levels = phantom_levels()
    padded = np.pad(levels, ((2, 1), (0, 3), (1, 2)))
    moved = compute_glcm_features(padded, n_levels=6, spacing_mm=UNIT, approach=approach)
    base = phantom_features(approach)
    for key, value in base.items():
        np.testing.assert_allclose(moved[key], value, rtol=1e-12, err_msg=key)


def test_input_is_not_modified() -> None:
    levels = np.array([[[1, 2, 0], [2, 2, 1]]], dtype=np.int64)
    before = levels.copy()
    compute_glcm_features(levels, n_levels=2, spacing_mm=UNIT, approach=Approach.D2)
    np.testing.assert_array_equal(levels, before)


def test_empty_roi_is_refused() -> None:
    with pytest.raises(EmptyRegionError, match="GLCM"):
        compute_glcm_features(
            np.zeros((2, 2, 2), dtype=np.int64), n_levels=2, spacing_mm=UNIT, approach=Approach.D3
        )


def test_roi_without_neighbouring_voxels_is_refused() -> None:
    with pytest.raises(NotComputableError, match="neighbours"):
        compute_glcm_features(
            np.array([[[1, 0, 1]]]), n_levels=1, spacing_mm=UNIT, approach=Approach.D3
        )


@pytest.mark.parametrize(
    ("levels", "match"),
    [
        (np.array([[1, 2]]), "3-D"),
        (np.array([[[1, 3]]]), "n_levels=2"),
        (np.array([[[-1, 1]]]), "n_levels=2"),
        (np.array([[[1.0, 2.0]]]), "integer"),
    ],
    ids=["2-D", "above-n_levels", "negative", "float"],
)
def test_invalid_levels_are_refused(levels: np.ndarray, match: str) -> None:
    with pytest.raises(NotComputableError, match=match):
        compute_glcm_features(levels, n_levels=2, spacing_mm=UNIT, approach=Approach.D3)


def test_unknown_approach_names_the_closest() -> None:
    levels = np.array([[[1, 2]]])
    with pytest.raises(OptionError, match=r"Valid: 2\.5d, 2d, 3d"):
        compute_glcm_features(
            levels,
            n_levels=2,
            spacing_mm=UNIT,
            approach="3D2",  # type: ignore[arg-type]  # an unchecked user string on purpose
        )


def test_n_levels_must_be_positive() -> None:
    with pytest.raises(NotComputableError, match="n_levels >= 1"):
        compute_glcm_features(
            np.zeros((1, 1, 2), dtype=np.int64), n_levels=0, spacing_mm=UNIT, approach=Approach.D3
        )
