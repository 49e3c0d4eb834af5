"""The report model: everything a report shows, as frozen value objects (STYLE 3.1, 3.6).

The pipeline fills a :class:`Report`; the renderers (HTML, PDF, JSON, CSV) only format it. Every
number carries its unit and the method that produced it, and a value that could not be computed
is ``None`` together with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from nenscope.core.errors import InvalidArgumentError

__all__ = [
    "LESION_FIELDS",
    "MAX_TARGET_LESIONS",
    "REVIEW_MARKS",
    "LesionEntry",
    "LesionReview",
    "PhysiologicalEntry",
    "Quantity",
    "ReferenceRegionEntry",
    "Report",
    "ReportFigures",
    "ResponseEntry",
    "ScoreEntry",
    "StudyHeader",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Quantity:
    """A number with its unit and method; ``value`` is ``None`` only together with a reason.

    Parameters
    ----------
    value
        The number, finite, or ``None`` when it could not be computed.
    unit
        Unit text (UCUM-like: ``"g/mL"``, ``"mL"``, ``"mm"``, ``"1"``).
    method
        How the number was obtained, in words a reader can check.
    reason
        Why ``value`` is ``None``; required exactly when it is.

    Examples
    --------
    >>> Quantity(value=1.5, unit="mL", method="voxel count x voxel volume").text()
    '1.5 mL'
    """

    value: float | None
    unit: str
    method: str
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.value is None and not self.reason:
            raise ValueError(f"Quantity without value needs a reason (method {self.method!r}).")
        if self.value is not None and not math.isfinite(self.value):
            raise ValueError(
                f"Quantity value must be finite, not {self.value} (method {self.method!r}); "
                "pass value=None with a reason instead."
            )

    def text(self, digits: int = 3) -> str:
        """Format as ``"<value> <unit>"`` with ``digits`` significant digits, or the reason."""
        if self.value is None:
            return f"n/a ({self.reason})"
        unit = "" if self.unit == "1" else f" {self.unit}"
        return f"{self.value:.{digits}g}{unit}"


MAX_TARGET_LESIONS = 10
"""At most this many target lesions are tabled, numbered on the MIP and shown in axial views."""

LESION_FIELDS: tuple[str, ...] = ("volume_ml", "suvmax", "suvpeak", "suvmean", "tlg")
"""Lesion quantities of the ``lesions.json`` contract (DESIGN.md), in table order."""


REVIEW_MARKS: dict[str, str] = {"candidate": "?", "confirmed": "\u2713", "added": "+"}
"""Short mark of each reader decision in the reports' lesion tables (legend beside them)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LesionReview:
    """The reader's decision on a lesion of a reviewed result.

    Parameters
    ----------
    status
        ``"candidate"`` (an automatic candidate the reader did not review; it is counted) or
        ``"confirmed"`` (the DESIGN.md lesions.json ``status`` values; a rejected lesion is
        left out of a reviewed result). A lesion the reader added is ``"confirmed"``.
    by
        The reader who confirmed or added it (user name), empty when unknown or not reviewed.
    added
        Whether the reader added the lesion (grown from a seed), not the automatic detection.
    """

    status: str
    by: str = ""
    added: bool = False

    def __post_init__(self) -> None:
        if self.status not in ("candidate", "confirmed"):
            raise InvalidArgumentError(
                f"Lesion review status must be 'candidate' or 'confirmed', not {self.status!r} "
                "(rejected lesions are left out of a reviewed result)."
            )
        if self.added and self.status != "confirmed":
            raise InvalidArgumentError(
                "A lesion added by the reader is 'confirmed', not a candidate."
            )

    @property
    def kind(self) -> str:
        """``"added"``, ``"confirmed"`` or ``"candidate"`` (the key of :data:`REVIEW_MARKS`)."""
        return "added" if self.added else self.status

    @property
    def mark(self) -> str:
        """Short table mark of the decision (:data:`REVIEW_MARKS`)."""
        return REVIEW_MARKS[self.kind]


