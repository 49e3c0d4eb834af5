"""Re-score and re-report a stored analysis after a reader's review, without the DICOM.

A reader confirms or rejects the lesions of an analysis, adds lesions (grown from a seed on
the stored SUV image), moves reference regions and gives the clinical inputs of SSTR-RADS.
:func:`review_analysis` takes the stored :class:`~nenscope.pipeline.model.AnalysisResult`
(restored with :meth:`~nenscope.pipeline.model.AnalysisResult.from_dict`, so ``study`` is
``None``) and that :class:`ReviewState`, and returns a new result that follows the review:

* rejected lesions leave the lesion table, the label map (hence the SEG and SR), the scores
  and the totals; confirmed, unreviewed (candidate) and added lesions count;
* the counted lesions are renumbered 1..N (report number = label = SEG segment number); each
  lesion's method text and the report's notes say which analysis lesion it was, who confirmed
  or added it, and which lesions were rejected by whom; each lesion carries the reader's
  decision (:class:`~nenscope.reporting.model.LesionReview`: not-reviewed candidate, confirmed
  or added, with the reader), written as ``status``/``reviewed_by``/``added_by_reader`` in
  lesions.json, lesions.csv and report.json and as a mark in the HTML/PDF lesion tables;
* moved reference regions replace the analysis's, and the lesion-to-liver/spleen ratios follow;
* Krenning (per lesion and patient), PRRT eligibility, SSTR-RADS (with the reader's inputs),
  the whole-body tumour burden (volume, TLG) and the target lesions are computed again with the
  same functions as the analysis (:mod:`nenscope.pipeline.report`,
  :mod:`nenscope.pipeline.scores`); the impression is derived from them when rendered.

Not re-computed (said in the report): NETPET, whose FDG lesion matching needs the CT-CT
registration that is not stored, and the lesion sites of added lesions (the anatomy needs the
CT). PERCIST/RECIST/Choi belong to a response (two studies), not to one analysis.

:func:`review_figures` draws the MIP and lesion views from the stored SUV image (no CT).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from nenscope.core.errors import GeometryError, OptionError, WorkbenchError
from nenscope.core.geometry import ImageVolume
from nenscope.pipeline.model import AnalysisResult
from nenscope.pipeline.outputs import draw_figures
from nenscope.pipeline.references import REFERENCE_NAMES, ReferenceRegion
from nenscope.pipeline.report import (
    _burden,
    _prrt_statement,
    _reference_entries,
    _scores,
    krenning_grades_for,
    lesion_entries,
)
from nenscope.pipeline.scores import SstrRadsInputs, sstr_rads_score
from nenscope.quantification.lesions import LesionStatistics
from nenscope.reporting.model import (
    LesionEntry,
    LesionReview,
    Report,
    ReportFigures,
    ScoreEntry,
)
from nenscope.reporting.presentation import select_target_lesions
from nenscope.segmentation.reference import reference_region_at

__all__ = [
    "MAX_REFERENCE_RADIUS_MM",
    "MIN_BODY_SUV",
    "MIN_REFERENCE_RADIUS_MM",
    "REVIEW_STATUSES",
    "AddedLesion",
    "LesionDecision",
    "ReviewState",
    "ReviewedAnalysis",
    "measure_reference",
    "review_analysis",
    "review_figures",
]

REVIEW_STATUSES = ("candidate", "confirmed", "rejected")
"""Review states of a lesion (DESIGN.md, lesions.json ``status``)."""

MIN_REFERENCE_RADIUS_MM = 5.0
"""Smallest radius of a moved reference region (mm): smaller holds too few PET voxels."""

MAX_REFERENCE_RADIUS_MM = 30.0
"""Largest radius of a moved reference region (mm): larger leaves any organ."""

MIN_BODY_SUV = 0.2
"""A reference region whose mean SUV is below this lies outside the body (air)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LesionDecision:
    """A reader's decision on one lesion of the analysis.

    Parameters
    ----------
    status
        ``candidate`` (not reviewed), ``confirmed`` or ``rejected``.
    by
        Who decided (user name), empty when unknown.
    """

    status: str
    by: str = ""

    def __post_init__(self) -> None:
        if self.status not in REVIEW_STATUSES:
            raise OptionError(
                f"Lesion status must be one of {', '.join(REVIEW_STATUSES)}, not {self.status!r}."
            )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class AddedLesion:
    """A lesion a reader added (grown from a seed on the stored SUV image).

    Parameters
    ----------
    id
        Its review id: larger than every lesion id of the analysis, never reused.
    mask
        Bool mask on the PET grid (z, y, x).
    statistics
        Its measurements (:func:`nenscope.quantification.label_statistics`).
    detection
        How it was delineated (seed point, contour).
    by
        Who added it.
    """

    id: int
    mask: npt.NDArray[np.bool_]
    statistics: LesionStatistics
    detection: str
    by: str = ""


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ReviewState:
    """Everything a reader changed on an analysis (the input of :func:`review_analysis`).

    Parameters
    ----------
    decisions
        Analysis lesion id → decision; a lesion not named stays a candidate (counted).
    added
        Lesions the reader added.
    references
        Moved reference regions by name (``liver``, ``spleen``, ``blood_pool``).
    references_by
        Who moved each region.
    sstr_rads
        SSTR-RADS clinical inputs keyed by review ids (analysis ids and added ids); ``None``
        keeps the analysis's inputs.
    sstr_rads_by
        Who gave the inputs.
    """

    decisions: Mapping[int, LesionDecision] = field(default_factory=dict)
    added: tuple[AddedLesion, ...] = ()
    references: Mapping[str, ReferenceRegion] = field(default_factory=dict)
    references_by: Mapping[str, str] = field(default_factory=dict)
    sstr_rads: SstrRadsInputs | None = None
    sstr_rads_by: str = ""

    def __post_init__(self) -> None:
        unknown = sorted(set(self.references) - set(REFERENCE_NAMES))
        if unknown:
            raise OptionError(
                f"Unknown reference region {unknown[0]!r}; valid: {', '.join(REFERENCE_NAMES)}."
            )
        ids = [a.id for a in self.added]
        if len(set(ids)) != len(ids):
            raise OptionError(f"Added lesion ids must be distinct, got {ids}.")


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ReviewedAnalysis:
    """The reviewed result and how its lesions relate to the review ids.

    Parameters
    ----------
    result
        The re-scored result (lesions 1..N: the counted ones), ready for
        :func:`~nenscope.pipeline.outputs.write_outputs`.
    report_ids
        Review id → lesion number in the reviewed report, label map and SEG (counted lesions).
    entries
        Review id → the lesion's report entry (Krenning, SSTR-RADS, quantities), counted
        lesions only.
    statistics
        Review id → measurements with the current reference ratios, every lesion (rejected
        ones too, so that a table can still show them).
    """

    result: AnalysisResult
    report_ids: Mapping[int, int]
    entries: Mapping[int, LesionEntry]
    statistics: Mapping[int, LesionStatistics]


