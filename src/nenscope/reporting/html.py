"""HTML rendering of a report (Jinja2 template shipped as package data).

The page is self-contained: the figures are embedded as base64 PNG ``data:`` URIs, so
``report.html`` can be mailed or archived as one file.
"""

from __future__ import annotations

import base64

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from nenscope.reporting.model import MAX_TARGET_LESIONS, LesionEntry, Report
from nenscope.reporting.presentation import build_view, format_created, review_legend

__all__ = [
    "COLUMN_LABELS",
    "QUANTITY_LABELS",
    "TARGET_COLUMNS",
    "VOLUME_FOOTNOTE",
    "VOLUME_MARK",
    "render_html",
    "volume_mark",
]

QUANTITY_LABELS: dict[str, str] = {
    "volume_ml": "Volume",
    "suvmax": "SUVmax",
    "suvpeak": "SUVpeak",
    "suvmean": "SUVmean",
    "tlg": "TLG",
}
"""Column headings of the lesion quantities shown in the reports, in order."""

TARGET_COLUMNS: tuple[str, ...] = (
    "suvmax",
    "suvpeak",
    "suvmean",
    "volume_ml",
    "longest_diameter_mm",
    "short_axis_mm",
    "tlg",
)
"""Columns of the target-lesion table, in order (uptake first, then size)."""

COLUMN_LABELS: dict[str, str] = {
    **QUANTITY_LABELS,
    "longest_diameter_mm": "Longest diameter",
    "short_axis_mm": "Short axis",
}
"""Headings of every quantity column the reports show."""


VOLUME_MARK = "*"
"""Mark after the volume of a lesion whose volume is likely underestimated."""

VOLUME_FOOTNOTE = (
    f"{VOLUME_MARK} Volume likely underestimated: the automatic contour keeps less than 40 % "
    "of the connected region above the detection threshold it was drawn in (large or "
    "heterogeneous lesion); review the contour. lesions.json gives the fraction "
    "(volume_warning)."
)
"""Footnote of the target-lesion table when a lesion there carries the mark."""


def volume_mark(lesion: LesionEntry, name: str) -> str:
    """:data:`VOLUME_MARK` for the volume cell of a lesion with a volume warning, else ``""``."""
    return VOLUME_MARK if name == "volume_ml" and lesion.volume_warning else ""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("nenscope.reporting", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["b64"] = _b64
    return env


def render_html(report: Report) -> str:
    """Render ``report`` as one self-contained HTML page.

    Parameters
    ----------
    report
        The report.

    Returns
    -------
    str
        HTML text (UTF-8 when written).

    Examples
    --------
    >>> html = render_html(Report(title="Empty study", header=None))
    >>> "<h1>Empty study</h1>" in html and "No lesion was found." in html
    True
    """
    view = build_view(report)
    template = _environment().get_template("report.html.j2")
    return template.render(
        report=report,
        view=view,
        target_set={les.id for les in view.targets},
        max_targets=MAX_TARGET_LESIONS,
        quantity_names=list(QUANTITY_LABELS),
        target_columns=list(TARGET_COLUMNS),
        labels=COLUMN_LABELS,
        created=format_created(report.created),
        review_legend=review_legend(report.lesions),
        volume_mark=volume_mark,
        volume_footnote=VOLUME_FOOTNOTE,
    )
