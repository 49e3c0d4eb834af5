"""GLSZM (IBSI 1 section 3.8): digital-phantom reference values, hand-derived values, contract."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from nenscope.core import EmptyRegionError
from nenscope.radiomics import Approach
from nenscope.radiomics.glszm import compute_glszm_features
from tests.radiomics._texture_fixtures import (
    PHANTOM_N_LEVELS,
    PHANTOM_SPACING_MM,
    phantom_levels,
)

UNIT = (1.0, 1.0, 1.0)


@functools.cache
def phantom_features(approach: Approach) -> dict[str, float]:
    return compute_glszm_features(
        phantom_levels(),
        n_levels=PHANTOM_N_LEVELS,
        spacing_mm=PHANTOM_SPACING_MM,
        approach=approach,
    )


def test_diagonal_voxels_share_a_zone_but_slices_do_not_in_2d() -> None:
    # Two voxels touching at a corner within a slice, and a third above one of them.
    levels = np.zeros((2, 2, 2), dtype=np.int64)
    levels[0, 0, 0] = levels[0, 1, 1] = levels[1, 0, 0] = 1
    f3 = compute_glszm_features(levels, n_levels=1, spacing_mm=UNIT, approach=Approach.D3)
    assert f3["48P8_3D"] == 9.0  # one zone of 3 voxels (26-connectivity)
    f2 = compute_glszm_features(levels, n_levels=1, spacing_mm=UNIT, approach=Approach.D2)
    assert f2["48P8_2D"] == (4.0 + 1.0) / 2  # slice 0: one zone of 2; slice 1: one zone of 1
    f25 = compute_glszm_features(levels, n_levels=1, spacing_mm=UNIT, approach=Approach.D25)
    assert f25["48P8_2.5D"] == (4.0 + 1.0) / 2  # merged: zones of 2 and 1
    np.testing.assert_allclose(f25["P30P_2.5D"], 2 / 3, rtol=1e-12)  # 2 zones, N_v = 3


def test_grey_levels_keep_their_values() -> None:
    # Levels 2 and 5 of 6 (others absent): low grey level zone emphasis uses i = 2 and 5.
    levels = np.array([[[2, 2, 5]]])
    f = compute_glszm_features(levels, n_levels=6, spacing_mm=UNIT, approach=Approach.D3)
    np.testing.assert_allclose(f["XMSY_3D"], (1 / 4 + 1 / 25) / 2, rtol=1e-12)
    np.testing.assert_allclose(f["BYLV_3D"], 2.25, rtol=1e-12)  # variance of {2, 5}


@pytest.mark.parametrize("approach", list(Approach))
def test_zero_padding_and_translation_do_not_change_features(approach: Approach) -> None:
    padded = np.pad(phantom_levels(), ((0, 2), (1, 1), (2, 0)))
    moved = compute_glszm_features(padded, n_levels=6, spacing_mm=UNIT, approach=approach)
    for key, value in phantom_features(approach).items():
        np.testing.assert_allclose(moved[key], value, rtol=1e-12, err_msg=key)


def test_input_is_not_modified() -> None:
    levels = np.array([[[1, 2, 0], [2, 2, 1]]], dtype=np.int64)
    before = levels.copy()
    compute_glszm_features(levels, n_levels=2, spacing_mm=UNIT, approach=Approach.D3)
    np.testing.assert_array_equal(levels, before)


def test_empty_roi_is_refused() -> None:
    with pytest.raises(EmptyRegionError, match="GLSZM"):
        compute_glszm_features(
            np.zeros((1, 2, 2), dtype=np.int64), n_levels=2, spacing_mm=UNIT, approach=Approach.D3
        )