def _ratios(
    stats: LesionStatistics, references: Mapping[str, ReferenceRegion], label: int
) -> LesionStatistics:
    liver, spleen = references.get("liver"), references.get("spleen")
    return dataclasses.replace(
        stats,
        label=label,
        lesion_to_liver=None if liver is None or liver.mean <= 0 else stats.suvmax / liver.mean,
        lesion_to_spleen=(
            None if spleen is None or spleen.mean <= 0 else stats.suvmax / spleen.mean
        ),
    )


def _unit(report: Report) -> str:
    for lesion in report.lesions:
        return lesion.quantities["suvmax"].unit
    for ref in report.references:
        return ref.mean.unit
    return "g/mL"


def _voxel_ml(result: AnalysisResult, added: Sequence[AddedLesion]) -> float:
    for stats in (*result.statistics, *(a.statistics for a in added)):
        if stats.n_voxels > 0:
            return stats.volume_ml / stats.n_voxels
    for entry in result.report.references:
        region = result.references.get(entry.name)
        if region is not None and region.n_voxels > 0 and entry.volume_ml.value is not None:
            return entry.volume_ml.value / region.n_voxels
    return 0.0


def _tracer(report: Report) -> tuple[str, str]:
    header = report.header
    if header is None:
        return "unknown", ""
    name = header.tracer.rsplit(" (", 1)[0]
    return name, header.tracer_family