@dataclass(frozen=True, slots=True, kw_only=True)
class LesionEntry:
    """One lesion as reported.

    Parameters
    ----------
    id
        1-based lesion number; the number drawn on the figures and used as DICOM segment number.
    centroid_mm
        Centre of mass of the lesion mask, ``(x, y, z)`` LPS patient coordinates in mm.
    quantities
        Measures keyed by field name; at least every name in :data:`LESION_FIELDS`
        (``volume_ml``, ``suvmax``, ``suvpeak``, ``suvmean``, ``tlg``); more may follow
        (diameters, CT HU).
    detection
        How the lesion was delineated (threshold, seed growing, user mask).
    krenning
        Krenning score 0–4 where it applies (SSTR imaging with liver/spleen references), else
        ``None``.
    krenning_reason
        Why ``krenning`` is ``None``.
    site
        Organ or region the lesion lies in, where known (``"liver segment VII"``,
        ``"pancreas head"``, ``"lymph node, mediastinal"``, ``"bone"``).
    sstr_rads
        SSTR-RADS 1.0 category of a target lesion (SSTR studies), else ``None``.
    body_region
        Body region the report groups the lesion under (``"Head and neck"``, ``"Thorax"``,
        ``"Abdomen"``, ``"Pelvis"``, ``"Skeleton"``, ``"Extremities"``); ``None`` lets the
        report derive it from ``site`` (:func:`nenscope.reporting.presentation.body_region`).
    candidate_reason
        Why an automatic candidate was kept as a lesion (not explained as physiological
        uptake), where the detection says so.
    review
        The reader's decision in a reviewed result; ``None`` in an automatic (unreviewed)
        analysis, whose outputs then carry no review fields.
    volume_warning
        Why the volume is likely underestimated (the contour keeps a small part of the region
        above the detection threshold it was drawn in), or ``None``.
    """

    id: int
    centroid_mm: tuple[float, float, float]
    quantities: Mapping[str, Quantity]
    detection: str
    krenning: int | None = None
    krenning_reason: str | None = None
    site: str | None = None
    sstr_rads: str | None = None
    body_region: str | None = None
    candidate_reason: str | None = None
    review: LesionReview | None = None
    volume_warning: str | None = None

    def __post_init__(self) -> None:
        missing = [name for name in LESION_FIELDS if name not in self.quantities]
        if missing:
            raise ValueError(f"Lesion {self.id} is missing quantities {missing}.")
        if self.id < 1:
            raise ValueError(f"Lesion id must be >= 1, not {self.id}.")
        if self.krenning is not None and not 0 <= self.krenning <= 4:
            raise ValueError(f"Krenning score must be 0..4, not {self.krenning}.")

    def value(self, name: str) -> float | None:
        """Return the value of quantity ``name`` (``None`` when not computable)."""
        return self.quantities[name].value


