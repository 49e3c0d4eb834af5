"""NETPET grade from paired SSTR and FDG PET lesions (P0–P5).

Chan DLH, Pavlakis N, Schembri GP, et al. Dual somatostatin receptor/FDG PET/CT imaging in
metastatic neuroendocrine tumours: proposal for a novel grading scheme with prognostic
significance. Theranostics 2017;7(5):1149-1158, doi:10.7150/thno.18068 (Figure 1); table of
PRRT suitability in Cancer Imaging 2022, doi:10.1186/s40644-022-00465-3 (Table 1):

=====  ==========================  =======================================  ====================
grade  SSTR PET                    FDG PET                                  PRRT suitability
=====  ==========================  =======================================  ====================
P0     negative                    negative                                 not suitable
P1     positive                    negative                                 probably suitable
P2     positive                    positive, FDG < SSTR                     probably suitable
P3     positive                    positive, FDG ≈ SSTR                     probably suitable
P4     positive                    positive, FDG > SSTR                     P4a (1–2 lesions)
                                                                            probably; P4b (≥ 3)
                                                                            maybe, with more
                                                                            therapy
P5     negative (≥ 1 lesion)       positive                                 not suitable
=====  ==========================  =======================================  ====================

"Positive" means uptake above background (modified Krenning 2–4). The patient grade is the
worst lesion: any FDG-positive SSTR-negative lesion gives P5; otherwise the highest of P2–P4
over the FDG-positive lesions; P1 when no lesion is FDG-positive; P0 when no lesion is
positive on either scan. The visual comparison "FDG < / ≈ / > SSTR" is made here on the
lesion-to-liver SUVmax ratios of both scans, equal within ±20 % (this package's quantitative
surrogate; set ``equal_tolerance``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from nenscope.core.errors import ImpossibleValueError, InvalidArgumentError, NotComputableError

__all__ = ["NetpetGrade", "NetpetLesion", "NetpetResult", "netpet_grade"]

EQUAL_TOLERANCE = 0.20
"""FDG and SSTR intensities count as equal when their ratio is within 1 ± this."""

P4A_MAX_LESIONS = 2
"""P4a: at most this many lesions with FDG > SSTR; P4b from one more."""


class NetpetGrade(StrEnum):
    """NETPET grades."""

    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4A = "P4a"
    P4B = "P4b"
    P5 = "P5"


@dataclass(frozen=True, slots=True, kw_only=True)
class NetpetLesion:
    """One lesion seen on the SSTR and/or FDG scan (matched between them).

    Attributes
    ----------
    sstr_positive, fdg_positive
        Uptake above background on each scan.
    sstr_intensity, fdg_intensity
        Comparable intensities, e.g. lesion SUVmax / liver SUVmean on each scan (needed when
        both are positive).
    """

    sstr_positive: bool
    fdg_positive: bool
    sstr_intensity: float | None = None
    fdg_intensity: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NetpetResult:
    """Patient NETPET grade.

    Attributes
    ----------
    grade
        P0–P5 (P4 split into P4a / P4b).
    prrt_suitability
        The suitability wording of the grading table.
    n_discordant
        FDG-positive SSTR-negative lesions (P5 lesions).
    n_fdg_dominant
        FDG-positive lesions with FDG > SSTR.
    """

    grade: NetpetGrade
    prrt_suitability: str
    n_discordant: int
    n_fdg_dominant: int


_SUITABILITY = {
    NetpetGrade.P0: "not suitable",
    NetpetGrade.P1: "probably suitable",
    NetpetGrade.P2: "probably suitable",
    NetpetGrade.P3: "probably suitable",
    NetpetGrade.P4A: "probably suitable",
    NetpetGrade.P4B: "maybe suitable, additional therapy required",
    NetpetGrade.P5: "not suitable",
}


def _compare(lesion: NetpetLesion, tolerance: float) -> int:
    """-1: FDG < SSTR, 0: equal, +1: FDG > SSTR."""
    if lesion.sstr_intensity is None or lesion.fdg_intensity is None:
        raise NotComputableError(
            "A lesion positive on both scans needs both intensities to compare."
        )
    if lesion.sstr_intensity <= 0:
        raise ImpossibleValueError("sstr_intensity must be > 0 for a positive lesion.")
    ratio = lesion.fdg_intensity / lesion.sstr_intensity
    if ratio > 1.0 + tolerance:
        return 1
    if ratio < 1.0 - tolerance:
        return -1
    return 0


def netpet_grade(
    lesions: Sequence[NetpetLesion], *, equal_tolerance: float = EQUAL_TOLERANCE
) -> NetpetResult:
    """Patient NETPET grade from matched SSTR/FDG lesions (see the module table).

    Examples
    --------
    >>> netpet_grade([NetpetLesion(sstr_positive=True, fdg_positive=True,
    ...                            sstr_intensity=4.0, fdg_intensity=1.0)]).grade
    <NetpetGrade.P2: 'P2'>
    """
    if not 0 <= equal_tolerance < 1:
        raise InvalidArgumentError(f"equal_tolerance must be in [0, 1), got {equal_tolerance}.")
    discordant = sum(1 for les in lesions if les.fdg_positive and not les.sstr_positive)
    both = [les for les in lesions if les.fdg_positive and les.sstr_positive]
    comparisons = [_compare(les, equal_tolerance) for les in both]
    dominant = sum(1 for c in comparisons if c > 0)
    if discordant:
        grade = NetpetGrade.P5
    elif dominant:
        grade = NetpetGrade.P4A if dominant <= P4A_MAX_LESIONS else NetpetGrade.P4B
    elif 0 in comparisons:
        grade = NetpetGrade.P3
    elif comparisons:
        grade = NetpetGrade.P2
    elif any(les.sstr_positive for les in lesions):
        grade = NetpetGrade.P1
    else:
        grade = NetpetGrade.P0
    return NetpetResult(
        grade=grade,
        prrt_suitability=_SUITABILITY[grade],
        n_discordant=discordant,
        n_fdg_dominant=dominant,
    )