def _who(name: str) -> str:
    return f" by {name}" if name else ""


def _point(values: Sequence[float]) -> str:
    return "(" + ", ".join(f"{v:.0f}" for v in values) + ") mm"


def _remap_inputs(inputs: SstrRadsInputs, ids: Mapping[int, int]) -> SstrRadsInputs:
    """Key the inputs by report ids instead of review ids (uncounted lesions' dropped)."""
    return SstrRadsInputs(
        sites={ids[k]: v for k, v in inputs.sites.items() if k in ids},
        anatomy={ids[k]: v for k, v in inputs.anatomy.items() if k in ids},
        bone=tuple(sorted(ids[k] for k in inputs.bone if k in ids)),
        variants=tuple(sorted(ids[k] for k in inputs.variants if k in ids)),
    )


def _label_map(
    result: AnalysisResult,
    review: ReviewState,
    report_ids: Mapping[int, int],
) -> npt.NDArray[np.uint16] | None:
    shape = None
    if result.labels is not None:
        shape = result.labels.shape
    elif review.added:
        shape = review.added[0].mask.shape
    if shape is None:
        return None
    labels = np.zeros(shape, dtype=np.uint16)
    if result.labels is not None and result.labels.any():
        lut = np.zeros(max(int(result.labels.max()), len(result.statistics)) + 1, np.uint16)
        for rid, new in report_ids.items():
            if rid < lut.size:
                lut[rid] = new
        labels = lut[result.labels]
    for lesion in review.added:
        if lesion.id in report_ids:
            if lesion.mask.shape != shape:
                raise GeometryError(
                    f"Added lesion {lesion.id}: mask shape {lesion.mask.shape} is not the PET "
                    f"grid {shape}."
                )
            # Added after the analysis: it takes its voxels from rejected lesions only.
            labels[lesion.mask & (labels == 0)] = report_ids[lesion.id]
    return labels


def _review_notes(
    result: AnalysisResult,
    review: ReviewState,
    report_ids: Mapping[int, int],
) -> list[str]:
    notes: list[str] = []
    for rid, decision in sorted(review.decisions.items()):
        if rid > len(result.statistics):
            continue
        stats = result.statistics[rid - 1]
        where = f"{_point(stats.centroid_mm)}, SUVmax {stats.suvmax:.1f}"
        if decision.status == "rejected":
            notes.append(
                f"Review: analysis lesion {rid} at {where} rejected{_who(decision.by)}; it is "
                "left out of the lesion table, the scores, the totals and the SEG/SR."
            )
        elif decision.status == "confirmed":
            notes.append(
                f"Review: analysis lesion {rid} (now lesion {report_ids[rid]}) confirmed"
                f"{_who(decision.by)}."
            )
    for lesion in review.added:
        notes.append(
            f"Review: lesion {report_ids[lesion.id]} at {_point(lesion.statistics.centroid_mm)} "
            f"added{_who(lesion.by)} ({lesion.detection}); its site is not assigned."
        )
    for name, region in review.references.items():
        who = _who(review.references_by.get(name, ""))
        notes.append(
            f"Review: {name.replace('_', ' ')} reference moved{who} to "
            f"{_point(region.centre_mm)}: SUVmean {region.mean:.2f}."
        )
    if review.sstr_rads is not None:
        notes.append(f"Review: SSTR-RADS clinical inputs given{_who(review.sstr_rads_by)}.")
    undecided = [
        rid
        for rid in range(1, len(result.statistics) + 1)
        if rid not in review.decisions or review.decisions[rid].status == "candidate"
    ]
    if undecided and (review.decisions or review.added):
        listed = ", ".join(str(report_ids[r]) for r in undecided)
        notes.append(f"Review: lesion(s) {listed} not reviewed (automatic candidates, counted).")
    return notes


