"""The public Python API of nenscope: what the CLI, the web service, PACS bridge and cohorts call.

Every command-line command is argument parsing + one call of this module + printing; the
web service and the cohort engine call the very same functions (DESIGN.md "Python API").

Analysis
    :func:`analyze` computes and writes nothing; :func:`write_outputs` writes the files of the
    contract; :class:`AnalysisResult` round-trips through :meth:`~AnalysisResult.to_dict` /
    :meth:`~AnalysisResult.from_dict` (JSON-safe), so a stored result can be re-reported
    without reading the DICOM again. :func:`analyze_response` compares two studies.
Review
    :func:`review_analysis` re-scores and re-reports a stored result after a reader's
    :class:`ReviewState` (confirmed/rejected/added lesions, moved references via
    :func:`measure_reference`, SSTR-RADS inputs); :func:`review_figures` redraws its figures
    from the SUV image alone.
SUV
    :func:`run_suv` (find, read and convert a PET series folder: the ``suv`` command),
    :func:`compute_suv` (factors and provenance of a series read by :func:`read_series`).
Radiomics
    :func:`extract_features` (IBSI features of one ROI; the numba kernels load on first use),
    :func:`roi_radiomics` (image and mask files), :func:`radiomics_batch` (a CSV table →
    Parquet, resumable).
Folders, ADC, conversion
    :func:`scan_folder` + :func:`inventory_to_dict` (``info``), :func:`run_adc`,
    :func:`convert_to_suv_nifti`.
Demo
    :func:`run_demo` (a synthetic study with known lesions, analysed and compared).
Recommendation
    :func:`recommend` (a :class:`Scenario` → an imaging :class:`Plan`).
Knowledge payloads
    :func:`exams_payload`, :func:`evidence_payload` and the dose answers
    (:func:`decay_answer`, :func:`activity_answer`, :func:`exam_dose_answer`,
    :func:`schedule_answer`, :func:`latest_time_answer`: JSON payload + text) of the
    ``exams``, ``evidence`` and ``dose`` commands.

Thread safety: nothing here keeps process-global state; warnings of an analysis are returned
in its report (``result.report.warnings``), never collected through the ``warnings`` module's
global filters, so analyses may run in parallel threads.

Examples
--------
>>> from nenscope import api
>>> result = api.analyze("study/")                         # doctest: +SKIP
>>> stored = result.to_dict()                              # doctest: +SKIP
>>> api.write_outputs(api.AnalysisResult.from_dict(stored), "out/")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from nenscope.core.lazy import lazy_exports

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from nenscope.core.geometry import ImageVolume
    from nenscope.dicom.deidentify import (
        BurnedInPolicy,
        DeidentifiedStudy,
        DeidentifySettings,
        deidentify_folder,
    )
    from nenscope.dicom.discovery import Discovery, capabilities, scan_folder
    from nenscope.dicom.pet import SuvOverrides, SuvResult, compute_suv, suv_volume
    from nenscope.dicom.series import DicomSeries, read_series
    from nenscope.dicom.synthetic import PhantomSettings
    from nenscope.dicom.totalsegmentator import OrganModel
    from nenscope.knowledge.payloads import (
        Answer,
        activity_answer,
        decay_answer,
        evidence_payload,
        exam_dose_answer,
        exams_payload,
        latest_time_answer,
        schedule_answer,
    )
    from nenscope.knowledge.recommender import Plan, recommend
    from nenscope.knowledge.scenario import Scenario
    from nenscope.pipeline.adc import AdcRun, run_adc
    from nenscope.pipeline.analysis import analyze, analyze_study
    from nenscope.pipeline.batch import BatchSummary, RoiRadiomics, radiomics_batch, roi_radiomics
    from nenscope.pipeline.demo import DemoResult, run_demo
    from nenscope.pipeline.inventory import (
        inventory_to_dict,
        patient_labels,
        series_description,
        series_folder,
    )
    from nenscope.pipeline.model import AnalysisOptions, AnalysisResult, StudyData
    from nenscope.pipeline.outputs import write_outputs
    from nenscope.pipeline.response import ResponseResult, analyze_response
    from nenscope.pipeline.review import (
        AddedLesion,
        LesionDecision,
        ReviewedAnalysis,
        ReviewState,
        measure_reference,
        review_analysis,
        review_figures,
    )
    from nenscope.pipeline.scores import SstrRadsInputs
    from nenscope.pipeline.study import StudySource, load_study
    from nenscope.pipeline.suv import (
        SuvConversion,
        SuvRun,
        convert_to_suv_nifti,
        load_pet_series,
        run_suv,
    )
    from nenscope.radiomics.extract import FeatureResult
    from nenscope.radiomics.registry import Family
    from nenscope.radiomics.settings import RadiomicsSettings, list_presets, load_settings

_LAZY = {
    "BurnedInPolicy": "nenscope.dicom.deidentify",
    "DeidentifiedStudy": "nenscope.dicom.deidentify",
    "DeidentifySettings": "nenscope.dicom.deidentify",
    "deidentify_folder": "nenscope.dicom.deidentify",
    "Discovery": "nenscope.dicom.discovery",
    "capabilities": "nenscope.dicom.discovery",
    "scan_folder": "nenscope.dicom.discovery",
    "SuvOverrides": "nenscope.dicom.pet",
    "SuvResult": "nenscope.dicom.pet",
    "compute_suv": "nenscope.dicom.pet",
    "suv_volume": "nenscope.dicom.pet",
    "DicomSeries": "nenscope.dicom.series",
    "read_series": "nenscope.dicom.series",
    "PhantomSettings": "nenscope.dicom.synthetic",
    "OrganModel": "nenscope.dicom.totalsegmentator",
    "Answer": "nenscope.knowledge.payloads",
    "activity_answer": "nenscope.knowledge.payloads",
    "decay_answer": "nenscope.knowledge.payloads",
    "evidence_payload": "nenscope.knowledge.payloads",
    "exam_dose_answer": "nenscope.knowledge.payloads",
    "exams_payload": "nenscope.knowledge.payloads",
    "latest_time_answer": "nenscope.knowledge.payloads",
    "schedule_answer": "nenscope.knowledge.payloads",
    "Plan": "nenscope.knowledge.recommender",
    "recommend": "nenscope.knowledge.recommender",
    "Scenario": "nenscope.knowledge.scenario",
    "AdcRun": "nenscope.pipeline.adc",
    "run_adc": "nenscope.pipeline.adc",
    "analyze": "nenscope.pipeline.analysis",
    "analyze_study": "nenscope.pipeline.analysis",
    "BatchSummary": "nenscope.pipeline.batch",
    "RoiRadiomics": "nenscope.pipeline.batch",
    "radiomics_batch": "nenscope.pipeline.batch",
    "roi_radiomics": "nenscope.pipeline.batch",
    "DemoResult": "nenscope.pipeline.demo",
    "run_demo": "nenscope.pipeline.demo",
    "inventory_to_dict": "nenscope.pipeline.inventory",
    "patient_labels": "nenscope.pipeline.inventory",
    "series_description": "nenscope.pipeline.inventory",
    "series_folder": "nenscope.pipeline.inventory",
    "AnalysisOptions": "nenscope.pipeline.model",
    "AnalysisResult": "nenscope.pipeline.model",
    "StudyData": "nenscope.pipeline.model",
    "write_outputs": "nenscope.pipeline.outputs",
    "ResponseResult": "nenscope.pipeline.response",
    "analyze_response": "nenscope.pipeline.response",
    "AddedLesion": "nenscope.pipeline.review",
    "LesionDecision": "nenscope.pipeline.review",
    "ReviewedAnalysis": "nenscope.pipeline.review",
    "ReviewState": "nenscope.pipeline.review",
    "measure_reference": "nenscope.pipeline.review",
    "review_analysis": "nenscope.pipeline.review",
    "review_figures": "nenscope.pipeline.review",
    "SstrRadsInputs": "nenscope.pipeline.scores",
    "StudySource": "nenscope.pipeline.study",
    "load_study": "nenscope.pipeline.study",
    "SuvConversion": "nenscope.pipeline.suv",
    "SuvRun": "nenscope.pipeline.suv",
    "convert_to_suv_nifti": "nenscope.pipeline.suv",
    "load_pet_series": "nenscope.pipeline.suv",
    "run_suv": "nenscope.pipeline.suv",
    "RadiomicsSettings": "nenscope.radiomics.settings",
    "list_presets": "nenscope.radiomics.settings",
    "load_settings": "nenscope.radiomics.settings",
}
"""Public name → module that defines it, imported on first access (PEP 562): importing
``nenscope.api`` stays cheap and each command loads only what it uses (issue 9 item 6)."""


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())


__all__ = [
    "AdcRun",
    "AddedLesion",
    "AnalysisOptions",
    "AnalysisResult",
    "Answer",
    "BatchSummary",
    "BurnedInPolicy",
    "DeidentifiedStudy",
    "DeidentifySettings",
    "DemoResult",
    "DicomSeries",
    "Discovery",
    "LesionDecision",
    "OrganModel",
    "PhantomSettings",
    "Plan",
    "RadiomicsSettings",
    "ResponseResult",
    "ReviewState",
    "ReviewedAnalysis",
    "RoiRadiomics",
    "Scenario",
    "SstrRadsInputs",
    "StudyData",
    "StudySource",
    "SuvConversion",
    "SuvOverrides",
    "SuvResult",
    "SuvRun",
    "activity_answer",
    "analyze",
    "analyze_response",
    "analyze_study",
    "capabilities",
    "compute_suv",
    "convert_to_suv_nifti",
    "decay_answer",
    "deidentify_folder",
    "evidence_payload",
    "exam_dose_answer",
    "exams_payload",
    "extract_features",
    "inventory_to_dict",
    "latest_time_answer",
    "list_presets",
    "load_pet_series",
    "load_settings",
    "load_study",
    "measure_reference",
    "patient_labels",
    "radiomics_batch",
    "read_series",
    "recommend",
    "review_analysis",
    "review_figures",
    "roi_radiomics",
    "run_adc",
    "run_demo",
    "run_suv",
    "scan_folder",
    "schedule_answer",
    "series_description",
    "series_folder",
    "suv_volume",
    "write_outputs",
]


def extract_features(
    image: ImageVolume,
    mask: npt.NDArray[np.bool_],
    settings: RadiomicsSettings,
    *,
    families: Sequence[Family] | None = None,
) -> FeatureResult:
    """IBSI features of one ROI: :func:`nenscope.radiomics.extract.extract_features`.

    The extraction machinery (numba kernels) is imported on the first call, so importing
    :mod:`nenscope.api` stays cheap.
    """
    from nenscope.radiomics.extract import extract_features as _extract

    return _extract(image, mask, settings, families=families)
