"""NGTDM (IBSI 1 section 3.10): digital-phantom reference values, hand-derived values, contract."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from nenscope.core import EmptyRegionError, NotComputableError
from nenscope.radiomics import Approach
from nenscope.radiomics.ngtdm import COARSENESS_MAX, compute_ngtdm_features
from tests.radiomics._texture_fixtures import (
    PHANTOM_N_LEVELS,
    PHANTOM_SPACING_MM,
    phantom_levels,
)

UNIT = (1.0, 1.0, 1.0)


@functools.cache
def phantom_features(approach: Approach) -> dict[str, float]:
    return compute_ngtdm_features(
        phantom_levels(),
        n_levels=PHANTOM_N_LEVELS,
        spacing_mm=PHANTOM_SPACING_MM,
        approach=approach,
    )


def test_three_voxels_by_hand() -> None:
    # Row 1 3 5 (levels 2 and 4 absent). Neighbour means: 3, 3 (= (1 + 5) / 2), 3.
    # s = |1-3| = 2 for level 1, 0 for 3, |5-3| = 2 for 5; n = 1 each, p = 1/3 each.
    levels = np.array([[[1, 3, 5]]])
    f = compute_ngtdm_features(levels, n_levels=5, spacing_mm=UNIT, approach=Approach.D3)
    ps = (2 + 0 + 2) / 3
    np.testing.assert_allclose(f["QCDE_3D"], 1 / ps, rtol=1e-12)
    pairs = [(a, b) for a in (1, 3, 5) for b in (1, 3, 5)]
    contrast = sum((a - b) ** 2 / 9 for a, b in pairs) / (3 * 2) * 4 / 3
    np.testing.assert_allclose(f["65HE_3D"], contrast, rtol=1e-12)
    busyness = ps / sum(abs(a - b) / 3 for a, b in pairs)
    np.testing.assert_allclose(f["NQ30_3D"], busyness, rtol=1e-12)
    s = {1: 2.0, 3: 0.0, 5: 2.0}
    complexity = sum(abs(a - b) * (s[a] + s[b]) / 3 / (2 / 3) for a, b in pairs) / 3
    np.testing.assert_allclose(f["HDEZ_3D"], complexity, rtol=1e-12)
    strength = sum(2 / 3 * (a - b) ** 2 for a, b in pairs) / 4
    np.testing.assert_allclose(f["1X9X_3D"], strength, rtol=1e-12)


def test_uniform_roi_edge_values() -> None:
    # s = 0 everywhere: coarseness takes its IBSI maximum, the others are 0.
    f = compute_ngtdm_features(
        np.full((2, 2, 2), 2), n_levels=2, spacing_mm=UNIT, approach=Approach.D3
    )
    assert f == {
        "QCDE_3D": COARSENESS_MAX,
        "65HE_3D": 0.0,
        "NQ30_3D": 0.0,
        "HDEZ_3D": 0.0,
        "1X9X_3D": 0.0,
    }


def test_voxels_without_roi_neighbours_are_left_out() -> None:
    # The lone voxel of level 3 has no ROI neighbour and must not count in N_vc.
    levels = np.array([[[1, 2, 0, 0, 3]]])
    lone = compute_ngtdm_features(levels, n_levels=3, spacing_mm=UNIT, approach=Approach.D3)
    pair = compute_ngtdm_features(
        levels[:, :, :2], n_levels=3, spacing_mm=UNIT, approach=Approach.D3
    )
    assert lone == {k: pytest.approx(v, rel=1e-12) for k, v in pair.items()}
    with pytest.raises(NotComputableError, match="neighbour"):
        compute_ngtdm_features(
            np.array([[[1, 0, 2]]]), n_levels=2, spacing_mm=UNIT, approach=Approach.D3
        )


@pytest.mark.parametrize("approach", list(Approach))
def test_zero_padding_and_translation_do_not_change_features(approach: Approach) -> None:
    padded = np.pad(phantom_levels(), ((1, 0), (2, 2), (0, 3)))
    moved = compute_ngtdm_features(padded, n_levels=6, spacing_mm=UNIT, approach=approach)
    for key, value in phantom_features(approach).items():
        np.testing.assert_allclose(moved[key], value, rtol=1e-12, err_msg=key)


def test_input_is_not_modified() -> None:
    levels = np.array([[[1, 2, 0], [2, 2, 1]]], dtype=np.int64)
    before = levels.copy()
    compute_ngtdm_features(levels, n_levels=2, spacing_mm=UNIT, approach=Approach.D2)
    np.testing.assert_array_equal(levels, before)


def test_empty_roi_is_refused() -> None:
    with pytest.raises(EmptyRegionError, match="NGTDM"):
        compute_ngtdm_features(
            np.zeros((1, 2, 2), dtype=np.int64), n_levels=2, spacing_mm=UNIT, approach=Approach.D2
        )
