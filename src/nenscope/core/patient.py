"""Limits of possible patient values, shared by every layer that takes them from a user.

One range per quantity, so that ``recommend``, ``dose``, the SUV overrides of ``suv``,
``convert`` and ``analyze`` and the PET header reader refuse the same impossible values with
the same message: a header value outside the range is not used unless the user gives the
value (``--weight-kg``, ``--height-cm``, ``--injected-mbq``), which is checked against the
same range.
"""

from __future__ import annotations

import math

from nenscope.core.errors import ImpossibleValueError

__all__ = [
    "ADMINISTERED_ACTIVITY_RANGE_MBQ",
    "AGE_RANGE_YEARS",
    "BODY_HEIGHT_RANGE_CM",
    "BODY_WEIGHT_RANGE_KG",
    "check_administered_activity_mbq",
    "check_age_years",
    "check_body_height_cm",
    "check_body_weight_kg",
    "require_in_range",
]

BODY_WEIGHT_RANGE_KG = (0.5, 350.0)
"""Possible body weight in kg (inclusive): a preterm newborn to the heaviest patients scanned."""

AGE_RANGE_YEARS = (0.0, 120.0)
"""Possible age in years (inclusive)."""

BODY_HEIGHT_RANGE_CM = (30.0, 275.0)
"""Possible body height in cm (inclusive): a preterm newborn to the tallest adults recorded."""

ADMINISTERED_ACTIVITY_RANGE_MBQ = (1.0, 20_000.0)
"""Possible administered activity in MBq (inclusive).

The lowest paediatric diagnostic activities are about 10 MBq (EANM paediatric dosage card
minimum 14 MBq for 18F-FDG; 68Ga-DOTA peptides 14 MBq), the highest therapeutic ones about
11 GBq (131I, 300 mCi) and 7.4 GBq per cycle of 177Lu-DOTATATE. Outside 1 MBq to 20 GBq the
value is a unit error (MBq stored as Bq, kBq, GBq), not an activity."""


def require_in_range(
    value: float, name: str, limits: tuple[float, float], unit: str, what: str
) -> None:
    """Refuse ``value`` unless it is finite and within ``limits`` (inclusive).

    Raises
    ------
    ImpossibleValueError
        With the value, the expected range and the unit to give it in.

    Examples
    --------
    >>> require_in_range(70.0, "weight_kg", BODY_WEIGHT_RANGE_KG, "kg", "body weight")
    """
    low, high = limits
    if not (math.isfinite(value) and low <= value <= high):
        raise ImpossibleValueError(
            f"{name} {value:g} {unit} is not a possible {what}: expected {low:g} to {high:g} "
            f"{unit}. Give the {what} in {unit}."
        )


def check_body_weight_kg(weight_kg: float, *, name: str = "weight_kg") -> float:
    """Return ``weight_kg`` if it is a possible body weight, else refuse it.

    Parameters
    ----------
    weight_kg
        Body weight in kg.
    name
        How the caller calls the value (``weight_kg``, ``--weight-kg``), for the message.

    Raises
    ------
    ImpossibleValueError
        Outside :data:`BODY_WEIGHT_RANGE_KG` (an impossible weight is refused, never capped).

    Examples
    --------
    >>> check_body_weight_kg(75.0)
    75.0
    """
    require_in_range(weight_kg, name, BODY_WEIGHT_RANGE_KG, "kg", "body weight")
    return weight_kg


def check_age_years(age_years: float, *, name: str = "age_years") -> float:
    """Return ``age_years`` if it is within :data:`AGE_RANGE_YEARS`, else refuse it.

    Examples
    --------
    >>> check_age_years(0.0)
    0.0
    """
    require_in_range(age_years, name, AGE_RANGE_YEARS, "years", "age")
    return age_years


def check_body_height_cm(height_cm: float, *, name: str = "height_cm") -> float:
    """Return ``height_cm`` if it is within :data:`BODY_HEIGHT_RANGE_CM`, else refuse it.

    Examples
    --------
    >>> check_body_height_cm(172.0)
    172.0
    """
    require_in_range(height_cm, name, BODY_HEIGHT_RANGE_CM, "cm", "body height")
    return height_cm


def check_administered_activity_mbq(activity_mbq: float, *, name: str = "activity_mbq") -> float:
    """Return ``activity_mbq`` if it is within :data:`ADMINISTERED_ACTIVITY_RANGE_MBQ`.

    Raises
    ------
    ImpossibleValueError
        Outside the range (refused, never capped or rescaled).

    Examples
    --------
    >>> check_administered_activity_mbq(185.0)
    185.0
    """
    require_in_range(
        activity_mbq, name, ADMINISTERED_ACTIVITY_RANGE_MBQ, "MBq", "administered activity"
    )
    return activity_mbq
