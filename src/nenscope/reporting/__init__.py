"""Report model and renderers: HTML, PDF, JSON, CSV, and the figures they show."""

from nenscope.reporting.figures import (
    LesionMarker,
    coronal_mip,
    ct_z_range_mm,
    lesion_figure,
    mip_figure,
    render_lesion_png,
    render_mip_png,
    sample_axial_plane,
)
from nenscope.reporting.html import QUANTITY_LABELS, render_html
from nenscope.reporting.model import (
    LESION_FIELDS,
    MAX_TARGET_LESIONS,
    LesionEntry,
    PhysiologicalEntry,
    Quantity,
    ReferenceRegionEntry,
    Report,
    ReportFigures,
    ResponseEntry,
    ScoreEntry,
    StudyHeader,
)
from nenscope.reporting.pdf import write_pdf
from nenscope.reporting.tables import (
    CSV_COLUMNS,
    lesion_to_dict,
    lesions_to_csv,
    lesions_to_json,
    lesions_to_long_csv,
    report_to_dict,
    report_to_json,
)

__all__ = [
    "CSV_COLUMNS",
    "LESION_FIELDS",
    "MAX_TARGET_LESIONS",
    "QUANTITY_LABELS",
    "LesionEntry",
    "LesionMarker",
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
