"""Body-size normalisers for SUV: lean body mass, ideal body weight, body surface area (pure).

Every formula takes weight in kg and height in cm and returns kg (or m² for BSA). The
formulas and their names follow DICOM PS3.3 C.8.9.1.1.8 (SUVType ``LBM``, ``LBMJAMES128``,
``LBMJANMA``, ``IBW``, ``BSA``) and ``shared/reference/suv-rules.md`` §4.3.

Sex ``"O"`` (other/unknown) has no consensus formula; following the IBSI SUV manual the mean
of the male and female formula is used, and callers must say so (the SUV code warns).
"""

from __future__ import annotations

import math
from enum import StrEnum

from nenscope.core.errors import NotComputableError
from nenscope.core.units import CM_PER_M

__all__ = [
    "LbmFormula",
    "Sex",
    "bsa_dubois_m2",
    "ibw_kg",
    "lbm_james_kg",
    "lbm_janmahasatian_kg",
    "lbm_kg",
    "lbm_morgan_kg",
]


class Sex(StrEnum):
    """Patient sex as DICOM PatientSex (0010,0040) codes it."""

    MALE = "M"
    FEMALE = "F"
    OTHER = "O"


class LbmFormula(StrEnum):
    """Lean-body-mass formula; the value is the DICOM SUVType (0054,1006) defined term."""

    JANMAHASATIAN = "LBMJANMA"
    JAMES = "LBMJAMES128"
    MORGAN = "LBM"


def _check(weight_kg: float, height_cm: float) -> None:
    if not (math.isfinite(weight_kg) and weight_kg > 0):
        raise NotComputableError(f"Body weight must be a finite value > 0 kg, not {weight_kg}.")
    if not (math.isfinite(height_cm) and height_cm > 0):
        raise NotComputableError(f"Body height must be a finite value > 0 cm, not {height_cm}.")


def _by_sex(male: float, female: float, sex: Sex) -> float:
    if sex is Sex.MALE:
        return male
    if sex is Sex.FEMALE:
        return female
    return 0.5 * (male + female)


def _positive(
    value: float, what: str, weight_kg: float, height_cm: float, *, below_weight: bool = True
) -> float:
    """Return ``value`` if 0 < value (< weight for a lean mass), else refuse."""
    if not value > 0 or (below_weight and value >= weight_kg):
        raise NotComputableError(
            f"{what} is {value:.3g} kg for weight {weight_kg} kg and height {height_cm} cm: "
            "not between 0 and the body weight, so the formula is outside its range of validity."
        )
    return value


def lbm_james_kg(weight_kg: float, height_cm: float, sex: Sex) -> float:
    """Lean body mass by James (1976) with the 128 constant (DICOM ``LBMJAMES128``), in kg.

    Parameters
    ----------
    weight_kg
        Body weight in kg.
    height_cm
        Body height in cm.
    sex
        ``Sex.OTHER`` gives the mean of the male and female formula (IBSI).

    Raises
    ------
    NotComputableError
        If the inputs are not positive or the result is not positive (the James formula
        falls with weight above BMI ≈ 43 for men / 36 for women and reaches 0 at twice that).

    Notes
    -----
    ♂ 1.10 W − 128 (W/H)², ♀ 1.07 W − 148 (W/H)², H in cm. James WPT, *Research on
    obesity*, HMSO 1976; as used by PERCIST 1.0 (Wahl et al., J Nucl Med 2009;50:122S).

    Examples
    --------
    >>> round(lbm_james_kg(70.0, 175.0, Sex.MALE), 4)
    56.52
    """
    _check(weight_kg, height_cm)
    ratio2 = (weight_kg / height_cm) ** 2
    value = _by_sex(1.10 * weight_kg - 128.0 * ratio2, 1.07 * weight_kg - 148.0 * ratio2, sex)
    return _positive(value, "James lean body mass", weight_kg, height_cm)


