"""HTML rendering of a report (Jinja2 template shipped as package data).

The page is self-contained: the figures are embedded as base64 PNG ``data:`` URIs, so
``report.html`` can be mailed or archived as one file.
"""

from __future__ import annotations

import base64

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from nenscope.reporting.model import Report

__all__ = ["QUANTITY_LABELS", "render_html"]

QUANTITY_LABELS: dict[str, str] = {
    "volume_ml": "Volume",
    "suvmax": "SUVmax",
    "suvpeak": "SUVpeak",
    "suvmean": "SUVmean",
    "tlg": "TLG",
}
"""Column headings of the lesion quantities shown in the reports, in order."""


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
    template = _environment().get_template("report.html.j2")
    return template.render(
        report=report,
        quantity_names=list(QUANTITY_LABELS),
        labels=QUANTITY_LABELS,
    )
