"""``nenscope demo``: generate a synthetic PET/CT study, analyse it, say where the report is."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from nenscope.cli._common import OutputFormat, console
from nenscope.cli._results import print_result
from nenscope.cli.app import app

if TYPE_CHECKING:
    from nenscope.api import DemoResult

__all__ = ["DEFAULT_DEMO_DIR", "demo_command"]

DEFAULT_DEMO_DIR = Path("nenscope-demo")
"""Where ``nenscope demo`` writes when ``--out`` is not given (relative to the current folder)."""


def _print_comparison(demo: DemoResult) -> None:
    table = Table(title="Painted lesions (truth) and what the analysis reported")
    for column in ("lesion", "true mL", "found as", "mL", "true SUVmax", "SUVmax"):
        table.add_column(column)
    for les in demo.lesions:
        table.add_row(
            les.lesion_id,
            f"{les.true_volume_ml:.2f}",
            "missed" if les.found_id is None else f"#{les.found_id}",
            "" if les.volume_ml is None else f"{les.volume_ml:.2f}",
            f"{les.true_suvmax:.1f}",
            "" if les.suvmax is None else f"{les.suvmax:.1f}",
        )
    console.print(table)
    if demo.extra:
        console.print(f"Reported but not painted: lesion(s) {', '.join(map(str, demo.extra))}.")


@app.command("demo")
def demo_command(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the study and the analysis.")
    ] = DEFAULT_DEMO_DIR,
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
    from nenscope.api import PhantomSettings, run_demo

    settings = PhantomSettings(
        tracer=tracer, size=size, seed=seed, fwhm_mm=6.0, noise=0.1, ct_noise_hu=10.0
    )
    demo = run_demo(out, settings)
    if output_format is OutputFormat.TEXT:
        console.print(
            f"Synthetic {settings.tracer} PET/CT written to {demo.study_dir} "
            f"({len(demo.truth.lesions)} lesions painted; truth in "
            f"{demo.study_dir / 'truth.json'})."
        )
        _print_comparison(demo)
        report = demo.analysis.files.get("report_html")
        console.print(f"Report: {report.resolve() if report else 'not written'}")
    print_result(demo.analysis, out / "analysis", output_format)
