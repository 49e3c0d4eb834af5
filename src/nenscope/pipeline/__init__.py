"""The one place where reading, computing and reporting meet (DESIGN.md "Layers").

Modules, from the inside out (each imports only those above it):

``model``        the types: :class:`AnalysisOptions`, :class:`StudyData`, :class:`AnalysisResult`
``serialize``    JSON-safe round trip of the types (``AnalysisResult.to_dict``/``from_dict``)
``stages``       stage bookkeeping (timings, warnings, errors of one analysis)
``preload``      the later stages' libraries imported in the background (issue 10)
``study``        study loading: PET/CT series choice, reading, SUV conversion
``references``   reference regions (user masks read, then placed by segmentation)
``scores``       SSTR-RADS and NETPET with their definitions
``report``       report assembly (Krenning, lesion entries, methods)
``radiomics``    per-lesion IBSI radiomics
``outputs``      the output files: figures, DICOM SEG/SR, JSON/CSV, HTML, PDF
``analysis``     lesions and the orchestration of one analysis
``response``     PERCIST / RECIST / Choi from two analyses
``review``       a stored result re-scored and re-reported after a reader's review
``demo``         the synthetic demo study, analysed and compared with its truth
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nenscope.core.lazy import lazy_exports

if TYPE_CHECKING:
    from nenscope.pipeline.analysis import (
        AIR_HU,
        SEED_SEARCH_MM,
        analyze,
        analyze_study,
        check_seed_region,
    )
    from nenscope.pipeline.model import AnalysisOptions, AnalysisResult, StudyData
    from nenscope.pipeline.outputs import write_outputs
    from nenscope.pipeline.study import StudySource, load_study

_LAZY = {
    "AIR_HU": "nenscope.pipeline.analysis",
    "SEED_SEARCH_MM": "nenscope.pipeline.analysis",
    "analyze": "nenscope.pipeline.analysis",
    "analyze_study": "nenscope.pipeline.analysis",
    "check_seed_region": "nenscope.pipeline.analysis",
    "AnalysisOptions": "nenscope.pipeline.model",
    "AnalysisResult": "nenscope.pipeline.model",
    "StudyData": "nenscope.pipeline.model",
    "write_outputs": "nenscope.pipeline.outputs",
    "StudySource": "nenscope.pipeline.study",
    "load_study": "nenscope.pipeline.study",
}
"""Public name → module that defines it, imported on first access (PEP 562): importing
``nenscope.pipeline`` stays cheap and each command loads only what it uses (issue 9 item 6)."""


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())


__all__ = [
    "AIR_HU",
    "SEED_SEARCH_MM",
    "AnalysisOptions",
    "AnalysisResult",
    "StudyData",
    "StudySource",
    "analyze",
    "analyze_study",
    "check_seed_region",
    "load_study",
    "write_outputs",
]