def _decided_text(base: str, decision: LesionDecision | None, rid: int) -> str:
    text = f"{base} (analysis lesion {rid})"
    if decision is not None and decision.status == "confirmed":
        text += f"; confirmed{_who(decision.by)}"
    return text


def review_analysis(result: AnalysisResult, review: ReviewState) -> ReviewedAnalysis:
    """Re-score and re-report ``result`` as the reader's review says (see the module notes).

    Parameters
    ----------
    result
        The analysis (usually restored with ``AnalysisResult.from_dict``); never the output
        of an earlier review: the review state holds every change since the analysis.
    review
        Decisions, added lesions, moved references, SSTR-RADS inputs.

    Returns
    -------
    ReviewedAnalysis
        The new result (``files`` empty: write it with ``write_outputs``; its ``study`` is
        ``result.study``, so with the study read again the SEG/SR are written too).

    Raises
    ------
    OptionError
        For a decision on a lesion the analysis does not have, or an added lesion whose id
        is not above the analysis's lesion ids.
    """
    report_ids = _order(result, review)
    order = list(report_ids)
    references = {**result.references, **review.references}
    every: dict[int, LesionStatistics] = {}
    for rid in range(1, len(result.statistics) + 1):
        every[rid] = _ratios(result.statistics[rid - 1], references, report_ids.get(rid, rid))
    for lesion in review.added:
        every[lesion.id] = _ratios(lesion.statistics, references, report_ids[lesion.id])
    stats = [every[rid] for rid in order]
    report = result.report
    # The analysis's inputs are keyed by analysis ids, which are review ids too.
    inputs = review.sstr_rads if review.sstr_rads is not None else result.options.sstr_rads
    report_inputs = _remap_inputs(inputs, report_ids)
    rescored = _rescored(report, stats, references, report_inputs)
    lesions = _entries(report, review, order, stats, rescored)
    notes = [n for n in report.notes if not n.startswith("Review: ")]
    notes.extend(_review_notes(result, review, report_ids))
    reviewed_report = dataclasses.replace(
        report,
        lesions=lesions,
        scores=rescored.scores,
        prrt=rescored.prrt,
        references=_reference_entries(references, _unit(report), _voxel_ml(result, review.added)),
        notes=tuple(notes),
        errors=rescored.errors,
        target_ids=select_target_lesions(lesions),
        figures=ReportFigures(),
    )
    options = dataclasses.replace(
        result.options,
        sstr_rads=report_inputs,
        reference_points_mm={
            **result.options.reference_points_mm,
            **{name: r.centre_mm for name, r in review.references.items()},
        },
    )
    radiomics = None
    if result.radiomics is not None:
        radiomics = tuple(
            dataclasses.replace(r, id=report_ids[r.id])
            for r in result.radiomics
            if r.id in report_ids
        )
    reviewed = dataclasses.replace(
        result,
        report=reviewed_report,
        statistics=tuple(stats),
        references=references,
        labels=_label_map(result, review, report_ids),
        options=options,
        files={},
        radiomics=radiomics,
    )
    return ReviewedAnalysis(
        result=reviewed,
        report_ids=report_ids,
        entries=dict(zip(order, lesions, strict=True)),
        statistics=every,
    )


