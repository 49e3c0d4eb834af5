"""Printing an analysis result (``analyze`` and ``demo``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from nenscope.cli._common import EXIT_BAD_INPUT, OutputFormat, console, print_json

if TYPE_CHECKING:
    from nenscope.api import AnalysisResult

__all__ = ["print_result"]


def print_result(
    result: AnalysisResult, out_dir: Path, output_format: OutputFormat, *, quiet: bool = False
) -> None:
    """Print the outcome (text or the JSON summary) and set the exit status.

    With ``quiet`` the text summary is left out; warnings that matter (a CT covering part of
    the PET, an estimated SUV input …) and errors still go to stderr.
    """
    from nenscope.reporting import lesion_to_dict, report_to_dict

    if output_format is OutputFormat.JSON:
        print_json(
            {
                "out_dir": out_dir,
                "files": dict(result.files),
                "lesions": [lesion_to_dict(les) for les in result.report.lesions],
                "scores": report_to_dict(result.report)["scores"],
                "references": report_to_dict(result.report)["references"],
                "warnings": list(result.report.warnings),
                "errors": list(result.errors),
                "timings_s": dict(result.timings_s),
            }
        )
    elif quiet:
        for text in result.report.warnings:
            sys.stderr.write(f"nenscope: warning: {' '.join(text.split())}\n")
    else:
        console.print(f"Analysed {len(result.report.lesions)} lesion(s); outputs in {out_dir}:")
        for role, path in result.files.items():
            console.print(f"  {role:13s} {path}")
        for score in result.report.scores:
            console.print(f"{score.name}: {score.value}", highlight=False)
        for text in result.report.warnings:
            console.print(f"[yellow]warning:[/yellow] {text}", highlight=False)
        total = sum(result.timings_s.values())
        console.print(f"Total {total:.1f} s.")
    if result.errors:
        sys.stderr.write("nenscope: error: " + " ".join(" | ".join(result.errors).split()) + "\n")
        raise typer.Exit(code=EXIT_BAD_INPUT)
