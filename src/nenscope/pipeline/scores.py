"""SSTR-RADS 1.0 and NETPET for the pipeline: inputs from the user, results as report entries.

* **SSTR-RADS 1.0** (SSTR studies): up to 5 target lesions, the hottest first. The uptake level
  comes from the lesion SUVmax against the blood-pool SUVmean
  (:func:`nenscope.scoring.sstr_rads.sstr_rads_uptake`); the clinical inputs the image cannot
  give (is the site typical of NET, what does CT/MRI show, is it bone, a physiological
  variant) come from :class:`SstrRadsInputs` (command-line options), with the defaults "typical
  site, no anatomic correlate" stated in the report.
* **NETPET** (an SSTR study with an FDG study of the same patient): the FDG lesions are mapped
  into the SSTR study by the CT-CT registration and matched by centroid distance; a lesion is
  SSTR-positive at Krenning ≥ 2 (uptake ≥ half the liver mean) and FDG-positive when its FDG
  SUVmax exceeds the FDG liver SUVmean (package convention); intensities compared are lesion
  SUVmax / liver SUVmean on each scan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from nenscope.core.enums import parse_option
from nenscope.core.errors import OptionError
from nenscope.pipeline.references import ReferenceRegion
from nenscope.quantification.lesions import LesionStatistics
from nenscope.registration import Registration
from nenscope.reporting.model import ScoreEntry
from nenscope.scoring.matching import DEFAULT_MAX_DISTANCE_MM, MatchResult, match_lesions
from nenscope.scoring.netpet import NetpetLesion, netpet_grade
from nenscope.scoring.sstr_rads import (
    AnatomicFinding,
    SstrRads,
    UptakeSite,
    sstr_rads_category,
    sstr_rads_overall,
    sstr_rads_uptake,
)

__all__ = [
    "NETPET_DEFINITION",
    "NETPET_MATCH_MM",
    "SSTR_RADS_DEFINITION",
    "SstrRadsInputs",
    "netpet_score",
    "sstr_rads_score",
]

SSTR_RADS_DEFINITION = (
    "Per target lesion (up to 5): 1A/1B benign without/with uptake; 2 equivocal uptake at an "
    "atypical site or physiological variant; 3A/3B equivocal uptake (≈ blood pool) in soft "
    "tissue / bone typical of NET; 3C intense uptake at an atypical site; 3D anatomic lesion "
    "without uptake; 4 intense uptake at a typical site without anatomic correlate; 5 with "
    "correlate. Scan category = highest lesion category. Uptake here: none ≤ blood pool mean, "
    "equivocal ≤ 2 × blood pool, intense above."
)
"""Definition shown with SSTR-RADS."""

_SSTR_RADS_SOURCE = "Werner et al., J Nucl Med 2018;59:1085"

NETPET_DEFINITION = (
    "Dual SSTR/FDG PET grade: P0 both negative; P1 SSTR+ FDG−; P2 FDG+ with FDG < SSTR; P3 "
    "FDG ≈ SSTR; P4 FDG > SSTR (P4a 1–2 lesions, P4b ≥ 3); P5 any FDG+ SSTR− lesion. Patient "
    "grade = worst lesion."
)
"""Definition shown with NETPET."""

_NETPET_SOURCE = "Chan et al., Theranostics 2017;7:1149"

NETPET_MATCH_MM = DEFAULT_MAX_DISTANCE_MM
"""Largest centroid distance (mm, after registration) for an SSTR and an FDG lesion to match
(the one matching distance of the package, as for response)."""

MAX_TARGETS = 5
"""SSTR-RADS target lesions."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SstrRadsInputs:
    """Clinical inputs of SSTR-RADS per lesion id (the report's lesion numbers).

    Parameters
    ----------
    sites
        Lesion id → ``typical`` or ``atypical`` (site typical of NET?); default typical.
    anatomy
        Lesion id → ``none``, ``suspicious`` or ``benign`` (CT/MRI finding); default none.
    bone
        Lesion ids that are bone lesions.
    variants
        Lesion ids that are physiological variants (e.g. the uncinate process).
    """

    sites: Mapping[int, str] = field(default_factory=dict)
    anatomy: Mapping[int, str] = field(default_factory=dict)
    bone: tuple[int, ...] = ()
    variants: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        for lid, value in self.sites.items():
            parse_option(value, UptakeSite, what=f"SSTR-RADS site of lesion {lid}")
        for lid, value in self.anatomy.items():
            parse_option(value, AnatomicFinding, what=f"SSTR-RADS anatomy of lesion {lid}")

    @property
    def is_default(self) -> bool:
        """Whether no clinical input was given."""
        return not (self.sites or self.anatomy or self.bone or self.variants)