def _order(result: AnalysisResult, review: ReviewState) -> dict[int, int]:
    """Review id → number in the reviewed report: counted analysis lesions, then added ones."""
    n = len(result.statistics)
    strange = sorted(rid for rid in review.decisions if not 1 <= rid <= n)
    if strange:
        raise OptionError(
            f"Review decision on lesion {strange[0]}, but the analysis has lesions 1..{n}."
        )
    low = [a.id for a in review.added if a.id <= n]
    if low:
        raise OptionError(
            f"Added lesion id {low[0]} must be above the analysis's lesion ids (1..{n})."
        )
    counted = [
        rid
        for rid in range(1, n + 1)
        if rid not in review.decisions or review.decisions[rid].status != "rejected"
    ]
    order = [*counted, *(a.id for a in review.added)]
    return {rid: k for k, rid in enumerate(order, start=1)}


@dataclass(frozen=True, slots=True, kw_only=True)
class _Rescored:
    grades: tuple[int | None, ...]
    reason: str | None
    categories: Mapping[int, str]
    scores: tuple[ScoreEntry, ...]
    prrt: str | None
    errors: tuple[str, ...]


def _rescored(
    report: Report,
    stats: Sequence[LesionStatistics],
    references: Mapping[str, ReferenceRegion],
    inputs: SstrRadsInputs,
) -> _Rescored:
    """Krenning, PRRT, SSTR-RADS, NETPET (kept) and tumour burden of the counted lesions."""
    tracer, family = _tracer(report)
    grades, reason = krenning_grades_for(tracer, family, references, stats)
    if report.header is None:
        grades, reason = [None] * len(stats), "no study"
    errors = [e for e in report.errors if not e.startswith("SSTR-RADS not computed")]
    scores: list[ScoreEntry] = []
    categories: dict[int, str] = {}
    prrt = report.prrt
    if family == "sstr":
        scores.extend(_scores(grades, reason))
        prrt = _prrt_statement(grades, reason)
        try:
            categories, rads = sstr_rads_score(stats, references, inputs)
            scores.append(rads)
        except WorkbenchError as err:
            errors.append(f"SSTR-RADS not computed: {err}")
    scores.extend(
        dataclasses.replace(
            entry,
            details=f"{entry.details} As computed by the analysis: NETPET is not re-computed "
            "after review (the FDG lesion matching needs the CT-CT registration, which is not "
            "stored).",
        )
        for entry in report.scores
        if entry.name == "NETPET"
    )
    if report.header is not None and stats:
        scores.append(_burden(stats, _unit(report)))
    return _Rescored(
        grades=tuple(grades),
        reason=reason,
        categories=categories,
        scores=tuple(scores),
        prrt=prrt,
        errors=tuple(errors),
    )


def _entries(
    report: Report,
    review: ReviewState,
    order: Sequence[int],
    stats: Sequence[LesionStatistics],
    rescored: _Rescored,
) -> tuple[LesionEntry, ...]:
    """Report entries of the counted lesions, numbered 1..N in ``order``."""
    old_entries = {e.id: e for e in report.lesions}
    added = {a.id: a for a in review.added}
    fresh = lesion_entries(
        stats,
        [
            _decided_text(old_entries[rid].detection, review.decisions.get(rid), rid)
            if rid in old_entries
            else f"{added[rid].detection}; added{_who(added[rid].by)}"
            for rid in order
        ],
        rescored.grades,
        rescored.reason,
        _unit(report),
        rescored.categories,
    )
    entries: list[LesionEntry] = []
    for rid, entry in zip(order, fresh, strict=True):
        old = old_entries.get(rid)
        if old is None:
            entries.append(
                dataclasses.replace(
                    entry,
                    review=LesionReview(status="confirmed", by=added[rid].by, added=True),
                )
            )
            continue
        decision = review.decisions.get(rid)
        confirmed = decision is not None and decision.status == "confirmed"
        # Keep what the anatomy added to an analysis lesion (site, region, CT values, reason).
        entries.append(
            dataclasses.replace(
                old,
                id=entry.id,
                detection=entry.detection,
                krenning=entry.krenning,
                krenning_reason=entry.krenning_reason,
                sstr_rads=entry.sstr_rads,
                review=LesionReview(
                    status="confirmed" if confirmed else "candidate",
                    by=decision.by if confirmed and decision is not None else "",
                ),
            )
        )
    return tuple(entries)