@dataclass(frozen=True, slots=True, kw_only=True)
class PhysiologicalEntry:
    """Uptake found by the detection and classed as physiological, not as a lesion.

    Parameters
    ----------
    organ
        Organ or structure it was attributed to (``"urinary bladder"``, ``"myocardium"``).
    centroid_mm
        Centre of mass, ``(x, y, z)`` LPS mm.
    volume_ml
        Volume above the detection threshold, mL.
    suvmax
        Highest SUV in it (the report's SUV unit).
    reason
        The rule that classed it as physiological, in words.
    """

    organ: str
    centroid_mm: tuple[float, float, float]
    volume_ml: float
    suvmax: float
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferenceRegionEntry:
    """A reference region (liver, spleen, blood pool…) and where it was placed.

    Parameters
    ----------
    name
        ``"liver"``, ``"spleen"``, ``"blood_pool"``, …
    mean
        Mean SUV inside the region.
    sd
        Standard deviation of SUV inside the region.
    volume_ml
        Region volume in mL.
    centre_mm
        Centre of the region, ``(x, y, z)`` LPS mm; ``None`` if the region could not be placed.
    placement
        How it was placed: automatic (with the rule) or at a user point / mask.
    """

    name: str
    mean: Quantity
    sd: Quantity
    volume_ml: Quantity
    centre_mm: tuple[float, float, float] | None
    placement: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoreEntry:
    """A clinical score with its definition.

    Parameters
    ----------
    name
        Score name (``"Krenning (patient)"``, ``"SSTR-RADS 1.0"``, ``"NETPET"``).
    value
        The result as shown (``"3"``, ``"SSTR-RADS-4"``, ``"P3"``), or ``"not computable"``.
    definition
        What the scale means, in one or two sentences.
    details
        The inputs and reasoning behind this result.
    source
        Literature reference of the definition.
    """

    name: str
    value: str
    definition: str
    details: str = ""
    source: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseEntry:
    """Treatment response by one criterion (PERCIST 1.0, RECIST 1.1, Choi).

    Parameters
    ----------
    criterion
        Criterion name and version.
    category
        Response category (``"CMR"``, ``"PMR"``, ``"SMD"``, ``"PMD"``, ``"CR"``, ``"PR"``, …)
        or ``"not computable"``.
    baseline
        Baseline value of the criterion's measure (e.g. SULpeak, sum of diameters).
    followup
        Follow-up value of the same measure.
    change_percent
        Relative change in percent.
    definition
        Thresholds of the criterion.
    details
        Reasoning and the lesions that drove the result.
    """

    criterion: str
    category: str
    baseline: Quantity
    followup: Quantity
    change_percent: Quantity
    definition: str
    details: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class StudyHeader:
    """Patient and study facts shown at the top of the report (all as read from the headers).

    ``patient_name`` and ``study_date`` are kept as DICOM stores them (``"DOE^JOHN"``,
    ``"20240131"``); the renderers format them for people
    (:mod:`nenscope.reporting.presentation`). ``tracer_family`` is ``"sstr"``, ``"fdg"`` or
    ``"other"`` (empty when unknown), and decides which scores a report shows.
    ``ct_coverage`` says in words how much of the PET field the CT covers.
    """

    patient_name: str
    patient_id: str
    study_date: str
    study_instance_uid: str
    pet_series_uid: str
    ct_series_uid: str | None
    tracer: str
    injected_activity: Quantity
    uptake_time: Quantity
    weight: Quantity
    manufacturer: str = ""
    tracer_family: str = ""
    scanner_model: str = ""
    ct_coverage: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportFigures:
    """Rendered figures as PNG bytes: the coronal MIP and one fused axial view per lesion."""

    mip_png: bytes | None = None
    lesion_pngs: Mapping[int, bytes] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """Everything a report shows.

    Parameters
    ----------
    title
        Report title.
    header
        Patient and study facts; ``None`` when the study could not be read at all.
    suv
        SUV provenance: normalisation, factors and how each was obtained.
    warnings
        Data deviations and estimates the reader must know about.
    errors
        Why parts of the analysis are missing (partial results).
    notes
        What the analysis did or left out that a reader should know (physiological uptake not
        reported as lesions, thresholds used).
    references
        Reference regions.
    lesions
        Lesions in id order.
    scores
        Clinical scores.
    response
        Treatment response (follow-up reports only).
    methods
        Settings of the analysis (thresholds, minimum volume, software version).
    lesion_search_run
        False when no lesion search was run (automatic detection off and no seed point or
        lesion mask given): an empty lesion list then means "not searched", not "none found".
    figures
        Rendered figures.
    created
        When the report was made (timezone-aware).
    physiological
        Uptake the detection classed as physiological (listed apart from the lesions).
    implausible
        Why the automatic result is not trustworthy, one message each (e.g. more than 30
        candidates, a tumour volume larger than the liver, a candidate inside a found organ);
        any puts an "analysis not trustworthy" banner at the top of the report, and the
        automatic lesions are then called candidates.
    anatomy
        ``(region, source)`` pairs: where the anatomy of each region came from (``"CT"``,
        ``"PET only"``, ``"organ masks"``, optionally with the reason).
    target_ids
        Ids of the target lesions (at most :data:`MAX_TARGET_LESIONS`, chosen by
        :func:`nenscope.reporting.presentation.select_target_lesions`); ``None`` lets the
        renderers choose them the same way.
    prrt
        PRRT eligibility statement (SSTR studies), else ``None``.
    """

    title: str
    header: StudyHeader | None
    suv: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    references: tuple[ReferenceRegionEntry, ...] = ()
    lesions: tuple[LesionEntry, ...] = ()
    scores: tuple[ScoreEntry, ...] = ()
    response: tuple[ResponseEntry, ...] = ()
    methods: tuple[str, ...] = ()
    lesion_search_run: bool = True
    figures: ReportFigures = field(default_factory=ReportFigures)
    created: datetime | None = None
    physiological: tuple[PhysiologicalEntry, ...] = ()
    implausible: tuple[str, ...] = ()
    anatomy: tuple[tuple[str, str], ...] = ()
    target_ids: tuple[int, ...] | None = None
    prrt: str | None = None

    def __post_init__(self) -> None:
        ids = [lesion.id for lesion in self.lesions]
        if ids != list(range(1, len(ids) + 1)):
            raise ValueError(f"Lesion ids must be 1..N in order, got {ids}.")
        if self.target_ids is not None:
            unknown = sorted(set(self.target_ids) - set(ids))
            if unknown or len(self.target_ids) > MAX_TARGET_LESIONS:
                raise ValueError(
                    f"target_ids must be at most {MAX_TARGET_LESIONS} distinct lesion ids, "
                    f"got {list(self.target_ids)} (unknown: {unknown})."
                )
        if self.created is not None and self.created.tzinfo is None:
            raise ValueError("Report.created must be timezone-aware.")