def sstr_rads_score(
    statistics: Sequence[LesionStatistics],
    references: Mapping[str, ReferenceRegion],
    inputs: SstrRadsInputs,
) -> tuple[dict[int, str], ScoreEntry]:
    """SSTR-RADS category of the target lesions and of the scan.

    Parameters
    ----------
    statistics
        Lesions in report order (lesion id = index + 1).
    references
        Placed reference regions (the blood pool is needed).
    inputs
        Clinical inputs per lesion id.

    Returns
    -------
    categories
        Lesion id → category, for the target lesions.
    score
        The scan category with its definition and the inputs used.
    """
    known = set(range(1, len(statistics) + 1))
    unknown = sorted(
        (set(inputs.sites) | set(inputs.anatomy) | set(inputs.bone) | set(inputs.variants)) - known
    )
    if unknown:
        raise OptionError(
            f"SSTR-RADS inputs name lesion(s) {unknown}, but the lesions are 1..{len(known)}. "
            "Run once, read the lesion numbers in the report, then give the inputs."
        )
    blood = references.get("blood_pool")
    if blood is None:
        return {}, ScoreEntry(
            name="SSTR-RADS 1.0",
            value="not computable",
            definition=SSTR_RADS_DEFINITION,
            source=_SSTR_RADS_SOURCE,
            details="needs the blood-pool reference (give --blood-pool-mm)",
        )
    if not statistics:
        return {}, ScoreEntry(
            name="SSTR-RADS 1.0",
            value="no lesion",
            definition=SSTR_RADS_DEFINITION,
            source=_SSTR_RADS_SOURCE,
        )
    order = sorted(range(len(statistics)), key=lambda i: -statistics[i].suvmax)[:MAX_TARGETS]
    categories: dict[int, SstrRads] = {}
    for index in sorted(order):
        lid = index + 1
        categories[lid] = sstr_rads_category(
            uptake=sstr_rads_uptake(statistics[index].suvmax, blood_pool_mean=blood.mean),
            site=parse_option(inputs.sites.get(lid, "typical"), UptakeSite),
            anatomy=parse_option(inputs.anatomy.get(lid, "none"), AnatomicFinding),
            is_bone=lid in inputs.bone,
            physiological_variant=lid in inputs.variants,
        )
    overall = sstr_rads_overall(list(categories.values()))
    details = ", ".join(f"lesion {lid}: {cat.value}" for lid, cat in categories.items())
    if inputs.is_default:
        details += (
            ". Clinical inputs not given: every site taken as typical of NET and "
            "without anatomic correlate (--lesion-site, --lesion-anatomy)."
        )
    return (
        {lid: cat.value for lid, cat in categories.items()},
        ScoreEntry(
            name="SSTR-RADS 1.0",
            value=f"SSTR-RADS-{overall.value}",
            definition=SSTR_RADS_DEFINITION,
            details=details,
            source=_SSTR_RADS_SOURCE,
        ),
    )


