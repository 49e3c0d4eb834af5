"""Limits of possible patient values, shared by every layer that takes them from a user.

One range per quantity, so that ``recommend``, ``dose`` and the SUV overrides of ``suv``,
``convert`` and ``analyze`` refuse the same impossible values with the same message.
"""

from __future__ import annotations

import math

from nenscope.core.errors import ImpossibleValueError

__all__ = [
    "AGE_RANGE_YEARS",
    "BODY_WEIGHT_RANGE_KG",
    "check_age_years",
    "check_body_weight_kg",
    "require_in_range",
]

BODY_WEIGHT_RANGE_KG = (0.5, 350.0)
"""Possible body weight in kg (inclusive): a preterm newborn to the heaviest patients scanned."""

AGE_RANGE_YEARS = (0.0, 120.0)
"""Possible age in years (inclusive)."""


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
