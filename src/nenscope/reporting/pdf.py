"""PDF rendering of a report with matplotlib's ``PdfPages`` (no system dependencies).

Pages: the header, SUV provenance, warnings, reference regions, scores and response as text;
then the coronal MIP; the lesion table; the axial lesion views, three per page; the methods.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import matplotlib.image as mpimg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from nenscope.reporting.html import QUANTITY_LABELS
from nenscope.reporting.model import Report

__all__ = ["A4_INCHES", "write_pdf"]

A4_INCHES = (8.27, 11.69)
"""A4 portrait page size in inches."""

_MARGIN = 0.06
_LINE = 0.0165  # line height as a fraction of the page for 9 pt text


class _TextPages:
    """Flowing text on A4 pages: a cursor that starts a new page when the page is full."""

    def __init__(self, pdf: PdfPages, footer: str) -> None:
        self._pdf = pdf
        self._footer = footer
        self._fig: Figure | None = None
        self._y = 0.0
        self._page = 0

    def _new_page(self) -> Figure:
        self.flush()
        self._fig = Figure(figsize=A4_INCHES)
        self._page += 1
        self._y = 1.0 - _MARGIN
        return self._fig

    def _ensure(self, lines: int) -> Figure:
        if self._fig is None or self._y - lines * _LINE < _MARGIN + _LINE:
            return self._new_page()
        return self._fig

    def flush(self) -> None:
        if self._fig is not None:
            self._fig.text(
                0.5,
                0.02,
                f"{self._footer} — page {self._page}",
                ha="center",
                fontsize=7,
                color="#666666",
            )
            # PdfPages.savefig has no annotations in matplotlib.
            self._pdf.savefig(self._fig)  # type: ignore[no-untyped-call]
            self._fig = None

    def heading(self, text: str, size: float = 13.0) -> None:
        fig = self._ensure(4)
        self._y -= _LINE * 0.6
        fig.text(
            _MARGIN, self._y, text, fontsize=size, fontweight="bold", color="#334455", va="top"
        )
        self._y -= _LINE * (size / 9.0) * 1.3

    def para(
        self,
        text: str,
        *,
        size: float = 9.0,
        color: str = "black",
        width: int = 105,
        mono: bool = False,
        indent: str = "",
    ) -> None:
        lines = textwrap.wrap(text, width=width, subsequent_indent=indent) or [""]
        for line in lines:
            fig = self._ensure(1)
            fig.text(
                _MARGIN,
                self._y,
                line,
                fontsize=size,
                color=color,
                va="top",
                family="monospace" if mono else "sans-serif",
            )
            self._y -= _LINE * (size / 9.0)

    def table(
        self, header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[int]
    ) -> None:
        """Monospaced table; a cell longer than its column wraps onto further lines."""

        def lines(cells: Sequence[str]) -> list[str]:
            wrapped = [
                textwrap.wrap(c, width=w, break_on_hyphens=False) or [""]
                for c, w in zip(cells, widths, strict=True)
            ]
            depth = max(len(w) for w in wrapped)
            return [
                "  ".join(
                    (parts[i] if i < len(parts) else "").ljust(w)
                    for parts, w in zip(wrapped, widths, strict=True)
                ).rstrip()
                for i in range(depth)
            ]

        for line in lines(header):
            self.para(line, size=7.5, mono=True, width=200, color="#334455")
        for row in rows:
            for line in lines(row):
                self.para(line, size=7.5, mono=True, width=200)
        self._y -= _LINE * 0.5

    def image_page(self, png: bytes, title: str) -> None:
        fig = self._new_page()
        fig.text(
            _MARGIN,
            1.0 - _MARGIN,
            title,
            fontsize=13,
            fontweight="bold",
            color="#334455",
            va="top",
        )
        ax = fig.add_axes((0.05, 0.06, 0.9, 0.84))
        ax.imshow(mpimg.imread(io.BytesIO(png), format="png"))
        ax.axis("off")
        self._y = _MARGIN  # the page is full

    def images(self, pngs: Sequence[bytes], title: str, per_page: int = 3) -> None:
        for start in range(0, len(pngs), per_page):
            fig = self._new_page()
            fig.text(
                _MARGIN,
                1.0 - _MARGIN,
                title,
                fontsize=13,
                fontweight="bold",
                color="#334455",
                va="top",
            )
            height = 0.86 / per_page
            for k, png in enumerate(pngs[start : start + per_page]):
                ax = fig.add_axes((0.05, 0.9 - (k + 1) * height, 0.9, height * 0.97))
                ax.imshow(mpimg.imread(io.BytesIO(png), format="png"))
                ax.axis("off")
            self._y = _MARGIN


def _front_matter(pages: _TextPages, report: Report) -> None:
    pages.heading(report.title, size=16)
    if report.errors:
        pages.heading("Incomplete analysis")
        for err in report.errors:
            pages.para(f"• {err}", color="#aa0000", indent="  ")
    pages.heading("Patient and study")
    header = report.header
    if header is None:
        pages.para("The study could not be read; see above.", color="#aa0000")
    else:
        for label, value in (
            ("Patient", f"{header.patient_name} (ID {header.patient_id})"),
            ("Study date", header.study_date),
            ("Tracer", header.tracer),
            ("Injected activity", header.injected_activity.text(4)),
            ("Uptake time", header.uptake_time.text(3)),
            ("Body weight", header.weight.text(3)),
            ("Scanner", header.manufacturer),
            ("Study UID", header.study_instance_uid),
            ("PET series UID", header.pet_series_uid),
            ("CT series UID", header.ct_series_uid or "no CT"),
        ):
            pages.para(f"{label + ':':<20}{value}", mono=True, size=8.5)
    pages.heading("SUV provenance")
    for line in report.suv or ("not available",):
        pages.para(f"• {line}", indent="  ")
    if report.warnings:
        pages.heading("Warnings", size=11)
        for line in report.warnings:
            pages.para(f"• {line}", color="#8a4b00", indent="  ")


def _references_and_scores(pages: _TextPages, report: Report) -> None:
    pages.heading("Reference regions")
    if report.references:
        rows = [
            [
                r.name,
                r.mean.text(3),
                r.sd.text(2),
                r.volume_ml.text(3),
                "—" if r.centre_mm is None else "{:.0f}, {:.0f}, {:.0f}".format(*r.centre_mm),
            ]
            for r in report.references
        ]
        pages.table(
            ["region", "mean SUV", "SD", "volume", "centre x,y,z mm"], rows, [11, 12, 13, 10, 18]
        )
        for r in report.references:
            pages.para(f"{r.name}: {r.placement}", size=8, indent="  ")
    else:
        pages.para("No reference region was placed.")
    pages.heading("Scores")
    for score in report.scores or ():
        pages.para(f"{score.name}: {score.value}", size=10)
        pages.para(
            f"Definition: {score.definition}" + (f" ({score.source})" if score.source else ""),
            size=8,
            indent="  ",
        )
        if score.details:
            pages.para(f"Details: {score.details}", size=8, color="#444444", indent="  ")
    if not report.scores:
        pages.para("No score computed.")
    if report.response:
        pages.heading("Response")
        for resp in report.response:
            pages.para(f"{resp.criterion}: {resp.category}", size=10)
            pages.para(
                f"baseline {resp.baseline.text(4)}, follow-up {resp.followup.text(4)}, "
                f"change {resp.change_percent.text(3)}",
                size=8.5,
                indent="  ",
            )
            pages.para(f"Definition: {resp.definition}", size=8, indent="  ")
            if resp.details:
                pages.para(f"Details: {resp.details}", size=8, color="#444444", indent="  ")


def _lesion_table(pages: _TextPages, report: Report) -> None:
    pages.heading("Lesions")
    if not report.lesions:
        pages.para(
            "No lesion was found."
            if report.lesion_search_run
            else "No lesion search was run: automatic detection was switched off and no seed "
            "point or lesion mask was given (not a negative study)."
        )
        for note in report.notes:
            pages.para(f"• {note}", size=8, indent="  ")
        return
    names = list(QUANTITY_LABELS)
    header = [
        "#",
        "centre x,y,z mm",
        "site",
        *[QUANTITY_LABELS[n] for n in names],
        "Krenning",
        "RADS",
    ]
    rows = []
    for lesion in report.lesions:
        cells = [
            str(lesion.id),
            "{:.0f}, {:.0f}, {:.0f}".format(*lesion.centroid_mm),
            lesion.site or "",
        ]
        cells += [lesion.quantities[n].text(4) if n in lesion.quantities else "" for n in names]
        cells.append("—" if lesion.krenning is None else str(lesion.krenning))
        cells.append(lesion.sstr_rads or "")
        rows.append(cells)
    pages.table(header, rows, [3, 16, 10, 11, 12, 12, 12, 11, 8, 4])
    first = report.lesions[0]
    for name in names:
        if name in first.quantities:
            pages.para(
                f"{QUANTITY_LABELS[name]} ({first.quantities[name].unit}): "
                f"{first.quantities[name].method}",
                size=7.5,
                indent="  ",
            )
    pages.para(f"Delineation: {first.detection}", size=7.5, indent="  ")
    if report.notes:
        pages.heading("Analysis notes", size=11)
        for note in report.notes:
            pages.para(f"• {note}", size=8, indent="  ")


def write_pdf(report: Report, path: Path) -> None:
    """Write ``report`` as a multi-page A4 PDF to ``path``.

    Parameters
    ----------
    report
        The report.
    path
        Output file; its folder must exist.
    """
    created = report.created.isoformat(timespec="seconds") if report.created else ""
    metadata: dict[str, str | datetime] = {"Title": report.title, "Creator": "nenscope"}
    with PdfPages(path, metadata=metadata) as pdf:
        pages = _TextPages(pdf, footer=f"nenscope report {created}")
        _front_matter(pages, report)
        _references_and_scores(pages, report)
        pages.flush()
        if report.figures.mip_png:
            pages.image_page(report.figures.mip_png, "Coronal maximum-intensity projection")
        _lesion_table(pages, report)
        pages.flush()
        if report.figures.lesion_pngs:
            pages.images(list(report.figures.lesion_pngs.values()), "Lesion views (axial)")
        pages.heading("Methods")
        for line in report.methods:
            pages.para(f"• {line}", indent="  ")
        pages.para(
            "Research software, not a medical device: every result needs review by a "
            "qualified physician.",
            size=8,
            color="#444444",
        )
        pages.flush()
