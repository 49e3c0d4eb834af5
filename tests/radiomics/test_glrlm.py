"""GLRLM (IBSI 1 section 3.7): digital-phantom reference values, hand-derived values, contract."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from nenscope.core import EmptyRegionError
from nenscope.radiomics import Approach
from nenscope.radiomics.glrlm import compute_glrlm_features
from tests.radiomics._texture_fixtures import (
    PHANTOM_N_LEVELS,
    PHANTOM_SPACING_MM,
    phantom_levels,
)

UNIT = (1.0, 1.0, 1.0)


@functools.cache
def phantom_features(approach: Approach) -> dict[str, float]:
    return compute_glrlm_features(
        phantom_levels(),
        n_levels=PHANTOM_N_LEVELS,
        spacing_mm=PHANTOM_SPACING_MM,
        approach=approach,
    )


def test_single_line_by_hand() -> None:
    # One row 1 1 1 2 (0 = outside) 2, 3D: along x the runs are (1, 3), (2, 1), (2, 1); along
    # each of the other 12 directions every voxel is a run of length 1.
    levels = np.array([[[1, 1, 1, 2, 0, 2]]])
    f = compute_glrlm_features(levels, n_levels=2, spacing_mm=UNIT, approach=Approach.D3)
    x_runs = {"22OV": (1 / 9 + 1 + 1) / 3, "W4KF": (9 + 1 + 1) / 3, "9ZK5": 3 / 5}
    other = {"22OV": 1.0, "W4KF": 1.0, "9ZK5": 1.0}
    for code in x_runs:
        expected = (x_runs[code] + 12 * other[code]) / 13
        np.testing.assert_allclose(f[f"{code}_3D_avg"], expected, rtol=1e-12, err_msg=code)
    # Merged over 13 directions: 3 + 12 * 5 = 63 runs over N_v = 13 * 5 voxels.
    np.testing.assert_allclose(f["9ZK5_3D_mrg"], 63 / 65, rtol=1e-12)
    # Run length variance of the merged matrix: lengths 3 once, 1 62 times.
    mean = (3 + 62) / 63
    np.testing.assert_allclose(
        f["SXLW_3D_mrg"], ((3 - mean) ** 2 + 62 * (1 - mean) ** 2) / 63, rtol=1e-12
    )


def test_runs_do_not_cross_slices_in_2d() -> None:
    # A column along z is one run of 3 in 3D (direction (1, 0, 0)) but three 1-voxel slices
    # in 2D, where every run has length 1.
    levels = np.ones((3, 1, 1), dtype=np.int64)
    f2 = compute_glrlm_features(levels, n_levels=1, spacing_mm=UNIT, approach=Approach.D2)
    assert f2["W4KF_2D_avg"] == 1.0
    f3 = compute_glrlm_features(levels, n_levels=1, spacing_mm=UNIT, approach=Approach.D3)
    np.testing.assert_allclose(f3["W4KF_3D_avg"], (12 * 1.0 + 9.0) / 13, rtol=1e-12)


@pytest.mark.parametrize("approach", list(Approach))
def test_zero_padding_and_translation_do_not_change_features(approach: Approach) -> None:
    padded = np.pad(phantom_levels(), ((1, 2), (3, 0), (0, 1)))
    moved = compute_glrlm_features(padded, n_levels=6, spacing_mm=UNIT, approach=approach)
    for key, value in phantom_features(approach).items():
        np.testing.assert_allclose(moved[key], value, rtol=1e-12, err_msg=key)


def test_input_is_not_modified() -> None:
    levels = np.array([[[1, 2, 0], [2, 2, 1]]], dtype=np.int64)
    before = levels.copy()
    compute_glrlm_features(levels, n_levels=2, spacing_mm=UNIT, approach=Approach.D25)
    np.testing.assert_array_equal(levels, before)


def test_empty_roi_is_refused() -> None:
    with pytest.raises(EmptyRegionError, match="GLRLM"):
        compute_glrlm_features(
            np.zeros((1, 2, 2), dtype=np.int64), n_levels=2, spacing_mm=UNIT, approach=Approach.D2
        )
