"""``nenscope cohort run``: the analysis over a manifest of studies on Dask.

A shell over ``nenscope.cohort`` (imported inside the command: dask is an optional extra).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from nenscope.cli._common import OutputFormat, console, fail, print_json
from nenscope.cli.app import app
from nenscope.core.errors import WorkbenchError

__all__ = ["cohort_app", "cohort_generate_command", "cohort_run_command"]

cohort_app = typer.Typer(
    help="Cohorts: the analysis over many studies on Dask (local cluster or a scheduler).",
    no_args_is_help=True,
)
app.add_typer(cohort_app, name="cohort")


@cohort_app.command("run")
def cohort_run_command(
    manifest: Annotated[Path, typer.Argument(help="CSV: study (folder), patient_id, labels.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (shared with the workers).")],
    workers: Annotated[
        int, typer.Option("--workers", help="Worker processes of the local cluster.")
    ] = 2,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="Address of a running Dask scheduler (tcp://...)."),
    ] = None,
    radiomics: Annotated[
        str | None, typer.Option("--radiomics", help="Radiomics preset or YAML settings file.")
    ] = None,
    db: Annotated[
        str | None, typer.Option("--db", help="Also store results in the service database.")
    ] = None,
    output_format: Annotated[OutputFormat, typer.Option("--format", help="text or json.")] = (
        OutputFormat.TEXT
    ),
) -> None:
    """Analyse every study of MANIFEST; write lesions.parquet, failures.csv and studies.csv."""
    if db is not None:
        fail(
            "--db is not available yet: the results store of the web service is not part of "
            "this version. Load OUT/lesions.parquet instead."
        )
    try:
        from nenscope.cohort import ClusterSpec, read_manifest, run_cohort
    except ImportError:
        fail("This command needs the cohort extra: pip install 'nenscope[cohort]'.")
    quiet = output_format is OutputFormat.JSON
    # The in-process scheduler logs every connection at INFO (dask sets that level when
    # distributed is imported, hence the import first); the progress bar says enough.
    try:
        import distributed  # noqa: F401
    except ImportError:
        fail("This command needs the cohort extra: pip install 'nenscope[cohort]'.")
    logging.getLogger("distributed").setLevel(logging.ERROR)
    try:
        entries = read_manifest(manifest)
        spec = ClusterSpec(workers=workers, scheduler=scheduler)
        with Progress(
            TextColumn("[bold]studies"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[state]}"),
            TimeElapsedColumn(),
            console=console,
            disable=quiet,
            transient=False,
        ) as progress:
            bar = progress.add_task("studies", total=len(entries), state="")
            counts = {"done": 0, "skipped": 0, "failed": 0}

            def started(dashboard: str | None) -> None:
                if not quiet:
                    where = scheduler or f"local cluster, {workers} worker process(es)"
                    console.print(f"Dask: {where}; dashboard: {dashboard or 'not available'}")

            def advanced(outcome: object) -> None:
                counts[getattr(outcome, "state", "failed")] += 1
                text = ", ".join(f"{k} {v}" for k, v in counts.items())
                progress.update(bar, advance=1, state=text)

            summary = run_cohort(
                entries,
                out,
                cluster=spec,
                radiomics=radiomics,
                on_start=started,
                on_outcome=advanced,
            )
    except WorkbenchError as err:
        fail(str(err))
    if quiet:
        print_json(summary.to_contract())
        return
    console.print(
        f"{summary.done} of {summary.studies} studies done ({summary.skipped} from an earlier "
        f"run), {summary.failed} failed; {summary.lesions} lesions → {out / 'lesions.parquet'}"
    )
    if summary.failed:
        console.print(f"[yellow]Failures and their reasons: {out / 'failures.csv'}[/yellow]")


@cohort_app.command("generate")
def cohort_generate_command(
    out: Annotated[Path, typer.Argument(help="Folder for the studies and manifest.csv.")],
    studies_per_grade: Annotated[
        int, typer.Option("--studies-per-grade", help="Synthetic studies of each grade.")
    ] = 10,
    seed: Annotated[int, typer.Option("--seed")] = 0,
) -> None:
    """Write a synthetic two-grade cohort (G1: homogeneous lesions, G2: heterogeneous)."""
    from nenscope.dicom.synthetic_texture import write_grade_cohort

    if studies_per_grade < 1:
        fail(f"--studies-per-grade must be at least 1, not {studies_per_grade}.")
    try:
        manifest = write_grade_cohort(out, studies_per_grade=studies_per_grade, seed=seed)
    except WorkbenchError as err:
        fail(str(err))
    console.print(f"{2 * studies_per_grade} studies; manifest: {manifest}")
