"""Body-size normalisers (LBM James/Morgan/Janmahasatian, IBW, BSA) and radionuclide names."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nenscope.core.errors import NotComputableError
from nenscope.quantification.bodysize import (
    LbmFormula,
    Sex,
    bsa_dubois_m2,
    ibw_kg,
    lbm_james_kg,
    lbm_janmahasatian_kg,
    lbm_kg,
    lbm_morgan_kg,
)
from nenscope.quantification.radionuclides import RADIONUCLIDES, identify_radionuclide

# Hand values for W = 70 kg, H = 175 cm: (W/H)^2 = 0.16, BMI = 70 / 1.75^2 = 22.857142...
BMI = 70.0 / 1.75**2


@pytest.mark.parametrize(
    ("sex", "expected"),
    [
        (Sex.MALE, 1.10 * 70 - 128 * 0.16),  # 56.52
        (Sex.FEMALE, 1.07 * 70 - 148 * 0.16),  # 51.22
        (Sex.OTHER, 0.5 * (56.52 + 51.22)),
    ],
    ids=["M", "F", "O"],
)
def test_lbm_james(sex: Sex, expected: float) -> None:
    np.testing.assert_allclose(lbm_james_kg(70.0, 175.0, sex), expected, rtol=1e-12)


def test_lbm_morgan_uses_120_for_men() -> None:
    np.testing.assert_allclose(lbm_morgan_kg(70.0, 175.0, Sex.MALE), 77 - 120 * 0.16, rtol=1e-12)
    np.testing.assert_allclose(
        lbm_morgan_kg(70.0, 175.0, Sex.FEMALE), 74.9 - 148 * 0.16, rtol=1e-12
    )


@pytest.mark.parametrize(
    ("sex", "expected"),
    [
        (Sex.MALE, 9270 * 70 / (6680 + 216 * BMI)),
        (Sex.FEMALE, 9270 * 70 / (8780 + 244 * BMI)),
    ],
    ids=["M", "F"],
)
def test_lbm_janmahasatian(sex: Sex, expected: float) -> None:
    np.testing.assert_allclose(lbm_janmahasatian_kg(70.0, 175.0, sex), expected, rtol=1e-12)


def test_ibw_and_bsa_by_hand() -> None:
    np.testing.assert_allclose(ibw_kg(70.0, 175.0, Sex.MALE), 48 + 1.06 * 23, rtol=1e-12)
    np.testing.assert_allclose(ibw_kg(70.0, 175.0, Sex.FEMALE), 45.5 + 0.91 * 23, rtol=1e-12)
    np.testing.assert_allclose(
        bsa_dubois_m2(70.0, 175.0), 0.007184 * 70**0.425 * 175**0.725, rtol=1e-12
    )
    # Published Du Bois nomogram value: 70 kg, 175 cm -> 1.85 m^2 (2 decimals).
    np.testing.assert_allclose(bsa_dubois_m2(70.0, 175.0), 1.85, atol=0.005)


def test_james_refuses_obese_patient() -> None:
    # PyTCI#23: James LBM falls to 0 at twice BMI ~43 (men): 250 kg, 160 cm gives
    # 1.1*250 - 128*(250/160)^2 = 275 - 312.5 < 0.
    with pytest.raises(NotComputableError, match="James"):
        lbm_james_kg(250.0, 160.0, Sex.MALE)


@given(weight=st.floats(20.0, 300.0), height=st.floats(120.0, 220.0))
def test_lbm_is_physical_or_refused(weight: float, height: float) -> None:
    # Every formula gives 0 < LBM < W or refuses (Janmahasatian exceeds W below BMI ~12,
    # James falls below 0 for the obese).
    for formula in LbmFormula:
        for sex in Sex:
            try:
                lbm = lbm_kg(formula, weight, height, sex)
            except NotComputableError:
                with pytest.raises(NotComputableError, match="range of validity"):
                    lbm_kg(formula, weight, height, sex)
                continue
            assert 0 < lbm < weight


def test_janmahasatian_refuses_extreme_underweight() -> None:
    # 30 kg, 159 cm (BMI 11.9): 9270*30/(6680+216*11.87) = 30.09 kg > W.
    with pytest.raises(NotComputableError, match="range of validity"):
        lbm_janmahasatian_kg(30.0, 159.0, Sex.MALE)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan")])
def test_body_size_refuses_bad_inputs(bad: float) -> None:
    with pytest.raises(NotComputableError):
        bsa_dubois_m2(bad, 175.0)
    with pytest.raises(NotComputableError):
        lbm_janmahasatian_kg(70.0, bad, Sex.MALE)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("^18^Fluorine", "18F"),
        ("18F", "18F"),
        ("FDG -- fluorodeoxyglucose", "18F"),
        ("^68^Gallium", "68Ga"),
        ("Ga68-PSMA", "68Ga"),
        ("177 Lutetium", "177Lu"),
        ("Lu-177 DOTATATE", "177Lu"),
        ("64Cu-DOTATATE", "64Cu"),
        ("Zr-89", "89Zr"),
        ("In-111 pentetreotide", "111In"),
        ("I-123 MIBG", "123I"),
        ("99mTc", "99mTc"),
        ("Tc99m", "99mTc"),
    ],
)
def test_identify_radionuclide(text: str, label: str) -> None:
    found = identify_radionuclide(text)
    assert found is not None
    assert found.label == label


@pytest.mark.parametrize("text", ["", "DOTATATE", "18F and 68Ga mix"])
def test_identify_radionuclide_unsure(text: str) -> None:
    assert identify_radionuclide(text) is None


def test_nominal_half_lives_are_distinct_within_tolerance() -> None:
    # The 2 % header check must never accept one nuclide's half-life for another's.
    lives = sorted(n.half_life_s for n in RADIONUCLIDES)
    ratios = [b / a for a, b in itertools.pairwise(lives)]
    assert min(ratios) > 1.04
