"""PDF rendering of a report with matplotlib's ``PdfPages`` (no system dependencies).

Same content and order as the HTML (:mod:`nenscope.reporting.presentation`): the banner when
the analysis is not trustworthy, the impression, the technique, the findings by body region
and the target-lesion table; the coronal MIP; the target lesions' axial views, three per page;
then the appendix (every lesion, physiological uptake, reference regions, scores, response,
SUV provenance, notes, methods and identifiers).

Figures are embedded at their own resolution (``interpolation="none"``: no resampling to the
PDF's 72 dpi), which keeps them sharp and costs no rendering time.
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
from matplotlib.patches import FancyBboxPatch

from nenscope.reporting.html import (
    COLUMN_LABELS,
    QUANTITY_LABELS,
    TARGET_COLUMNS,
    VOLUME_FOOTNOTE,
    volume_mark,
)
from nenscope.reporting.model import Report
from nenscope.reporting.presentation import (
    ReportView,
    build_view,
    format_created,
    review_legend,
)

__all__ = ["A4_INCHES", "write_pdf"]

A4_INCHES = (8.27, 11.69)
"""A4 portrait page size in inches."""

_MARGIN = 0.06
_LINE = 0.0165  # line height as a fraction of the page for 9 pt text
_TEXT_WIDTH_PT = (1.0 - 2 * _MARGIN) * A4_INCHES[0] * 72.0
_MONO_ADVANCE = 0.602  # DejaVu Sans Mono: every character is 0.602 em wide
_TABLE_PT = 7.5


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
        if size > 9.0 and not mono:
            # ``width`` (characters) is measured for 9 pt text: fewer fit at a larger size.
            width = int(width * 9.0 / size)
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
        """Monospaced table; a cell longer than its column wraps onto further lines.

        Cells wrap at spaces only: a column is widened to its longest word, and the font is
        made smaller (down from 7.5 pt) when the columns would run past the right margin.
        """
        widths = [
            max([w, *(len(word) for cells in (header, *rows) for word in cells[i].split())])
            for i, w in enumerate(widths)
        ]
        chars = sum(widths) + 2 * (len(widths) - 1)
        size = min(_TABLE_PT, _TEXT_WIDTH_PT / (_MONO_ADVANCE * chars))

        def lines(cells: Sequence[str]) -> list[str]:
            wrapped = [
                textwrap.wrap(c, width=w, break_on_hyphens=False, break_long_words=False) or [""]
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
            self.para(line, size=size, mono=True, width=chars + 1, color="#334455")
        for row in rows:
            for line in lines(row):
                self.para(line, size=size, mono=True, width=chars + 1)
        self._y -= _LINE * 0.5

    def row(self, label: str, text: str, *, size: float = 8.5) -> None:
        """Write a label in bold and its text beside it, wrapped in the right-hand column."""
        lines = textwrap.wrap(text, width=92) or [""]
        for k, line in enumerate(lines):
            fig = self._ensure(1)
            if k == 0:
                fig.text(_MARGIN, self._y, label, fontsize=size, fontweight="bold", va="top")
            fig.text(_MARGIN + 0.18, self._y, line, fontsize=size, va="top")
            self._y -= _LINE * (size / 9.0)

    def banner(self, title: str, lines: Sequence[str]) -> None:
        """Red-framed block (analysis not trustworthy, incomplete analysis)."""
        wrapped = [textwrap.wrap(line, width=98) or [""] for line in lines]
        n_lines = 1 + sum(len(w) for w in wrapped)
        fig = self._ensure(n_lines + 2)
        top = self._y
        height = (n_lines + 0.8) * _LINE
        fig.patches.append(
            FancyBboxPatch(
                (_MARGIN - 0.01, top - height),
                1.0 - 2 * _MARGIN + 0.02,
                height,
                boxstyle="round,pad=0.004",
                transform=fig.transFigure,
                facecolor="#fdecea",
                edgecolor="#bb0000",
                linewidth=2.0,
            )
        )
        self._y -= _LINE * 0.3
        self.para(title, size=10.5, color="#770000", width=90)
        for parts in wrapped:
            for part in parts:
                self.para(part, size=9, color="#770000", width=200)
        self._y = top - height - _LINE * 0.6

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
        ax.imshow(mpimg.imread(io.BytesIO(png), format="png"), interpolation="none")
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
                ax.imshow(mpimg.imread(io.BytesIO(png), format="png"), interpolation="none")
                ax.axis("off")
            self._y = _MARGIN


def _bullets(
    pages: _TextPages, lines: Sequence[str], *, size: float = 9.0, color: str = "black"
) -> None:
    for line in lines:
        pages.para(f"• {line}", indent="  ", size=size, color=color)


def _front(pages: _TextPages, report: Report, view: ReportView) -> None:
    pages.heading(report.title, size=16)
    if report.header is not None:
        pages.para(f"{view.patient}  ·  {view.study_date}  ·  {report.header.tracer}", size=10.5)
    if view.banner:
        pages.banner(view.banner[0], view.banner[1:])
    if report.errors:
        pages.banner("Incomplete analysis", report.errors)
    pages.heading("Impression")
    _bullets(pages, view.impression, size=9.5)
    pages.heading("Technique")
    for label, text in view.technique:
        pages.row(label, text)
    if report.warnings:
        pages.heading("Data warnings", size=11)
        _bullets(pages, report.warnings, color="#8a4b00", size=8.5)


def _findings(pages: _TextPages, report: Report, view: ReportView) -> None:
    pages.heading("Findings by body region")
    if not view.regions:
        pages.para(
            "No lesion was found."
            if report.lesion_search_run
            else "No lesion search was run: automatic detection was switched off and no seed "
            "point or lesion mask was given (not a negative study)."
        )
    targets = {les.id for les in view.targets}
    for group in view.regions:
        pages.heading(group.region, size=10.5)
        pages.para(group.sentence, size=9)
        for les in group.listed:
            mark = " (target)" if les.id in targets else ""
            kept = f" — kept: {les.candidate_reason}" if les.candidate_reason else ""
            pages.para(
                f"#{les.id}{' ' + les.site if les.site else ''}: SUVmax "
                f"{les.quantities['suvmax'].text(3)}, {les.quantities['volume_ml'].text(3)}"
                f"{mark}{kept}",
                size=8.5,
                indent="    ",
            )
        if group.n_more:
            pages.para(
                f"{group.n_more} further {view.lesion_word}(s): see the appendix.",
                size=8,
                color="#444444",
            )
    if view.physiological:
        pages.heading("Physiological uptake (not reported as lesions)", size=10.5)
        _bullets(pages, view.physiological, size=8.5)


def _targets(pages: _TextPages, report: Report, view: ReportView) -> None:
    word = view.lesion_word
    pages.heading(f"Target {word}s")
    if not view.targets:
        pages.para("None.")
        return
    pages.para(
        f"At most 10, the most relevant by uptake and size (measurable first, by SUVpeak). "
        f"{len(report.lesions) - len(view.targets)} other {word}s are in the appendix.",
        size=8,
        color="#444444",
    )
    legend = review_legend(report.lesions)
    header = ["#", "site", *[COLUMN_LABELS[n] for n in TARGET_COLUMNS]]
    widths = [3, 22, 10, 10, 10, 10, 9, 9, 9]
    if legend:
        header.insert(1, "rev.")
        widths.insert(1, 4)
    if view.show_krenning:
        header += ["Krenning", "RADS"]
        widths += [8, 8]
    rows = []
    for les in view.targets:
        cells = [str(les.id), les.site or "not determined"]
        if legend:
            cells.insert(1, les.review.mark if les.review else "")
        cells += [
            les.quantities[n].text(3) + volume_mark(les, n) if n in les.quantities else "—"
            for n in TARGET_COLUMNS
        ]
        if view.show_krenning:
            cells.append("—" if les.krenning is None else str(les.krenning))
            cells.append(les.sstr_rads or "—")
        rows.append(cells)
    pages.table(header, rows, widths)
    if legend:
        pages.para(legend, size=7.5, color="#444444")
    if any(les.volume_warning for les in view.targets):
        pages.para(VOLUME_FOOTNOTE, size=8, color="#444444")


def _all_lesions(pages: _TextPages, report: Report, view: ReportView) -> None:
    pages.heading(f"All {view.lesion_word}s ({len(report.lesions)})", size=11)
    if not report.lesions:
        pages.para("None.")
        return
    names = list(QUANTITY_LABELS)
    legend = review_legend(report.lesions)
    header = ["#", "centre x,y,z mm", "site", *[QUANTITY_LABELS[n] for n in names]]
    widths = [3, 16, 24, 10, 11, 11, 11, 9]
    if legend:
        header.insert(1, "rev.")
        widths.insert(1, 4)
    if view.show_krenning:
        header += ["Krenning", "RADS"]
        widths += [8, 6]
    rows = []
    for lesion in report.lesions:
        cells = [
            str(lesion.id),
            "{:.0f}, {:.0f}, {:.0f}".format(*lesion.centroid_mm),
            lesion.site or "",
        ]
        if legend:
            cells.insert(1, lesion.review.mark if lesion.review else "")
        cells += [lesion.quantities[n].text(4) if n in lesion.quantities else "" for n in names]
        if view.show_krenning:
            cells.append("—" if lesion.krenning is None else str(lesion.krenning))
            cells.append(lesion.sstr_rads or "")
        rows.append(cells)
    pages.table(header, rows, widths)
    if legend:
        pages.para(legend, size=7.5, indent="  ")
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


def _references(pages: _TextPages, report: Report) -> None:
    pages.heading("Reference regions", size=11)
    if not report.references:
        pages.para("No reference region was placed.")
        return
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


def _scores(pages: _TextPages, report: Report, view: ReportView) -> None:
    pages.heading("Scores", size=11)
    for score in view.applicable_scores:
        pages.para(f"{score.name}: {score.value}", size=10)
        pages.para(
            f"Definition: {score.definition}" + (f" ({score.source})" if score.source else ""),
            size=8,
            indent="  ",
        )
        if score.details:
            pages.para(f"Details: {score.details}", size=8, color="#444444", indent="  ")
    if not view.applicable_scores:
        pages.para("No score applies to this study.")
    if report.response:
        pages.heading("Response", size=11)
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


def _appendix(pages: _TextPages, report: Report, view: ReportView) -> None:
    pages.heading("Appendix", size=14)
    _all_lesions(pages, report, view)
    if report.physiological:
        pages.heading("Physiological uptake", size=11)
        rows = [
            [
                p.organ,
                "{:.0f}, {:.0f}, {:.0f}".format(*p.centroid_mm),
                f"{p.suvmax:.1f}",
                f"{p.volume_ml:.1f}",
                p.reason,
            ]
            for p in report.physiological
        ]
        pages.table(["organ", "centre x,y,z mm", "SUVmax", "mL", "why"], rows, [18, 16, 7, 7, 60])
    _references(pages, report)
    _scores(pages, report, view)
    pages.heading("SUV provenance", size=11)
    _bullets(pages, report.suv or ("not available",), size=8.5)
    if report.notes:
        pages.heading("Analysis notes", size=11)
        _bullets(pages, report.notes, size=8)
    pages.heading("Methods and identifiers", size=11)
    _bullets(pages, report.methods, size=8.5)
    if report.header is not None:
        h = report.header
        for label, value in (
            ("Study UID", h.study_instance_uid),
            ("PET series UID", h.pet_series_uid),
            ("CT series UID", h.ct_series_uid or "no CT"),
        ):
            pages.para(f"{label + ':':<16}{value}", mono=True, size=7.5)


def write_pdf(report: Report, path: Path) -> None:
    """Write ``report`` as a multi-page A4 PDF to ``path`` (order in the module docstring).

    Parameters
    ----------
    report
        The report.
    path
        Output file; its folder must exist.
    """
    view = build_view(report)
    metadata: dict[str, str | datetime] = {"Title": report.title, "Creator": "nenscope"}
    with PdfPages(path, metadata=metadata) as pdf:
        pages = _TextPages(pdf, footer=f"nenscope report, {format_created(report.created)}")
        _front(pages, report, view)
        _findings(pages, report, view)
        _targets(pages, report, view)
        pages.flush()
        if report.figures.mip_png:
            pages.image_page(
                report.figures.mip_png,
                f"Coronal MIP (target {view.lesion_word}s numbered, others circled)",
            )
        if report.figures.lesion_pngs:
            pages.images(
                list(report.figures.lesion_pngs.values()), f"Target {view.lesion_word}s, axial"
            )
        _appendix(pages, report, view)
        pages.para(
            "Research software, not a medical device: every result needs review by a "
            "qualified physician.",
            size=8,
            color="#444444",
        )
        pages.flush()
