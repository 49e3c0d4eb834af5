"""Units and unit conversions (STYLE 3.2).

Internal units are fixed: length mm, volume mL, time s, activity Bq, mass kg, activity
concentration Bq/mL, SUV g/mL, CT HU, diffusion mm²/s, dose mSv. Every conversion factor lives
here as a named constant; formulas elsewhere never contain a bare ``/ 1000``.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "BQ_PER_MBQ",
    "BQ_PER_MCI",
    "CM_PER_M",
    "G_PER_KG",
    "MBQ_PER_MCI",
    "ML_PER_MM3",
    "MM3_PER_ML",
    "MM_PER_CM",
    "S_PER_DAY",
    "S_PER_HOUR",
    "S_PER_MIN",
    "Unit",
]


class Unit(StrEnum):
    """Unit of the values of an image or measurement."""

    BQ_PER_ML = "Bq/mL"
    SUV_BW = "g/mL"
    SUV_LBM = "g/mL (LBM)"
    SUV_BSA = "cm2/mL"
    SUV_IBW = "g/mL (IBW)"
    COUNTS = "counts"
    HU = "HU"
    MM2_PER_S = "mm2/s"
    MR_SIGNAL = "MR signal"
    GREY_LEVEL = "grey level"
    LABEL = "label"
    UNITLESS = "1"


G_PER_KG = 1000.0
"""Grams per kilogram."""

BQ_PER_MBQ = 1.0e6
"""Becquerel per megabecquerel."""

BQ_PER_MCI = 3.7e7
"""Becquerel per millicurie (exact: 1 Ci = 3.7e10 Bq)."""

MBQ_PER_MCI = 37.0
"""Megabecquerel per millicurie."""

S_PER_MIN = 60.0
"""Seconds per minute."""

S_PER_HOUR = 3600.0
"""Seconds per hour."""

S_PER_DAY = 86400.0
"""Seconds per day."""

MM_PER_CM = 10.0
"""Millimetres per centimetre."""

CM_PER_M = 100.0
"""Centimetres per metre."""

MM3_PER_ML = 1000.0
"""Cubic millimetres per millilitre (1 mL = 1 cm³)."""

ML_PER_MM3 = 1.0 / MM3_PER_ML
"""Millilitres per cubic millimetre."""
