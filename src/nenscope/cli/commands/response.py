"""``nenscope response BASELINE_DIR FOLLOWUP_DIR --out DIR``: PERCIST, RECIST and Choi."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from nenscope.cli._common import EXIT_BAD_INPUT, OutputFormat, console, fail, print_json
from nenscope.cli._options import detection_settings
from nenscope.cli.app import app

__all__ = ["response_command"]


@app.command("response")
def response_command(  # noqa: PLR0913 - one parameter per CLI option (Typer)
    baseline_dir: Annotated[Path, typer.Argument(help="Baseline PET/CT study folder.")],
    followup_dir: Annotated[Path, typer.Argument(help="Follow-up PET/CT study folder.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    threshold: Annotated[
        str,
        typer.Option(
            help="Detection threshold: fixed (--suv-threshold), percent-max, percist-liver "
            "(PERCIST liver-adaptive) or liver-fraction (a fraction of the liver mean)."
        ),
    ] = "fixed",
    suv_threshold: Annotated[float, typer.Option(help="SUV for --threshold fixed.")] = 2.5,
    min_volume_ml: Annotated[float, typer.Option(help="Smallest lesion kept, mL.")] = 0.5,
    tracer: Annotated[str, typer.Option(help="auto (header), sstr, fdg or other.")] = "auto",
    pdf: Annotated[bool, typer.Option(help="Write report.pdf files.")] = True,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="text or json.")
    ] = OutputFormat.TEXT,
) -> None:
    """Compare a follow-up PET/CT with its baseline: PERCIST 1.0, RECIST 1.1 and Choi."""
    from nenscope.api import AnalysisOptions, analyze_response
    from nenscope.reporting import report_to_dict
    from nenscope.segmentation import DetectionSettings

    options = AnalysisOptions(
        detection=detection_settings(
            threshold=threshold,
            suv_threshold=suv_threshold,
            percent_of_max=DetectionSettings().percent_of_max,
            min_volume_ml=min_volume_ml,
            delineation=DetectionSettings().delineation.value,
        ),
        tracer=tracer,
        pdf=pdf,
    )
    for study in (baseline_dir, followup_dir):
        if not study.is_dir():
            fail(
                f"{study}: no such folder. Give the baseline and follow-up PET/CT study folders "
                "(nothing was written)."
            )
    result = analyze_response(baseline_dir, followup_dir, out, options)
    if output_format is OutputFormat.JSON:
        print_json(
            {
                "out_dir": out,
                "files": dict(result.files),
                "response": report_to_dict(result.report)["response"],
                "warnings": list(result.report.warnings),
                "errors": list(result.errors),
            }
        )
    else:
        for entry in result.report.response:
            console.print(
                f"{entry.criterion:12s} {entry.category:15s} baseline {entry.baseline.text(4)}, "
                f"follow-up {entry.followup.text(4)}, change {entry.change_percent.text(3)}",
                highlight=False,
            )
        console.print(f"Report: {result.files['report_html'].resolve()}")
        for text in result.report.warnings:
            console.print(f"[yellow]warning:[/yellow] {text}", highlight=False)
    if result.errors:
        sys.stderr.write("nenscope: error: " + " ".join(" | ".join(result.errors).split()) + "\n")
        raise typer.Exit(code=EXIT_BAD_INPUT)
