"""The types of an analysis: options in, the study as read, the result out.

Every other module of :mod:`nenscope.pipeline` imports its types from here, and this module
imports none of them but :mod:`~nenscope.pipeline.scores` (for the SSTR-RADS inputs), so there
is no import cycle inside the package.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from nenscope.core.enums import Normalisation, parse_option, suggest
from nenscope.core.errors import OptionError, StoredResultError
from nenscope.core.geometry import ImageVolume
from nenscope.core.tracers import AnalysisFamily
from nenscope.dicom import DicomSeries, SeriesRef
from nenscope.dicom.pet import SuvOverrides, SuvResult
from nenscope.dicom.totalsegmentator import OrganModel
from nenscope.pipeline.radiomics import LesionRadiomics
from nenscope.pipeline.scores import SstrRadsInputs
from nenscope.pipeline.serialize import from_plain, to_plain
from nenscope.quantification.lesions import LesionStatistics
from nenscope.radiomics.settings import RadiomicsSettings
from nenscope.reporting.model import Report
from nenscope.segmentation import DetectionSettings, ReferenceRegion

__all__ = [
    "NORMALISATIONS",
    "RESULT_FORMAT",
    "RESULT_FORMAT_VERSION",
    "TRACER_OPTIONS",
    "AnalysisOptions",
    "AnalysisResult",
    "StudyData",
]

RESULT_FORMAT = "nenscope-analysis"
"""``format`` of a stored :class:`AnalysisResult` (:meth:`AnalysisResult.to_dict`)."""

RESULT_FORMAT_VERSION = 1
"""Version of the stored format; a reader refuses another version with the reason."""

TRACER_OPTIONS: tuple[str, ...] = ("auto", *AnalysisFamily)
"""Values of the tracer option: from the header, or SSTR, FDG or another tracer."""

NORMALISATIONS: tuple[str, ...] = tuple(Normalisation)
"""SUV normalisations (values of :class:`nenscope.core.enums.Normalisation`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalysisOptions:
    """Options of :func:`analyze_study` (all optional).

    Parameters
    ----------
    detection
        Automatic detection settings (threshold method and value, minimum volume, contour).
    auto_detect
        Run automatic detection; with ``False`` only seeds and masks give lesions.
    lesion_seeds_mm
        Seed points ``(x, y, z)`` LPS mm for semi-automatic lesions (``--lesion-mm``).
    lesion_masks
        Mask files (NIfTI, DICOM SEG, RTSTRUCT) whose regions are lesions (``--lesion-mask``).
    organs
        Organ masks from outside (``--organs``): a TotalSegmentator output folder or a label
        map with a name table; the physiology rules then use them.
    organ_model
        Organ masks segmented in this process from the study's CT
        (:class:`~nenscope.dicom.totalsegmentator.OrganModel`: ``--organs totalsegmentator``
        or ``totalsegmentator-fast``); needs the optional package and its weights locally
        (nothing is downloaded). Not together with ``organs``.
    lesion_rois
        Names of the ROIs/segments to take from ``lesion_masks`` (``--lesion-roi``); all if
        empty.
    reference_points_mm
        User points for reference regions: ``liver``, ``spleen``, ``blood_pool`` → ``(x, y, z)``.
    reference_masks
        Mask files for reference regions (same names).
    normalisation
        SUV normalisation: ``bw`` (default), ``lbm``, ``bsa`` or ``ibw``.
    suv_overrides
        Values replacing the header for SUV (weight, height, activity, injection time, sex).
    tracer
        Tracer family when the header does not say: ``sstr`` or ``fdg`` (or ``auto``).
    pet_series_uid
        Choose this PET series when the study holds several.
    patient_id
        Analyse this patient's series when the folder holds several patients' (refused
        otherwise, naming them).
    sstr_rads
        Clinical inputs of SSTR-RADS per lesion id (site, anatomy, bone, variant).
    fdg_study
        An FDG PET/CT study of the same patient: gives NETPET (it is analysed into
        ``out_dir/fdg`` and registered onto this study by its CT).
    figures
        Render the figures (MIP and lesion views).
    dicom_outputs
        Write ``seg.dcm`` and ``sr.dcm``.
    pdf
        Write ``report.pdf``.
    radiomics
        Radiomics settings: per-lesion IBSI features in ``radiomics.json``/``.csv``.
    """

    detection: DetectionSettings = field(default_factory=DetectionSettings)
    auto_detect: bool = True
    lesion_seeds_mm: tuple[tuple[float, float, float], ...] = ()
    lesion_masks: tuple[Path, ...] = ()
    lesion_rois: tuple[str, ...] = ()
    reference_points_mm: Mapping[str, tuple[float, float, float]] = field(default_factory=dict)
    reference_masks: Mapping[str, Path] = field(default_factory=dict)
    normalisation: Normalisation = Normalisation.BW
    suv_overrides: SuvOverrides | None = None
    tracer: str = "auto"
    pet_series_uid: str | None = None
    patient_id: str | None = None
    sstr_rads: SstrRadsInputs = field(default_factory=SstrRadsInputs)
    fdg_study: Path | None = None
    figures: bool = True
    dicom_outputs: bool = True
    pdf: bool = True
    radiomics: RadiomicsSettings | None = None
    organs: Path | None = None
    organ_model: OrganModel | None = None

    def __post_init__(self) -> None:
        if self.tracer not in TRACER_OPTIONS:
            raise OptionError(
                f"Unknown tracer '{self.tracer}'. {suggest(self.tracer, TRACER_OPTIONS)}"
            )
        # A caller's string ("lbm") becomes the enum here, at the API boundary (STYLE 3.1).
        normalisation = parse_option(self.normalisation, Normalisation, what="SUV normalisation")
        object.__setattr__(self, "normalisation", normalisation)
        if self.organ_model is not None:
            object.__setattr__(
                self, "organ_model", parse_option(self.organ_model, OrganModel, what="--organs")
            )
            if self.organs is not None:
                raise OptionError(
                    f"Give either an organ-mask folder ({self.organs}) or an organ model "
                    f"({self.organ_model.value}) for --organs, not both."
                )


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class StudyData:
    """A study read and converted to SUV (what the analysis steps need).

    Parameters
    ----------
    pet
        The PET series as read, with its headers (the SEG and SR copy them).
    ct
        The CT series in the same frame of reference, or ``None``. Its ``headers`` are
        empty: no later step reads them, and a whole-body CT's 600 datasets would stay in
        memory for every garbage collection of the analysis to walk (issue 10 item 6).
    suv
        SUV image on the PET grid.
    suv_result
        SUV factors and their provenance.
    tracer
        Radiopharmaceutical as written in the header (or the user's tracer option).
    tracer_family
        :class:`~nenscope.core.tracers.AnalysisFamily`: ``sstr``, ``fdg`` or ``other``.
    pet_ref, ct_ref
        The discovered series, without the headers kept for reading them
        (``SeriesRef.headers`` is empty; the PET's are in ``pet.headers``).
    notes
        What the reader chose and why (series choice, missing CT).
    """

    pet: DicomSeries
    ct: DicomSeries | None
    suv: ImageVolume
    suv_result: SuvResult
    tracer: str
    tracer_family: AnalysisFamily
    pet_ref: SeriesRef
    ct_ref: SeriesRef | None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class AnalysisResult:
    """What :func:`~nenscope.pipeline.analysis.analyze` computed (and what was written).

    Parameters
    ----------
    report
        The report (with its figures when they were rendered).
    study
        The study as read, or ``None`` when it could not be read or the result was restored
        with :meth:`from_dict` (images and DICOM headers are not stored).
    statistics
        Lesion measurements in report order.
    references
        Placed reference regions by name (typed, with their masks).
    labels
        Lesion label map on the PET grid (lesion ``id`` = label), or ``None``.
    timings_s
        Wall time of each stage in s.
    options
        The options the analysis ran with.
    files
        Written files by role (``lesions_json``, ``report_html``, ``seg``, …); empty until
        :func:`~nenscope.pipeline.outputs.write_outputs`.
    radiomics
        Per-lesion radiomics when ``options.radiomics`` was given (``None`` otherwise or when
        no lesion search could run).
    fdg
        The analysis of the FDG study of NETPET (``options.fdg_study``), or ``None``.
    """

    report: Report
    study: StudyData | None
    statistics: tuple[LesionStatistics, ...]
    references: Mapping[str, ReferenceRegion]
    labels: npt.NDArray[np.uint16] | None
    timings_s: Mapping[str, float]
    options: AnalysisOptions = field(default_factory=lambda: AnalysisOptions())
    files: Mapping[str, Path] = field(default_factory=dict)
    radiomics: tuple[LesionRadiomics, ...] | None = None
    fdg: AnalysisResult | None = None

    @property
    def errors(self) -> tuple[str, ...]:
        """Why parts of the analysis are missing (empty when complete)."""
        return self.report.errors

    @property
    def is_complete(self) -> bool:
        """Whether every stage ran."""
        return not self.report.errors

    def to_dict(self) -> dict[str, Any]:
        """Return the result as JSON types only (``json.dumps(..., allow_nan=False)`` works).

        Everything but ``study`` (the images and DICOM headers) is kept: the report with its
        figures, the lesion measurements, the label map and reference masks (compressed), the
        options, radiomics and the FDG analysis. A non-finite number is stored as ``"NaN"`` /
        ``"Infinity"``; see :mod:`nenscope.pipeline.serialize`.
        """
        data = {
            f.name: to_plain(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if f.name != "study"
        }
        return {"format": RESULT_FORMAT, "format_version": RESULT_FORMAT_VERSION, **data}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AnalysisResult:
        """Restore a result stored with :meth:`to_dict` (``study`` is ``None``).

        Raises
        ------
        StoredResultError
            If ``data`` is not a stored analysis of a supported format version, or a field
            does not fit its type (the message names the field).
        """
        if data.get("format") != RESULT_FORMAT:
            raise StoredResultError(
                f"Not a stored nenscope analysis: 'format' is {data.get('format')!r}, "
                f"expected '{RESULT_FORMAT}'. Store results with AnalysisResult.to_dict()."
            )
        if data.get("format_version") != RESULT_FORMAT_VERSION:
            raise StoredResultError(
                f"Stored analysis has format_version {data.get('format_version')!r}; this "
                f"nenscope reads version {RESULT_FORMAT_VERSION}. Re-run the analysis."
            )
        fields = {k: v for k, v in data.items() if k not in ("format", "format_version")}
        restored: AnalysisResult = from_plain({**fields, "study": None}, cls, where="analysis")
        return restored