def _extent(suv: ImageVolume) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    corners = suv.index_to_lps(
        [
            [i, j, k]
            for i in (0, suv.shape[0] - 1)
            for j in (0, suv.shape[1] - 1)
            for k in (0, suv.shape[2] - 1)
        ]
    )
    return corners.min(axis=0), corners.max(axis=0)


def measure_reference(
    suv: ImageVolume,
    name: str,
    centre_mm: Sequence[float],
    *,
    radius_mm: float | None = None,
    sul_factor: float | None = None,
) -> ReferenceRegion:
    """Measure a reference region moved by the reader on the stored SUV image.

    The same placement as a user point in the analysis
    (:func:`nenscope.segmentation.reference.reference_region_at`: PERCIST sphere for the liver,
    sphere for the spleen, PERCIST cylinder for the blood pool).

    Raises
    ------
    OptionError
        For an unknown region name or a radius outside
        :data:`MIN_REFERENCE_RADIUS_MM`..:data:`MAX_REFERENCE_RADIUS_MM`.
    GeometryError
        If the centre lies outside the PET image (the message gives the valid range) or the
        region lies outside the body (mean SUV below :data:`MIN_BODY_SUV`).
    """
    if name not in REFERENCE_NAMES:
        raise OptionError(
            f"Unknown reference region {name!r}; valid: {', '.join(REFERENCE_NAMES)}."
        )
    if radius_mm is not None and not (
        MIN_REFERENCE_RADIUS_MM <= radius_mm <= MAX_REFERENCE_RADIUS_MM
    ):
        raise OptionError(
            f"radius_mm {radius_mm:g} is outside {MIN_REFERENCE_RADIUS_MM:g}.."
            f"{MAX_REFERENCE_RADIUS_MM:g} mm; leave it out for the default "
            "(liver 15, spleen 10, blood pool 5)."
        )
    centre = tuple(float(v) for v in centre_mm)
    if len(centre) != 3 or not all(np.isfinite(centre)):
        raise OptionError(f"centre_mm must be [x, y, z] in LPS mm, not {list(centre_mm)!r}.")
    point = ", ".join(f"{v:g}" for v in centre)
    what = name.replace("_", " ")
    lo, hi = _extent(suv)
    outside = [
        f"{axis} {value:g} (valid {lo[k]:.1f}..{hi[k]:.1f})"
        for k, (axis, value) in enumerate(zip("xyz", centre, strict=True))
        if not lo[k] <= value <= hi[k]
    ]
    if outside:
        raise GeometryError(
            f"The {what} reference centre ({point}) mm lies outside the PET image: "
            f"{'; '.join(outside)} mm (LPS x, y, z)."
        )
    region = reference_region_at(suv, name, centre, radius_mm=radius_mm, sul_factor=sul_factor)
    if region.mean < MIN_BODY_SUV:
        raise GeometryError(
            f"The {what} reference at ({point}) mm lies outside the body: mean SUV "
            f"{region.mean:.2f} there (< {MIN_BODY_SUV}). Click inside the organ."
        )
    return region


def review_figures(
    report: Report,
    suv: ImageVolume,
    labels: npt.NDArray[np.uint16] | None,
    *,
    tracer: str = "",
    lesion_views: bool = True,
) -> ReportFigures:
    """Draw the coronal MIP and the target lesions' views of a reviewed report from the SUV.

    What :func:`~nenscope.pipeline.outputs.render_figures` draws, without the CT (not stored
    with a result): the lesion views show the PET with the lesion outline. With
    ``lesion_views=False`` only the MIP is drawn (about 0.5 s instead of 0.5 s per target
    lesion: what a review edit can afford).
    """
    title = f"Coronal MIP — {tracer} (reviewed)" if tracer else "Coronal MIP (reviewed)"
    return draw_figures(report, suv, None, labels, title=title, lesion_views=lesion_views)
