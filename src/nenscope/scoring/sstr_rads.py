"""SSTR-RADS version 1.0 lesion categories and the overall scan category.

Werner RA, Solnes LB, Javadi MS, et al. SSTR-RADS Version 1.0 as a Reporting System for SSTR
PET Imaging and Selection of Potential PRRT Candidates: A Proposed Standardization Framework.
J Nucl Med 2018;59(7):1085-1091, doi:10.2967/jnumed.117.206631. Up to 5 target lesions; the
overall scan category is the highest lesion category (validation: JNM 2021;62:514 and Eur
Radiol 2023;33:3416, max 5 lesions, ≤ 3 per organ).

============  ===================================================================
category      definition (inputs to :func:`sstr_rads_category`)
============  ===================================================================
1A            benign lesion (biopsy or pathognomonic imaging) without abnormal uptake
1B            benign lesion (biopsy or pathognomonic imaging) with abnormal uptake
2             equivocal uptake at a site atypical of NET, or a physiological
              variant (e.g. uncinate process)
3A            equivocal uptake (≈ blood pool) in a soft-tissue site typical of NET
              (e.g. lymph node) without a definite anatomic finding
3B            equivocal uptake in a bone lesion not definite on anatomic imaging
3C            intense uptake at a site atypical of NET (possible other tumour)
3D            lesion suggestive of malignancy on anatomic imaging without uptake
              (possible dedifferentiation: consider FDG PET)
4             intense uptake at a site typical of NET without a definite anatomic
              correlate
5             intense uptake at a typical site with a corresponding anatomic finding
============  ===================================================================

The category wording is from clinical-facts §2.2 (3A/3B read in the 2024 J Cancer Res Clin
Oncol paper, doi:10.1007/s00432-024-05776-5; the others recalled from the 2018 paper). The
uptake level helper (:func:`sstr_rads_uptake`) is this package's convention: none at or below
the blood-pool SUVmean, equivocal up to twice it, intense above.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from nenscope.core import parse_option
from nenscope.core.errors import ImpossibleValueError, InvalidArgumentError, NotComputableError

__all__ = [
    "AnatomicFinding",
    "SstrRads",
    "Uptake",
    "UptakeSite",
    "sstr_rads_category",
    "sstr_rads_overall",
    "sstr_rads_uptake",
]

INTENSE_BLOOD_POOL_FACTOR = 2.0
"""Uptake above this multiple of the blood-pool SUVmean is 'intense' (package convention)."""


class SstrRads(StrEnum):
    """SSTR-RADS 1.0 categories, in increasing order of suspicion."""

    R1A = "1A"
    R1B = "1B"
    R2 = "2"
    R3A = "3A"
    R3B = "3B"
    R3C = "3C"
    R3D = "3D"
    R4 = "4"
    R5 = "5"


class Uptake(StrEnum):
    """Lesion uptake relative to background."""

    NONE = "none"
    EQUIVOCAL = "equivocal"
    INTENSE = "intense"


class UptakeSite(StrEnum):
    """Whether the site is typical of NET (lymph node, liver, bone, pancreas, bowel ...)."""

    TYPICAL = "typical"
    ATYPICAL = "atypical"


class AnatomicFinding(StrEnum):
    """What CT/MRI shows at the site."""

    NONE = "none"
    SUSPICIOUS = "suspicious"
    BENIGN = "benign"


def sstr_rads_uptake(suvmax: float, *, blood_pool_mean: float) -> Uptake:
    """Uptake level from SUVmax and the blood-pool SUVmean (package convention, see module).

    Examples
    --------
    >>> [sstr_rads_uptake(v, blood_pool_mean=1.5).value for v in (1.5, 3.0, 3.1)]
    ['none', 'equivocal', 'intense']
    """
    if blood_pool_mean <= 0:
        raise ImpossibleValueError(f"blood_pool_mean must be > 0, got {blood_pool_mean}.")
    if suvmax <= blood_pool_mean:
        return Uptake.NONE
    if suvmax <= INTENSE_BLOOD_POOL_FACTOR * blood_pool_mean:
        return Uptake.EQUIVOCAL
    return Uptake.INTENSE


def sstr_rads_category(
    *,
    uptake: Uptake,
    site: UptakeSite,
    anatomy: AnatomicFinding,
    is_bone: bool = False,
    physiological_variant: bool = False,
) -> SstrRads:
    """SSTR-RADS 1.0 category of one lesion (see the module table).

    Parameters
    ----------
    uptake
        Uptake level (none / equivocal ≈ blood pool / intense).
    site
        Whether the site is typical of NET.
    anatomy
        Anatomic finding at the site: none, suspicious for malignancy, or benign (biopsy or
        pathognomonic).
    is_bone
        Bone lesion (3B instead of 3A for equivocal uptake).
    physiological_variant
        A known physiological variant (e.g. uncinate process): category 2 unless benign.

    Returns
    -------
    SstrRads
        The category.

    Raises
    ------
    ValueError
        For a site without uptake and without an anatomic finding (nothing to categorise).

    Examples
    --------
    >>> sstr_rads_category(uptake=Uptake.INTENSE, site=UptakeSite.TYPICAL,
    ...                    anatomy=AnatomicFinding.SUSPICIOUS).value
    '5'
    """
    uptake = parse_option(uptake, Uptake, what="SSTR-RADS uptake")
    site = parse_option(site, UptakeSite, what="SSTR-RADS site")
    anatomy = parse_option(anatomy, AnatomicFinding, what="SSTR-RADS anatomic finding")
    if anatomy is AnatomicFinding.BENIGN:
        return SstrRads.R1A if uptake is Uptake.NONE else SstrRads.R1B
    if uptake is Uptake.NONE:
        if anatomy is AnatomicFinding.SUSPICIOUS:
            return SstrRads.R3D
        raise NotComputableError(
            "No uptake and no anatomic finding: there is no lesion to categorise."
        )
    if physiological_variant:
        return SstrRads.R2
    if uptake is Uptake.EQUIVOCAL:
        if site is UptakeSite.ATYPICAL:
            return SstrRads.R2
        return SstrRads.R3B if is_bone else SstrRads.R3A
    if site is UptakeSite.ATYPICAL:
        return SstrRads.R3C
    return SstrRads.R5 if anatomy is AnatomicFinding.SUSPICIOUS else SstrRads.R4


_ORDER = list(SstrRads)


def sstr_rads_overall(categories: Sequence[SstrRads]) -> SstrRads:
    """Overall scan category: the highest of up to 5 target-lesion categories.

    Examples
    --------
    >>> sstr_rads_overall([SstrRads.R3A, SstrRads.R4, SstrRads.R1B]).value
    '4'
    """
    if not categories:
        raise InvalidArgumentError(
            "The overall SSTR-RADS category needs at least one target lesion."
        )
    categories = [parse_option(c, SstrRads, what="SSTR-RADS category") for c in categories]
    if len(categories) > 5:
        raise InvalidArgumentError(
            f"SSTR-RADS uses at most 5 target lesions, got {len(categories)}."
        )
    return max(categories, key=_ORDER.index)
