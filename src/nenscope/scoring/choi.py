"""Choi response criteria on contrast CT (size or attenuation).

Choi H, Charnsangavej C, Faria SC, et al. Correlation of computed tomography and positron
emission tomography in patients with metastatic gastrointestinal stromal tumor treated at a
single institution with imatinib mesylate: proposal of new computed tomography response
criteria. J Clin Oncol 2007;25(13):1753-1759 (Table 3):

* CR: disappearance of all lesions; no new lesions.
* PR: a decrease in size (sum of longest diameters) of ≥ 10 % **or** a decrease in tumour
  density (mean HU, portal-venous phase) of ≥ 15 %; no new lesions; no obvious progression of
  non-measurable disease.
* PD: an increase in size of ≥ 10 % that does not meet PR by density; new lesions; new
  intratumoural nodules or growth of existing ones.
* SD: none of the above.

Relevance to NEN: everolimus and TKIs change enhancement before size (clinical-facts §2.6).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from nenscope.core.errors import ImpossibleValueError
from nenscope.scoring._common import BOUNDARY_ATOL

__all__ = ["ChoiCategory", "ChoiResult", "choi_response"]

SIZE_FRACTION = 0.10
"""Choi size change threshold (10 % of the sum of longest diameters)."""

DENSITY_FRACTION = 0.15
"""Choi attenuation decrease threshold (15 % of the mean HU)."""


class ChoiCategory(StrEnum):
    """Choi response categories."""

    CR = "CR"
    PR = "PR"
    SD = "SD"
    PD = "PD"


@dataclass(frozen=True, slots=True, kw_only=True)
class ChoiResult:
    """Choi category with the changes it rests on (fractions: -0.1 = 10 % decrease)."""

    category: ChoiCategory
    size_change: float
    density_change: float | None
    reason: str


def choi_response(
    *,
    baseline_sum_mm: float,
    followup_sum_mm: float,
    baseline_hu: float | None = None,
    followup_hu: float | None = None,
    new_lesions: bool = False,
    new_intratumoural_nodules: bool = False,
    nonmeasurable_progression: bool = False,
) -> ChoiResult:
    """Choi response from the sum of longest diameters and the mean attenuation.

    Parameters
    ----------
    baseline_sum_mm, followup_sum_mm
        Sum of the longest diameters of the target lesions, mm (follow-up 0 = all gone).
    baseline_hu, followup_hu
        Mean attenuation of the target lesions on portal-venous CT, HU (None if unknown).
    new_lesions, new_intratumoural_nodules, nonmeasurable_progression
        Findings that force PD (or forbid PR).

    Returns
    -------
    ChoiResult
        Category and changes.

    Examples
    --------
    >>> choi_response(baseline_sum_mm=100, followup_sum_mm=95, baseline_hu=80,
    ...               followup_hu=68).category
    <ChoiCategory.PR: 'PR'>
    """
    if baseline_sum_mm <= 0 or followup_sum_mm < 0:
        raise ImpossibleValueError("The baseline sum must be > 0 and the follow-up sum >= 0 (mm).")
    size = (followup_sum_mm - baseline_sum_mm) / baseline_sum_mm
    density = None
    if baseline_hu is not None and followup_hu is not None:
        if baseline_hu <= 0:
            raise ImpossibleValueError(
                f"Baseline attenuation must be > 0 HU for a ratio, got {baseline_hu}."
            )
        density = (followup_hu - baseline_hu) / baseline_hu
    density_pr = density is not None and density <= -DENSITY_FRACTION + BOUNDARY_ATOL
    if new_lesions or new_intratumoural_nodules:
        reason = "new lesions" if new_lesions else "new or growing intratumoural nodules"
        return ChoiResult(
            category=ChoiCategory.PD, size_change=size, density_change=density, reason=reason
        )
    if size >= SIZE_FRACTION - BOUNDARY_ATOL and not density_pr:
        return ChoiResult(
            category=ChoiCategory.PD,
            size_change=size,
            density_change=density,
            reason="size increase >= 10 % without a >= 15 % density decrease",
        )
    if followup_sum_mm == 0:
        return ChoiResult(
            category=ChoiCategory.CR,
            size_change=size,
            density_change=density,
            reason="all lesions disappeared",
        )
    shrunk = size <= -SIZE_FRACTION + BOUNDARY_ATOL
    if (shrunk or density_pr) and not nonmeasurable_progression:
        why = "size decrease >= 10 %" if shrunk else "density decrease >= 15 %"
        return ChoiResult(
            category=ChoiCategory.PR, size_change=size, density_change=density, reason=why
        )
    return ChoiResult(
        category=ChoiCategory.SD,
        size_change=size,
        density_change=density,
        reason="neither PR nor PD",
    )
