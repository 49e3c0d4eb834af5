"""Krenning score (PET adaptation) per lesion and per patient, with the PRRT statement.

Scale (Kwekkeboom DJ, Krenning EP. Semin Nucl Med 2002;32(2):84-91, planar 111In-pentetreotide;
applied to SSTR PET with the same liver/spleen references, Hope TA et al. J Nucl Med
2019;60:1266-1269):

====  ==========================================  =========================================
grade  visual definition                           quantitative rule used here
====  ==========================================  =========================================
0      no uptake                                   lesion uptake ≤ background (blood pool)
1      very low, much lower than normal liver      uptake < ``low_fraction`` × liver
2      ≤ normal liver                              ``low_fraction`` × liver ≤ uptake ≤ liver
3      > normal liver                              liver < uptake ≤ spleen
4      > spleen (kidney when there is no spleen)   uptake > spleen (or kidney)
====  ==========================================  =========================================

"Uptake" is the lesion SUVmax and each reference is the SUVmean of its reference region. The
"much lower than liver" boundary is not defined numerically by the scale; ``low_fraction`` =
0.5 is this package's choice (on 68Ga-DOTATATE the median SUVmax of grade-1 lesions was 2.8 and
of grade-2 lesions 4.0 against a liver SUVmean of about 5-7; JNM 2019;60 suppl 1:1535).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nenscope.core.errors import ImpossibleValueError, InvalidArgumentError, NotComputableError

__all__ = [
    "KRENNING_LOW_FRACTION",
    "PRRT_MIN_SCORE",
    "PRRT_PREFERRED_SCORE",
    "KrenningReferences",
    "PatientKrenning",
    "krenning_score",
    "patient_krenning",
]

KRENNING_LOW_FRACTION = 0.5
"""Grade 1 ('much lower than liver') below this fraction of the liver SUVmean."""

PRRT_MIN_SCORE = 2
"""Minimum Krenning grade for PRRT: uptake at least that of normal liver (NETTER-1 inclusion)."""

PRRT_PREFERRED_SCORE = 3
"""Grade preferred for PRRT: uptake above normal liver."""


@dataclass(frozen=True, slots=True, kw_only=True)
class KrenningReferences:
    """Reference SUVmeans for the Krenning scale.

    Attributes
    ----------
    liver_mean
        SUVmean of the normal-liver reference region, > 0.
    spleen_mean
        SUVmean of the spleen reference, > liver; None after splenectomy (then ``kidney_mean``).
    kidney_mean
        SUVmean of normal kidney parenchyma; used for grade 4 only without a spleen.
    background_mean
        SUVmean of the blood pool or surrounding tissue; without it grade 0 is never given.
    low_fraction
        Fraction of the liver SUVmean below which uptake is 'very low' (grade 1).
    """

    liver_mean: float
    spleen_mean: float | None = None
    kidney_mean: float | None = None
    background_mean: float | None = None
    low_fraction: float = KRENNING_LOW_FRACTION

    def __post_init__(self) -> None:
        if not self.liver_mean > 0:
            raise ImpossibleValueError(f"liver_mean must be > 0, got {self.liver_mean}.")
        upper = self.spleen_mean if self.spleen_mean is not None else self.kidney_mean
        if upper is None:
            raise NotComputableError(
                "Krenning grade 4 needs the spleen SUVmean (or the kidney SUVmean after "
                "splenectomy); give spleen_mean or kidney_mean."
            )
        if upper < self.liver_mean:
            raise ImpossibleValueError(
                f"The spleen/kidney reference ({upper}) must not be below the liver "
                f"({self.liver_mean})."
            )
        if not 0.0 < self.low_fraction < 1.0:
            raise InvalidArgumentError(f"low_fraction must be in (0, 1), got {self.low_fraction}.")

    @property
    def upper_mean(self) -> float:
        """The grade-4 reference: spleen SUVmean, or kidney SUVmean without a spleen."""
        value = self.spleen_mean if self.spleen_mean is not None else self.kidney_mean
        if value is None:  # pragma: no cover - __post_init__ guarantees one of them
            raise NotComputableError("No spleen or kidney reference.")
        return value


def krenning_score(suvmax: float, references: KrenningReferences) -> int:
    """Krenning grade 0–4 of one lesion from its SUVmax (see the module table).

    Parameters
    ----------
    suvmax
        Lesion SUVmax (same normalisation as the references).
    references
        Liver, spleen (or kidney) and optional background SUVmeans.

    Returns
    -------
    int
        Grade 0..4.

    Examples
    --------
    >>> refs = KrenningReferences(liver_mean=7.0, spleen_mean=22.0)
    >>> [krenning_score(v, refs) for v in (3.0, 4.0, 7.0, 7.1, 22.0, 22.1)]
    [1, 2, 2, 3, 3, 4]
    """
    if references.background_mean is not None and suvmax <= references.background_mean:
        return 0
    if suvmax < references.low_fraction * references.liver_mean:
        return 1
    if suvmax <= references.liver_mean:
        return 2
    if suvmax <= references.upper_mean:
        return 3
    return 4


@dataclass(frozen=True, slots=True, kw_only=True)
class PatientKrenning:
    """Patient-level Krenning result.

    Attributes
    ----------
    score
        Highest lesion grade (0 when there is no lesion).
    n_lesions
        Number of lesions graded.
    n_below_minimum
        Lesions with grade < 2 (uptake well below normal liver).
    n_below_preferred
        Lesions with grade < 3 (uptake not above normal liver).
    meets_minimum
        Every lesion has grade ≥ 2 (uptake ≥ normal liver); None when there is no lesion.
    meets_preferred
        Every lesion has grade ≥ 3 (uptake > normal liver); None when there is no lesion.
    statement
        The eligibility sentence for the report.
    """

    score: int
    n_lesions: int
    n_below_minimum: int
    n_below_preferred: int
    meets_minimum: bool | None
    meets_preferred: bool | None
    statement: str


def patient_krenning(scores: Sequence[int]) -> PatientKrenning:
    """Patient Krenning score and the PRRT statement from per-lesion grades.

    Parameters
    ----------
    scores
        Krenning grade (0..4) of every lesion.

    Returns
    -------
    PatientKrenning
        Highest grade, counts below the minimum / preferred grades, and the statement.

    Notes
    -----
    PRRT needs SSTR expression on all known lesions. The minimum is tumour uptake at least
    equal to normal liver, Krenning ≥ 2 (NETTER-1 inclusion: Strosberg J et al. N Engl J Med
    2017;376:125-135; IAEA/EANM/SNMMI practical guidance on PRRNT, Zaknun JJ et al. EJNMMI
    2013;40:800-816); uptake above liver, Krenning 3-4, is preferred and predicts response
    (Kwekkeboom DJ, Krenning EP. Semin Nucl Med 2002;32:84-91). Eligibility remains a clinical
    decision; this function states the uptake criterion only.

    Examples
    --------
    >>> r = patient_krenning([4, 3, 2])
    >>> r.score, r.meets_minimum, r.meets_preferred
    (4, True, False)
    """
    for s in scores:
        if s not in (0, 1, 2, 3, 4):
            raise ImpossibleValueError(f"Krenning grades are 0..4, got {s}.")
    if not scores:
        return PatientKrenning(
            score=0,
            n_lesions=0,
            n_below_minimum=0,
            n_below_preferred=0,
            meets_minimum=None,
            meets_preferred=None,
            statement="No SSTR-positive lesion was graded; no Krenning basis for PRRT.",
        )
    below_min = sum(1 for s in scores if s < PRRT_MIN_SCORE)
    below_pref = sum(1 for s in scores if s < PRRT_PREFERRED_SCORE)
    n = len(scores)
    if below_pref == 0:
        statement = (
            "All lesions show uptake above normal liver (Krenning 3-4): the SSTR expression "
            "criterion for PRRT is met."
        )
    elif below_min == 0:
        statement = (
            f"All lesions show uptake at least equal to normal liver (Krenning >= 2), the minimum "
            f"criterion for PRRT; {below_pref} of {n} are not above liver (Krenning 2), where "
            "uptake above liver (Krenning 3-4) is preferred."
        )
    else:
        statement = (
            f"{below_min} of {n} lesions show uptake well below normal liver (Krenning 0-1): the "
            "SSTR expression criterion for PRRT is not met for all lesions (consider FDG PET)."
        )
    return PatientKrenning(
        score=max(scores),
        n_lesions=n,
        n_below_minimum=below_min,
        n_below_preferred=below_pref,
        meets_minimum=below_min == 0,
        meets_preferred=below_pref == 0,
        statement=statement,
    )
