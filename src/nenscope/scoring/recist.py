"""RECIST 1.1: target-lesion selection and response from baseline and follow-up diameters.

Eisenhauer EA, Therasse P, Bogaerts J, et al. New response evaluation criteria in solid
tumours: revised RECIST guideline (version 1.1). Eur J Cancer 2009;45(2):228-247:

* Measurable (§3.1.2): non-nodal lesion with longest diameter ≥ 10 mm on CT (slice ≤ 5 mm);
  lymph node with short axis ≥ 15 mm. Nodes with short axis 10–< 15 mm are pathological but
  non-measurable; < 10 mm are normal.
* Targets (§3.3.1): up to 5 lesions in total and up to 2 per organ, the largest first; the sum
  of diameters uses the longest diameter of non-nodal lesions and the short axis of nodes.
* Response (§4.3.1, Table 1): CR — all non-nodal targets gone and every nodal target < 10 mm
  short axis; PR — sum ≥ 30 % below baseline; PD — sum ≥ 20 % above the nadir (the smallest
  sum on study, baseline included) **and** ≥ 5 mm absolute increase, or new lesions, or
  unequivocal non-target progression; SD — otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from nenscope.core.errors import ImpossibleValueError, NotComputableError
from nenscope.scoring._common import BOUNDARY_ATOL

__all__ = [
    "NODE_NORMAL_SHORT_AXIS_MM",
    "NODE_TARGET_SHORT_AXIS_MM",
    "NON_NODAL_MIN_DIAMETER_MM",
    "RecistCategory",
    "RecistLesion",
    "RecistResult",
    "recist_response",
    "select_target_lesions",
]

NON_NODAL_MIN_DIAMETER_MM = 10.0
"""Smallest measurable longest diameter of a non-nodal lesion on CT, mm (RECIST 1.1 §3.1.2)."""

NODE_TARGET_SHORT_AXIS_MM = 15.0
"""Smallest short axis of a measurable (target) lymph node, mm."""

NODE_NORMAL_SHORT_AXIS_MM = 10.0
"""Lymph nodes with a short axis below this are normal, mm."""

MAX_TARGETS = 5
"""Largest number of target lesions."""

MAX_TARGETS_PER_ORGAN = 2
"""Largest number of target lesions per organ."""


class RecistCategory(StrEnum):
    """RECIST 1.1 target response."""

    CR = "CR"
    PR = "PR"
    SD = "SD"
    PD = "PD"


@dataclass(frozen=True, slots=True, kw_only=True)
class RecistLesion:
    """A lesion measured for RECIST.

    Attributes
    ----------
    lesion_id
        Identifier, stable between studies.
    organ
        Organ name (lymph nodes count as one organ, ``"lymph node"``).
    is_node
        True for lymph nodes (measured by short axis).
    longest_diameter_mm, short_axis_mm
        Axial diameters, mm.
    """

    lesion_id: str
    organ: str
    is_node: bool
    longest_diameter_mm: float
    short_axis_mm: float

    def __post_init__(self) -> None:
        if self.longest_diameter_mm < 0 or self.short_axis_mm < 0:
            raise ImpossibleValueError(f"Lesion {self.lesion_id}: diameters must be >= 0 mm.")

    @property
    def diameter_mm(self) -> float:
        """The RECIST diameter: short axis for nodes, longest diameter otherwise, mm."""
        return self.short_axis_mm if self.is_node else self.longest_diameter_mm

    @property
    def is_measurable(self) -> bool:
        """Whether the lesion can be a target lesion."""
        if self.is_node:
            return self.short_axis_mm >= NODE_TARGET_SHORT_AXIS_MM
        return self.longest_diameter_mm >= NON_NODAL_MIN_DIAMETER_MM


def select_target_lesions(lesions: Sequence[RecistLesion]) -> tuple[RecistLesion, ...]:
    """Choose up to 5 measurable targets, at most 2 per organ, largest diameter first.

    Examples
    --------
    >>> ls = [RecistLesion(lesion_id=str(i), organ="liver", is_node=False,
    ...                    longest_diameter_mm=d, short_axis_mm=d / 2)
    ...       for i, d in enumerate([12.0, 40.0, 25.0, 9.0])]
    >>> [t.lesion_id for t in select_target_lesions(ls)]
    ['1', '2']
    """
    chosen: list[RecistLesion] = []
    per_organ: dict[str, int] = {}
    for lesion in sorted(lesions, key=lambda les: -les.diameter_mm):
        organ = "lymph node" if lesion.is_node else lesion.organ
        if not lesion.is_measurable or per_organ.get(organ, 0) >= MAX_TARGETS_PER_ORGAN:
            continue
        chosen.append(lesion)
        per_organ[organ] = per_organ.get(organ, 0) + 1
        if len(chosen) == MAX_TARGETS:
            break
    return tuple(chosen)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecistResult:
    """RECIST 1.1 target response.

    Attributes
    ----------
    category
        CR, PR, SD or PD.
    baseline_sum_mm, followup_sum_mm, nadir_sum_mm
        Sums of diameters, mm.
    change_from_baseline, change_from_nadir
        Relative changes (-0.3 = 30 % decrease); change from nadir is None when the nadir is 0.
    reason
        Why this category.
    """

    category: RecistCategory
    baseline_sum_mm: float
    followup_sum_mm: float
    nadir_sum_mm: float
    change_from_baseline: float
    change_from_nadir: float | None
    reason: str


def recist_response(
    targets: Sequence[RecistLesion],
    followup: Mapping[str, RecistLesion],
    *,
    nadir_sum_mm: float | None = None,
    new_lesions: bool = False,
    non_target_progression: bool = False,
) -> RecistResult:
    """RECIST 1.1 response of the baseline target lesions at follow-up.

    Parameters
    ----------
    targets
        Baseline target lesions (e.g. from :func:`select_target_lesions`).
    followup
        Follow-up measurement of every target, keyed by ``lesion_id``; a vanished lesion has
        diameters 0.
    nadir_sum_mm
        Smallest sum of diameters on earlier follow-ups; the baseline sum is used when smaller
        or when None.
    new_lesions, non_target_progression
        Unequivocal new lesions / non-target progression (force PD).

    Returns
    -------
    RecistResult
        Category, sums and changes.

    Raises
    ------
    ValueError
        If there is no target or a target has no follow-up measurement.
    """
    if not targets:
        raise NotComputableError("RECIST response needs at least one baseline target lesion.")
    missing = [t.lesion_id for t in targets if t.lesion_id not in followup]
    if missing:
        raise NotComputableError(f"No follow-up measurement for target lesion(s) {missing}.")
    base = sum(t.diameter_mm for t in targets)
    now_lesions = [followup[t.lesion_id] for t in targets]
    now = sum(les.diameter_mm for les in now_lesions)
    nadir = base if nadir_sum_mm is None else min(base, nadir_sum_mm)
    from_base = (now - base) / base if base > 0 else 0.0
    from_nadir = (now - nadir) / nadir if nadir > 0 else None
    grew = (now - nadir >= 5.0 - BOUNDARY_ATOL) and (
        from_nadir is None or from_nadir >= 0.20 - BOUNDARY_ATOL
    )

    def result(category: RecistCategory, reason: str) -> RecistResult:
        return RecistResult(
            category=category,
            baseline_sum_mm=base,
            followup_sum_mm=now,
            nadir_sum_mm=nadir,
            change_from_baseline=from_base,
            change_from_nadir=from_nadir,
            reason=reason,
        )

    if new_lesions or non_target_progression:
        return result(RecistCategory.PD, "new lesions or unequivocal non-target progression")
    if grew:
        return result(RecistCategory.PD, "sum >= 20 % and >= 5 mm above the nadir")
    gone = all(
        les.short_axis_mm < NODE_NORMAL_SHORT_AXIS_MM if les.is_node else les.diameter_mm == 0
        for les in now_lesions
    )
    if gone:
        return result(RecistCategory.CR, "non-nodal targets gone, nodes < 10 mm short axis")
    if from_base <= -0.30 + BOUNDARY_ATOL:
        return result(RecistCategory.PR, "sum >= 30 % below baseline")
    return result(RecistCategory.SD, "neither PR nor PD")
