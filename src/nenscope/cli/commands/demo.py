"""``nenscope demo``: generate a synthetic PET/CT study, analyse it, say where the report is."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nenscope.cli._common import OutputFormat, console
from nenscope.cli.app import app
from nenscope.cli.commands.analyze import print_result
from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study
from nenscope.pipeline import analyze_study

__all__ = ["DEFAULT_DEMO_DIR", "demo_command"]

DEFAULT_DEMO_DIR = Path("nenscope-demo")
"""Where ``nenscope demo`` writes when ``--out`` is not given (relative to the current folder)."""


@app.command("demo")
def demo_command(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the study and the analysis.")
    ] = Path("nenscope-demo"),
    tracer: Annotated[str, typer.Option(help="ga68-dotatate, fdg or cu64-dotatate.")] = (
        "ga68-dotatate"
    ),
    size: Annotated[str, typer.Option(help="small, default or clinical.")] = "default",
    seed: Annotated[int, typer.Option(help="Noise and UID seed.")] = 0,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="text or json.")
    ] = OutputFormat.TEXT,
) -> None:
    """Generate a synthetic PET/CT study with known lesions, analyse it and show the report."""
    settings = PhantomSettings(
        tracer=tracer, size=size, seed=seed, fwhm_mm=6.0, noise=0.1, ct_noise_hu=10.0
    )
    study_dir, analysis_dir = out / "study", out / "analysis"
    truth = write_phantom_study(study_dir, settings, overwrite=True)
    if output_format is OutputFormat.TEXT:
        console.print(
            f"Synthetic {settings.tracer} PET/CT written to {study_dir} "
            f"({len(truth.lesions)} lesions painted; truth in {study_dir / 'truth.json'})."
        )
    result = analyze_study(study_dir, analysis_dir)
    if output_format is OutputFormat.TEXT:
        report = result.files.get("report_html")
        console.print(f"Report: {report.resolve() if report else 'not written'}")
    print_result(result, analysis_dir, output_format)
