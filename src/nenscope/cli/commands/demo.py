"""``nenscope demo``: generate a synthetic PET/CT study, analyse it, say where the report is."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from nenscope.cli._common import OutputFormat, console, fail
from nenscope.cli._results import print_result
from nenscope.cli.app import app

if TYPE_CHECKING:
    from nenscope.api import DemoResult

__all__ = ["DEFAULT_DEMO_DIR", "demo_command"]

DEFAULT_DEMO_DIR = Path("nenscope-demo")
"""Where ``nenscope demo`` writes when ``--out`` is not given (relative to the current folder)."""


def _print_comparison(demo: DemoResult) -> None:
    from rich.table import Table  # Rich loads only when a table is printed

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
    serve: Annotated[
        bool,
        typer.Option(
            "--serve",
            help="Then open the study in the web app: serve on 127.0.0.1 with a throwaway "
            "data folder and a one-time password (needs the web extra).",
        ),
    ] = False,
    port: Annotated[int, typer.Option(help="Port of --serve.")] = 8000,
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
    if serve:
        _serve_demo(demo.study_dir, port)


def _serve_demo(study_dir: Path, port: int) -> None:
    import shutil
    import tempfile
    import time

    try:
        import uvicorn

        from nenscope.web.app import create_app
        from nenscope.web.demo import DEMO_ADMIN, DEMO_PHYSICIAN, prepare_demo_service
    except ModuleNotFoundError as err:
        fail(
            f"--serve needs the web extra ({err.name} is missing): "
            ".venv/bin/python -m pip install '.[web]'"
        )
    data_dir = Path(tempfile.mkdtemp(prefix="nenscope-demo-serve-"))
    try:
        service = prepare_demo_service(study_dir, data_dir)
        url = f"http://127.0.0.1:{port}"
        console.print(
            f"\nThe web app serves the demo study at [bold]{url}/studies/{service.study_id}[/bold]"
            f" (its analysis runs now; the worklist {url}/ shows the progress).\n"
            f"Log in as [bold]{DEMO_PHYSICIAN}[/bold] (physician: review, sign) or "
            f"[bold]{DEMO_ADMIN}[/bold] (admin) with the one-time password "
            f"[bold]{service.password}[/bold].\n"
            f"Throwaway data folder {data_dir} (removed when you stop with Ctrl+C).",
            highlight=False,
        )
        uvicorn.run(create_app(service.settings), host="127.0.0.1", port=port, log_level="warning")
    finally:
        # A worker stopped with the server may still be closing its database connection.
        for _ in range(20):
            shutil.rmtree(data_dir, ignore_errors=True)
            if not data_dir.exists():
                break
            time.sleep(0.5)
