"""GLDZM (IBSI 1 section 3.9): digital-phantom reference values, the distance metric, contract."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from nenscope.core import EmptyRegionError, GeometryError
from nenscope.radiomics import Approach
from nenscope.radiomics.gldzm import border_distance, compute_gldzm_features
from tests.radiomics._texture_fixtures import (
    PHANTOM_N_LEVELS,
    PHANTOM_SPACING_MM,
    phantom_levels,
)

UNIT = (1.0, 1.0, 1.0)


@functools.cache
def phantom_features(approach: Approach) -> dict[str, float]:
    return compute_gldzm_features(
        phantom_levels(),
        n_levels=PHANTOM_N_LEVELS,
        spacing_mm=PHANTOM_SPACING_MM,
        approach=approach,
    )


def test_distance_is_face_connected_not_chebyshev() -> None:
    # IBSI 1 3.9: distances follow 4-connectivity in 2D. The 3x3 block below misses one
    # corner; its centre is 2 face-steps from outside (1 under the Chebyshev norm, through
    # the missing corner).
    mask = np.zeros((1, 5, 5), dtype=bool)
    mask[0, 1:4, 1:4] = True
    mask[0, 1, 1] = False
    distance = border_distance(mask, in_plane=True)
    assert distance[0, 2, 2] == 2
    assert distance[0, 1, 2] == 1
    assert distance[0, 0, 0] == 0  # outside the ROI
    # The centre as its own zone: distance 2 -> large distance emphasis (1 * 7 + 4) / 8.
    levels = mask.astype(np.int64)
    levels[0, 2, 2] = 2
    f = compute_gldzm_features(levels, n_levels=2, spacing_mm=UNIT, approach=Approach.D2)
    np.testing.assert_allclose(f["MB4I_2D"], (1.0 + 4.0) / 2, rtol=1e-12)


def test_distance_in_3d_counts_the_slices_above_and_below() -> None:
    full = np.ones((3, 5, 5), dtype=bool)
    assert border_distance(full, in_plane=False)[1, 2, 2] == 2
    assert border_distance(full, in_plane=True)[1, 2, 2] == 3
    assert np.all(border_distance(np.ones((1, 4, 4), dtype=bool), in_plane=False) == 1)


def test_distance_uses_the_morphological_mask() -> None:
    # Re-segmentation removed the ring from the intensity mask; distances still come from the
    # morphological mask (IBSI 1 3.9), so the centre voxel keeps distance 2.
    morph = np.zeros((1, 3, 3), dtype=bool)
    morph[:] = True
    levels = np.zeros((1, 3, 3), dtype=np.int64)
    levels[0, 1, 1] = 1
    f = compute_gldzm_features(
        levels, n_levels=1, spacing_mm=UNIT, approach=Approach.D2, morphological_mask=morph
    )
    assert f["MB4I_2D"] == 4.0
    g = compute_gldzm_features(levels, n_levels=1, spacing_mm=UNIT, approach=Approach.D2)
    assert g["MB4I_2D"] == 1.0


def test_morphological_mask_must_cover_the_roi() -> None:
    levels = np.ones((1, 2, 2), dtype=np.int64)
    with pytest.raises(GeometryError, match="shape"):
        compute_gldzm_features(
            levels,
            n_levels=1,
            spacing_mm=UNIT,
            approach=Approach.D3,
            morphological_mask=np.ones((1, 2, 3), dtype=bool),
        )
    with pytest.raises(GeometryError, match="outside"):
        compute_gldzm_features(
            levels,
            n_levels=1,
            spacing_mm=UNIT,
            approach=Approach.D3,
            morphological_mask=np.zeros((1, 2, 2), dtype=bool),
        )


@pytest.mark.parametrize("approach", list(Approach))
def test_zero_padding_and_translation_do_not_change_features(approach: Approach) -> None:
    padded = np.pad(phantom_levels(), ((2, 2), (0, 1), (1, 0)))
    moved = compute_gldzm_features(padded, n_levels=6, spacing_mm=UNIT, approach=approach)
    for key, value in phantom_features(approach).items():
        np.testing.assert_allclose(moved[key], value, rtol=1e-12, err_msg=key)


def test_input_is_not_modified() -> None:
    levels = np.array([[[1, 2, 0], [2, 2, 1]]], dtype=np.int64)
    before = levels.copy()
    compute_gldzm_features(levels, n_levels=2, spacing_mm=UNIT, approach=Approach.D3)
    np.testing.assert_array_equal(levels, before)


def test_empty_roi_is_refused() -> None:
    with pytest.raises(EmptyRegionError, match="GLDZM"):
        compute_gldzm_features(
            np.zeros((1, 2, 2), dtype=np.int64), n_levels=2, spacing_mm=UNIT, approach=Approach.D2
        )