def lbm_morgan_kg(weight_kg: float, height_cm: float, sex: Sex) -> float:
    """Lean body mass with the 120 constant for men (DICOM ``LBM``; Morgan/Sugawara), in kg.

    Notes
    -----
    ♂ 1.10 W − 120 (W/H)², ♀ 1.07 W − 148 (W/H)², H in cm (Sugawara et al., Radiology
    1999;213:521). Used only to interpret stored SUVType ``LBM`` values.

    Examples
    --------
    >>> round(lbm_morgan_kg(70.0, 175.0, Sex.MALE), 4)
    57.8
    """
    _check(weight_kg, height_cm)
    ratio2 = (weight_kg / height_cm) ** 2
    value = _by_sex(1.10 * weight_kg - 120.0 * ratio2, 1.07 * weight_kg - 148.0 * ratio2, sex)
    return _positive(value, "Morgan lean body mass", weight_kg, height_cm)


def lbm_janmahasatian_kg(weight_kg: float, height_cm: float, sex: Sex) -> float:
    """Lean body mass by Janmahasatian et al. (2005) (DICOM ``LBMJANMA``), in kg.

    Notes
    -----
    BMI = W / (H/100)²; ♂ 9270 W / (6680 + 216 BMI), ♀ 9270 W / (8780 + 244 BMI).
    Janmahasatian S. et al., Clin Pharmacokinet 2005;44:1051, doi:10.2165/00003088-200544100-00004.
    Recommended for SUL by the EANM FDG guideline v2 (Boellaard et al., EJNMMI 2015;42:328).

    Examples
    --------
    >>> round(lbm_janmahasatian_kg(70.0, 175.0, Sex.MALE), 4)
    55.8571
    """
    _check(weight_kg, height_cm)
    bmi = weight_kg / (height_cm / CM_PER_M) ** 2
    male = 9270.0 * weight_kg / (6680.0 + 216.0 * bmi)
    female = 9270.0 * weight_kg / (8780.0 + 244.0 * bmi)
    value = _by_sex(male, female, sex)
    return _positive(value, "Janmahasatian lean body mass", weight_kg, height_cm)


def ibw_kg(weight_kg: float, height_cm: float, sex: Sex) -> float:
    """Ideal body weight (DICOM SUVType ``IBW``), in kg; not clamped to the body weight.

    Notes
    -----
    ♂ 48.0 + 1.06 (H − 152), ♀ 45.5 + 0.91 (H − 152), H in cm (Sugawara et al., Radiology
    1999;213:521). ``weight_kg`` is only validated; Slicer clamps IBW ≤ W, MITK and IBSI do
    not, and neither does this function.

    Examples
    --------
    >>> round(ibw_kg(70.0, 175.0, Sex.OTHER), 4)
    69.405
    """
    _check(weight_kg, height_cm)
    value = _by_sex(48.0 + 1.06 * (height_cm - 152.0), 45.5 + 0.91 * (height_cm - 152.0), sex)
    return _positive(value, "Ideal body weight", weight_kg, height_cm, below_weight=False)


def bsa_dubois_m2(weight_kg: float, height_cm: float) -> float:
    """Body surface area by Du Bois & Du Bois (1916), in m².

    Notes
    -----
    BSA = 0.007184 · W^0.425 · H^0.725 (W kg, H cm). Du Bois D, Du Bois EF, Arch Intern Med
    1916;17:863. DICOM SUVbsa (Units CM2ML) uses cm²: multiply by 10⁴.

    Examples
    --------
    >>> round(bsa_dubois_m2(70.0, 175.0), 5)
    1.84814
    """
    _check(weight_kg, height_cm)
    return float(0.007184 * weight_kg**0.425 * height_cm**0.725)


def lbm_kg(formula: LbmFormula, weight_kg: float, height_cm: float, sex: Sex) -> float:
    """Lean body mass in kg by the named ``formula`` (see :class:`LbmFormula`)."""
    if formula is LbmFormula.JANMAHASATIAN:
        return lbm_janmahasatian_kg(weight_kg, height_cm, sex)
    if formula is LbmFormula.JAMES:
        return lbm_james_kg(weight_kg, height_cm, sex)
    return lbm_morgan_kg(weight_kg, height_cm, sex)
