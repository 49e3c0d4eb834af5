"""``nenscope cohort run``: the analysis over a manifest of studies on Dask.

A shell over ``nenscope.cohort`` (imported inside the command: dask is an optional extra).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from nenscope.cli._common import OutputFormat, console, fail, print_json
from nenscope.cli.app import app
from nenscope.core.errors import WorkbenchError

if TYPE_CHECKING:
    from nenscope.cohort import ClusterSpec, CohortSummary, StoreTarget

__all__ = ["cohort_app", "cohort_generate_command", "cohort_run_command"]

cohort_app = typer.Typer(
    help="Cohorts: the analysis over many studies on Dask (local cluster or a scheduler).",
    no_args_is_help=True,
)
app.add_typer(cohort_app, name="cohort")


def _pacs_nodes(
    pacs_file: Path | None, pacs: list[str] | None, data_dir: Path | None
) -> dict[str, Any]:
    """PACS nodes: --pacs-file (else DATA_DIR/pacs.toml when given), then --pacs (wins)."""
    from nenscope.pacs.nodes import PACS_FILE, parse_node_option, read_nodes_file

    nodes: dict[str, Any] = {}
    if pacs_file is not None:
        nodes.update(read_nodes_file(pacs_file))
    elif data_dir is not None and (data_dir / PACS_FILE).is_file():
        nodes.update(read_nodes_file(data_dir / PACS_FILE))
    for text in pacs or ():
        node = parse_node_option(text)
        nodes[node.name] = node
    return nodes


def _store_target(db: str | None, data_dir: Path | None) -> StoreTarget | None:
    if db is None:
        if data_dir is not None:
            fail("--data-dir is the service's data folder for --db; give --db URL with it.")
        return None
    try:
        from nenscope.cohort import StoreTarget
        from nenscope.store.db import resolve_data_dir
    except ImportError:
        fail("--db needs the service extra: pip install 'nenscope[service]'.")
    return StoreTarget(db_url=db, data_dir=resolve_data_dir(data_dir))


@cohort_app.command("run")
def cohort_run_command(  # noqa: PLR0913 - one parameter per CLI option (Typer)
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
        str | None,
        typer.Option("--db", help="Also store results in the service database (URL)."),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir", help="The service's data folder for --db (default: $NENSCOPE_DATA_DIR)."
        ),
    ] = None,
    pacs_file: Annotated[
        Path | None,
        typer.Option("--pacs-file", help="PACS TOML ([nodes.NAME] url=...) for PACS rows."),
    ] = None,
    pacs: Annotated[
        list[str] | None,
        typer.Option("--pacs", help="NAME=URL of a PACS node; repeatable."),
    ] = None,
    output_format: Annotated[OutputFormat, typer.Option("--format", help="text or json.")] = (
        OutputFormat.TEXT
    ),
) -> None:
    """Analyse every study of MANIFEST; write lesions.parquet, failures.csv and studies.csv."""
    import importlib.util

    from nenscope.cohort.cluster import ClusterSpec, worker_fork_server

    if importlib.util.find_spec("distributed") is None:
        fail("This command needs the cohort extra: pip install 'nenscope[cohort]'.")
    try:
        spec = ClusterSpec(workers=workers, scheduler=scheduler)
    except WorkbenchError as err:
        fail(str(err))
    # A local cluster's workers are forked from a server that imports the analysis stack once;
    # started before anything else, it imports while this process reads the manifest, imports
    # distributed and starts the scheduler (run_cohort then uses the same server).
    with worker_fork_server(spec):
        try:
            store = _store_target(db, data_dir)
        except WorkbenchError as err:
            fail(str(err))
        summary = _run(
            spec,
            manifest=manifest,
            out=out,
            radiomics=radiomics,
            store=store,
            pacs_file=pacs_file,
            pacs=pacs,
            quiet=output_format is OutputFormat.JSON,
        )
    if output_format is OutputFormat.JSON:
        print_json(summary.to_contract())
        return
    console.print(
        f"{summary.done} of {summary.studies} studies done ({summary.skipped} from an earlier "
        f"run), {summary.failed} failed; {summary.lesions} lesions → {out / 'lesions.parquet'}"
    )
    if summary.failed:
        console.print(f"[yellow]Failures and their reasons: {out / 'failures.csv'}[/yellow]")
    if summary.stored is not None:
        unstored = summary.done - summary.stored
        console.print(
            f"{summary.stored} studies' results are in the service store"
            + (f"; {unstored} not (reasons: {out / 'studies.csv'}, notes)" if unstored else "")
        )


def _run(
    spec: ClusterSpec,
    *,
    manifest: Path,
    out: Path,
    radiomics: str | None,
    store: StoreTarget | None,
    pacs_file: Path | None,
    pacs: list[str] | None,
    quiet: bool,
) -> CohortSummary:
    """Read the manifest and run the cohort with a progress bar; return its summary."""
    # The in-process scheduler logs every connection at INFO (dask sets that level when
    # distributed is imported, hence the import first); the progress bar says enough.
    import distributed  # noqa: F401

    from nenscope.cohort import read_manifest, run_cohort

    logging.getLogger("distributed").setLevel(logging.ERROR)
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    try:
        nodes = _pacs_nodes(pacs_file, pacs, None if store is None else store.data_dir)
        entries = read_manifest(manifest)
        with Progress(
            TextColumn("[bold]studies"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[state]}"),
            TimeElapsedColumn(),
            console=console.rich,
            disable=quiet,
            transient=False,
        ) as progress:
            bar = progress.add_task("studies", total=len(entries), state="")
            counts = {"done": 0, "skipped": 0, "failed": 0}

            def started(dashboard: str | None) -> None:
                if not quiet:
                    where = spec.scheduler or f"local cluster, {spec.workers} worker process(es)"
                    console.print(f"Dask: {where}; dashboard: {dashboard or 'not available'}")

            def advanced(outcome: object) -> None:
                counts[getattr(outcome, "state", "failed")] += 1
                text = ", ".join(f"{k} {v}" for k, v in counts.items())
                progress.update(bar, advance=1, state=text)

            return run_cohort(
                entries,
                out,
                cluster=spec,
                radiomics=radiomics,
                store=store,
                pacs=nodes,
                on_start=started,
                on_outcome=advanced,
            )
    except WorkbenchError as err:
        fail(str(err))


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
