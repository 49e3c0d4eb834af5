"""PERCIST 1.0 response from SULpeak of the hottest lesion (baseline vs follow-up).

Wahl RL, Jacene H, Kasamon Y, Lodge MA. From RECIST to PERCIST: evolving considerations for
PET response criteria in solid tumors. J Nucl Med 2009;50 Suppl 1:122S-150S (Table 6 and
Appendix); practical guide: O JH, Lodge MA, Wahl RL. Radiology 2016;280(2):576-584.

* Measurable lesion: SULpeak ≥ 1.5 × liver SULmean + 2 SD (3 cm sphere, right lobe); when
  the liver is abnormal, ≥ 2.0 × blood-pool SULmean + 2 SD (1 cm × 2 cm descending aorta).
* The single hottest lesion of each scan is compared (it need not be the same lesion).
* CMR: uptake of every lesion ≤ mean liver SUL and indistinguishable from background; no new
  lesions.
* PMR: SULpeak decrease ≥ 30 % and ≥ 0.8 SUL units; no new lesions.
* PMD: SULpeak increase > 30 % and > 0.8 SUL units, or > 75 % increase in the summed TLG of
  the (up to 5) hottest lesions, or new FDG-avid lesions typical of cancer.
* SMD: none of the above.
* Comparability check: the liver SULmean of both scans should agree within 20 % and 0.3 SUL
  (O et al. 2016); otherwise the result carries a warning.

PERCIST is defined for FDG PET; for SSTR tracers the output is labelled exploratory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from nenscope.core import NotComputableError
from nenscope.core.errors import ImpossibleValueError, InvalidArgumentError
from nenscope.scoring._common import BOUNDARY_ATOL

__all__ = [
    "PercistCategory",
    "PercistResult",
    "PercistScan",
    "percist_blood_pool_threshold",
    "percist_measurable_threshold",
    "percist_response",
]

RELATIVE_CHANGE = 0.30
"""PERCIST relative SULpeak change for PMR / PMD."""

ABSOLUTE_CHANGE_SUL = 0.8
"""PERCIST absolute SULpeak change for PMR / PMD, SUL units."""

TLG_INCREASE = 0.75
"""PERCIST PMD by summed TLG of up to 5 hottest lesions: relative increase."""

LIVER_DRIFT_FRACTION = 0.20
"""Largest relative liver SULmean difference between comparable scans."""

LIVER_DRIFT_SUL = 0.3
"""Largest absolute liver SULmean difference between comparable scans, SUL units."""


def percist_measurable_threshold(liver_mean: float, liver_sd: float) -> float:
    """Minimum measurable SULpeak: 1.5 × liver SULmean + 2 × SD.

    Examples
    --------
    >>> percist_measurable_threshold(1.6, 0.2)
    2.8000000000000003
    """
    if liver_mean <= 0 or liver_sd < 0:
        raise ImpossibleValueError("liver_mean must be > 0 and liver_sd >= 0.")
    return 1.5 * liver_mean + 2.0 * liver_sd


def percist_blood_pool_threshold(blood_mean: float, blood_sd: float) -> float:
    """Minimum measurable SULpeak with an abnormal liver: 2.0 × blood-pool SULmean + 2 × SD.

    Examples
    --------
    >>> percist_blood_pool_threshold(1.0, 0.1)
    2.2
    """
    if blood_mean <= 0 or blood_sd < 0:
        raise ImpossibleValueError("blood_mean must be > 0 and blood_sd >= 0.")
    return 2.0 * blood_mean + 2.0 * blood_sd


class PercistCategory(StrEnum):
    """PERCIST 1.0 categories."""

    CMR = "CMR"
    PMR = "PMR"
    SMD = "SMD"
    PMD = "PMD"


@dataclass(frozen=True, slots=True, kw_only=True)
class PercistScan:
    """One scan for PERCIST (all values in SUL, i.e. SUV normalised to lean body mass).

    Attributes
    ----------
    sulpeaks
        SULpeak of every lesion (any order); empty when no lesion is seen.
    tlgs
        TLG (SUL·mL) of every lesion, same order as ``sulpeaks`` (optional; empty to skip the
        TLG rule).
    liver_mean, liver_sd
        Liver reference SULmean and SD.
    """

    sulpeaks: Sequence[float]
    liver_mean: float
    liver_sd: float
    tlgs: Sequence[float] = field(default=())

    def __post_init__(self) -> None:
        if self.tlgs and len(self.tlgs) != len(self.sulpeaks):
            raise InvalidArgumentError("tlgs must have one value per lesion, like sulpeaks.")
        if self.liver_mean <= 0 or self.liver_sd < 0:
            raise ImpossibleValueError("liver_mean must be > 0 and liver_sd >= 0.")

    @property
    def hottest(self) -> float:
        """SULpeak of the hottest lesion (0 without lesions)."""
        return max(self.sulpeaks, default=0.0)

    def summed_tlg(self, n: int = 5) -> float:
        """Sum of TLG over the ``n`` lesions with the highest SULpeak."""
        order = sorted(range(len(self.sulpeaks)), key=lambda i: -self.sulpeaks[i])[:n]
        return float(sum(self.tlgs[i] for i in order))


@dataclass(frozen=True, slots=True, kw_only=True)
class PercistResult:
    """PERCIST 1.0 result.

    Attributes
    ----------
    category
        CMR, PMR, SMD or PMD.
    baseline_sulpeak, followup_sulpeak
        Hottest-lesion SULpeak on each scan.
    relative_change, absolute_change
        Follow-up minus baseline, relative and in SUL units.
    measurable_threshold
        Baseline measurability threshold (1.5 × liver mean + 2 SD).
    reason
        Why this category.
    warnings
        Comparability problems (liver drift) and the exploratory label for non-FDG tracers.
    """

    category: PercistCategory
    baseline_sulpeak: float
    followup_sulpeak: float
    relative_change: float
    absolute_change: float
    measurable_threshold: float
    reason: str
    warnings: tuple[str, ...]


def _warnings(baseline: PercistScan, followup: PercistScan, is_fdg: bool) -> tuple[str, ...]:
    out = []
    drift = abs(followup.liver_mean - baseline.liver_mean)
    if (
        drift > LIVER_DRIFT_FRACTION * baseline.liver_mean + BOUNDARY_ATOL
        or drift >= LIVER_DRIFT_SUL - BOUNDARY_ATOL
    ):
        out.append(
            f"liver SULmean changed from {baseline.liver_mean:.2f} to {followup.liver_mean:.2f}"
            " (PERCIST comparability: within 20 % and < 0.3 SUL)"
        )
    if not is_fdg:
        out.append("PERCIST is defined for FDG PET; this result on another tracer is exploratory")
    return tuple(out)


def percist_response(
    baseline: PercistScan,
    followup: PercistScan,
    *,
    new_lesions: bool = False,
    is_fdg: bool = True,
) -> PercistResult:
    """PERCIST 1.0 category from a baseline and a follow-up scan.

    Parameters
    ----------
    baseline, followup
        Lesion SULpeaks (and optional TLGs) and liver reference of each scan.
    new_lesions
        New lesions typical of tumour on follow-up (PMD).
    is_fdg
        False for non-FDG tracers: the result is labelled exploratory.

    Returns
    -------
    PercistResult
        Category, changes and warnings.

    Raises
    ------
    NotComputableError
        If the hottest baseline lesion is not measurable (below 1.5 × liver mean + 2 SD).
    """
    threshold = percist_measurable_threshold(baseline.liver_mean, baseline.liver_sd)
    base, now = baseline.hottest, followup.hottest
    if base < threshold - BOUNDARY_ATOL:
        raise NotComputableError(
            f"PERCIST needs a measurable baseline lesion: hottest SULpeak {base:.2f} is below "
            f"1.5 × liver mean + 2 SD = {threshold:.2f}."
        )
    rel, absolute = (now - base) / base, now - base
    tlg_up = False
    if baseline.tlgs and followup.tlgs and baseline.summed_tlg() > 0:
        tlg_up = followup.summed_tlg() / baseline.summed_tlg() - 1.0 > TLG_INCREASE + BOUNDARY_ATOL
    warnings = _warnings(baseline, followup, is_fdg)

    def result(category: PercistCategory, reason: str) -> PercistResult:
        return PercistResult(
            category=category,
            baseline_sulpeak=base,
            followup_sulpeak=now,
            relative_change=rel,
            absolute_change=absolute,
            measurable_threshold=threshold,
            reason=reason,
            warnings=warnings,
        )

    if new_lesions:
        return result(PercistCategory.PMD, "new lesions")
    if rel > RELATIVE_CHANGE + BOUNDARY_ATOL and absolute > ABSOLUTE_CHANGE_SUL + BOUNDARY_ATOL:
        return result(PercistCategory.PMD, "SULpeak increase > 30 % and > 0.8 SUL")
    if tlg_up:
        return result(PercistCategory.PMD, "summed TLG of the 5 hottest lesions up > 75 %")
    if all(p <= followup.liver_mean + BOUNDARY_ATOL for p in followup.sulpeaks):
        return result(PercistCategory.CMR, "every lesion at or below the mean liver SUL")
    if (
        rel <= -RELATIVE_CHANGE + BOUNDARY_ATOL
        and -absolute >= ABSOLUTE_CHANGE_SUL - BOUNDARY_ATOL
    ):
        return result(PercistCategory.PMR, "SULpeak decrease >= 30 % and >= 0.8 SUL")
    return result(PercistCategory.SMD, "neither PMR nor PMD")