def _netpet_lesions(
    sstr: Sequence[LesionStatistics],
    krenning: Sequence[int | None],
    fdg: Sequence[LesionStatistics],
    matches: MatchResult,
    liver_means: tuple[float, float],
) -> tuple[list[NetpetLesion], list[str]]:
    """NETPET lesions (matched SSTR lesions, then FDG-only lesions) and the pairing notes."""
    liver_s, liver_f = liver_means
    partner = {p.baseline: p.followup for p in matches.pairs}
    lesions: list[NetpetLesion] = []
    notes: list[str] = []
    for i, s in enumerate(sstr):
        grade = krenning[i] if i < len(krenning) else None
        f = None if i not in partner else fdg[partner[i]]
        lesions.append(
            NetpetLesion(
                sstr_positive=grade is None or grade >= 2,
                fdg_positive=f is not None and f.suvmax > liver_f,
                sstr_intensity=s.suvmax / liver_s,
                fdg_intensity=None if f is None else f.suvmax / liver_f,
            )
        )
        pairing = (
            f"has no FDG lesion within {NETPET_MATCH_MM:g} mm"
            if f is None
            else f"= FDG lesion {partner[i] + 1} (SUVmax/liver {s.suvmax / liver_s:.1f} SSTR, "
            f"{f.suvmax / liver_f:.1f} FDG)"
        )
        notes.append(f"NETPET: SSTR lesion {i + 1} {pairing}")
    for j in matches.new:
        f = fdg[j]
        lesions.append(
            NetpetLesion(
                sstr_positive=False,
                fdg_positive=f.suvmax > liver_f,
                fdg_intensity=f.suvmax / liver_f,
            )
        )
        notes.append(
            f"NETPET: FDG lesion {j + 1} has no SSTR lesion within {NETPET_MATCH_MM:g} mm "
            "(SSTR-negative)"
        )
    return lesions, notes


def netpet_score(
    sstr_statistics: Sequence[LesionStatistics],
    sstr_references: Mapping[str, ReferenceRegion],
    sstr_krenning: Sequence[int | None],
    fdg_statistics: Sequence[LesionStatistics],
    fdg_references: Mapping[str, ReferenceRegion],
    registration: Registration | None,
) -> tuple[ScoreEntry, list[str]]:
    """NETPET grade of an SSTR analysis with the FDG analysis of the same patient.

    Parameters
    ----------
    sstr_statistics, sstr_references
        Lesions and reference regions of the SSTR study.
    sstr_krenning
        Krenning grade of each SSTR lesion (None where not graded).
    fdg_statistics, fdg_references
        Lesions and reference regions of the FDG study.
    registration
        FDG → SSTR registration (None: same frame of reference).

    Returns
    -------
    score
        The NETPET entry.
    notes
        Lesion pairing, for the report.
    """
    liver_s, liver_f = sstr_references.get("liver"), fdg_references.get("liver")
    if liver_s is None or liver_f is None:
        return ScoreEntry(
            name="NETPET",
            value="not computable",
            definition=NETPET_DEFINITION,
            source=_NETPET_SOURCE,
            details="needs the liver reference on both scans",
        ), []
    matches = match_lesions(
        [s.centroid_mm for s in sstr_statistics],
        [s.centroid_mm for s in fdg_statistics],
        max_distance_mm=NETPET_MATCH_MM,
        followup_to_baseline=None if registration is None else registration.moving_to_fixed,
    )
    lesions, notes = _netpet_lesions(
        sstr_statistics, sstr_krenning, fdg_statistics, matches, (liver_s.mean, liver_f.mean)
    )
    result = netpet_grade(lesions)
    return ScoreEntry(
        name="NETPET",
        value=result.grade.value,
        definition=NETPET_DEFINITION,
        source=_NETPET_SOURCE,
        details=(
            f"PRRT suitability: {result.prrt_suitability}; {result.n_discordant} "
            f"FDG+/SSTR− lesion(s), {result.n_fdg_dominant} with FDG > SSTR; "
            f"{len(matches.pairs)} lesion(s) seen on both scans."
        ),
    ), notes
