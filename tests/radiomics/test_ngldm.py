"""NGLDM (IBSI 1 section 3.11): digital-phantom reference values, hand-derived values, contract."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from nenscope.core import EmptyRegionError, NotComputableError
from nenscope.radiomics import Approach
from nenscope.radiomics.ngldm import compute_ngldm_features
from tests.radiomics._texture_fixtures import (
    PHANTOM_N_LEVELS,
    PHANTOM_SPACING_MM,
    phantom_levels,
)

UNIT = (1.0, 1.0, 1.0)


@functools.cache
def phantom_features(approach: Approach) -> dict[str, float]:
    return compute_ngldm_features(
        phantom_levels(),
        n_levels=PHANTOM_N_LEVELS,
        spacing_mm=PHANTOM_SPACING_MM,
        approach=approach,
    )


def test_full_cube_by_hand() -> None:
    # 3x3x3 cube of one level, 3D: dependence = 1 + number of neighbours inside the cube:
    # 8 corners 8, 12 edges 12, 6 faces 18, 1 centre 27.
    cube = np.ones((3, 3, 3), dtype=np.int64)
    f = compute_ngldm_features(cube, n_levels=1, spacing_mm=UNIT, approach=Approach.D3)
    counts = {8: 8, 12: 12, 18: 6, 27: 1}
    np.testing.assert_allclose(
        f["IMOQ_3D"], sum(n * j**2 for j, n in counts.items()) / 27, rtol=1e-12
    )
    np.testing.assert_allclose(
        f["SODN_3D"], sum(n / j**2 for j, n in counts.items()) / 27, rtol=1e-12
    )
    np.testing.assert_allclose(
        f["CAS9_3D"], sum((n / 27) ** 2 for n in counts.values()), rtol=1e-12
    )


def test_coarseness_alpha_uses_grey_values() -> None:
    # Levels 1 and 3 (2 absent) differ by 2: dependent for alpha = 2 but not alpha = 1.
    levels = np.array([[[1, 3]]])
    one = compute_ngldm_features(
        levels, n_levels=3, spacing_mm=UNIT, approach=Approach.D3, alpha=1
    )
    two = compute_ngldm_features(
        levels, n_levels=3, spacing_mm=UNIT, approach=Approach.D3, alpha=2
    )
    assert one["IMOQ_3D"] == 1.0
    assert two["IMOQ_3D"] == 4.0
    with pytest.raises(NotComputableError, match="alpha"):
        compute_ngldm_features(levels, n_levels=3, spacing_mm=UNIT, approach=Approach.D3, alpha=-1)


@pytest.mark.parametrize("approach", list(Approach))
def test_zero_padding_and_translation_do_not_change_features(approach: Approach) -> None:
    padded = np.pad(phantom_levels(), ((0, 1), (1, 2), (3, 0)))
    moved = compute_ngldm_features(padded, n_levels=6, spacing_mm=UNIT, approach=approach)
    for key, value in phantom_features(approach).items():
        np.testing.assert_allclose(moved[key], value, rtol=1e-12, err_msg=key)


def test_input_is_not_modified() -> None:
    levels = np.array([[[1, 2, 0], [2, 2, 1]]], dtype=np.int64)
    before = levels.copy()
    compute_ngldm_features(levels, n_levels=2, spacing_mm=UNIT, approach=Approach.D25)
    np.testing.assert_array_equal(levels, before)


def test_empty_roi_is_refused() -> None:
    with pytest.raises(EmptyRegionError, match="NGLDM"):
        compute_ngldm_features(
            np.zeros((1, 2, 2), dtype=np.int64), n_levels=2, spacing_mm=UNIT, approach=Approach.D3
        )
