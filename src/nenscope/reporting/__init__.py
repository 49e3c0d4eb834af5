"""Report model and renderers: HTML, PDF, JSON, CSV, and the figures they show.

The names load on first use (PEP 562, :func:`nenscope.core.lazy.lazy_exports`): importing the
report model (``nenscope.reporting.model``) does not load matplotlib, Jinja2 or the PDF
backend, which only the renderers need (issue 10 item 6: an analysis loads them while it
computes, see :mod:`nenscope.pipeline.preload`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nenscope.core.lazy import lazy_exports

if TYPE_CHECKING:
    from nenscope.reporting.extent import ct_z_range_mm
    from nenscope.reporting.figures import (
        LesionMarker,
        coronal_mip,
        lesion_figure,
        mip_figure,
        render_lesion_png,
        render_mip_png,
        sample_axial_plane,
    )
    from nenscope.reporting.html import (
        QUANTITY_LABELS,
        render_html,
    )
    from nenscope.reporting.model import (
        LESION_FIELDS,
        MAX_TARGET_LESIONS,
        REVIEW_MARKS,
        LesionEntry,
        LesionReview,
        PhysiologicalEntry,
        Quantity,
        ReferenceRegionEntry,
        Report,
        ReportFigures,
        ResponseEntry,
        ScoreEntry,
        StudyHeader,
    )
    from nenscope.reporting.pdf import (
        write_pdf,
    )
    from nenscope.reporting.tables import (
        CSV_COLUMNS,
        lesion_to_dict,
        lesions_to_csv,
        lesions_to_json,
        lesions_to_long_csv,
        report_to_dict,
        report_to_json,
    )

_LAZY = {
    "LesionMarker": "nenscope.reporting.figures",
    "coronal_mip": "nenscope.reporting.figures",
    "ct_z_range_mm": "nenscope.reporting.extent",
    "lesion_figure": "nenscope.reporting.figures",
    "mip_figure": "nenscope.reporting.figures",
    "render_lesion_png": "nenscope.reporting.figures",
    "render_mip_png": "nenscope.reporting.figures",
    "sample_axial_plane": "nenscope.reporting.figures",
    "QUANTITY_LABELS": "nenscope.reporting.html",
    "render_html": "nenscope.reporting.html",
    "LESION_FIELDS": "nenscope.reporting.model",
    "MAX_TARGET_LESIONS": "nenscope.reporting.model",
    "REVIEW_MARKS": "nenscope.reporting.model",
    "LesionEntry": "nenscope.reporting.model",
    "LesionReview": "nenscope.reporting.model",
    "PhysiologicalEntry": "nenscope.reporting.model",
    "Quantity": "nenscope.reporting.model",
    "ReferenceRegionEntry": "nenscope.reporting.model",
    "Report": "nenscope.reporting.model",
    "ReportFigures": "nenscope.reporting.model",
    "ResponseEntry": "nenscope.reporting.model",
    "ScoreEntry": "nenscope.reporting.model",
    "StudyHeader": "nenscope.reporting.model",
    "write_pdf": "nenscope.reporting.pdf",
    "CSV_COLUMNS": "nenscope.reporting.tables",
    "lesion_to_dict": "nenscope.reporting.tables",
    "lesions_to_csv": "nenscope.reporting.tables",
    "lesions_to_json": "nenscope.reporting.tables",
    "lesions_to_long_csv": "nenscope.reporting.tables",
    "report_to_dict": "nenscope.reporting.tables",
    "report_to_json": "nenscope.reporting.tables",
}
"""Public name → module that defines it, imported on first access."""

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())


__all__ = [
    "CSV_COLUMNS",
    "LESION_FIELDS",
    "MAX_TARGET_LESIONS",
    "QUANTITY_LABELS",
    "REVIEW_MARKS",
    "LesionEntry",
    "LesionMarker",
    "LesionReview",
    "PhysiologicalEntry",
    "Quantity",
    "ReferenceRegionEntry",
    "Report",
    "ReportFigures",
    "ResponseEntry",
    "ScoreEntry",
    "StudyHeader",
    "coronal_mip",
    "ct_z_range_mm",
    "lesion_figure",
    "lesion_to_dict",
    "lesions_to_csv",
    "lesions_to_json",
    "lesions_to_long_csv",
    "mip_figure",
    "render_html",
    "render_lesion_png",
    "render_mip_png",
    "report_to_dict",
    "report_to_json",
    "sample_axial_plane",
    "write_pdf",
]
