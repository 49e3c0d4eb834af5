"""``nenscope radiomics`` (one ROI) and ``radiomics-batch`` (a table of image/mask pairs).

Parsing and printing only: the reading, extraction, journal and Parquet table are
:func:`nenscope.api.roi_radiomics` and :func:`nenscope.api.radiomics_batch`. The extraction
modules (numba, scikit-image, scipy.spatial) load inside those calls: every ``nenscope``
invocation imports this module to register the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from nenscope.cli._common import OutputFormat, console, fail, print_json
from nenscope.cli._options import preset_names
from nenscope.cli.app import app

if TYPE_CHECKING:
    from rich.table import Table

__all__ = ["radiomics_batch_command", "radiomics_command"]

ConfigOpt = Annotated[
    str,
    typer.Option(
        "--config",
        help="Preset name (" + ", ".join(preset_names()) + ") or a YAML settings file.",
    ),
]


def _feature_table(features: dict[str, float], image_unit: str) -> Table:
    """Rows of IBSI key, feature name, value and unit (the image's unit where it applies)."""
    from rich.table import Table

    from nenscope.radiomics.registry import FEATURES

    specs = {spec.ibsi_id: spec for spec in FEATURES if spec.ibsi_id}
    table = Table(title="IBSI features")
    table.add_column("IBSI key")
    table.add_column("feature")
    table.add_column("value", justify="right")
    table.add_column("unit")
    for key, value in features.items():
        spec = specs.get(key) or specs.get(key.split("_")[0])
        unit = "" if spec is None else spec.unit.replace("image unit", image_unit)
        table.add_row(key, "" if spec is None else spec.name, f"{value:.6g}", unit)
    return table


@app.command("radiomics")
def radiomics_command(
    image: Annotated[Path, typer.Argument(help="Image: NIfTI file or DICOM series folder.")],
    mask: Annotated[
        Path, typer.Argument(help="Mask: NIfTI, DICOM SEG or RTSTRUCT (file or folder).")
    ],
    config: ConfigOpt,
    label: Annotated[
        str | None,
        typer.Option("--label", help="Mask name when the file holds several (label_<n>, ROI)."),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="text (table) or json (DESIGN contract).")
    ] = OutputFormat.TEXT,
) -> None:
    """Compute IBSI 1 features of one ROI: {"features": {KEY: value}, "settings", "version"}.

    With a 'filter:' section in the settings (presets ibsi2-1a … ibsi2-9b), the features are
    the IBSI 2 intensity statistics of the filter response map; 'settings.filter' names it.
    """
    from nenscope.dicom._nibabel_import import nibabel_without_pydicom

    if all(p.name.endswith((".nii", ".nii.gz")) for p in (image, mask)):
        nibabel_without_pydicom()  # NIfTI only: no DICOM is read (issue 9, item 6)

    from nenscope import __version__
    from nenscope.api import load_settings, roi_radiomics
    from nenscope.core.errors import WorkbenchError

    try:
        settings = load_settings(config)
        roi = roi_radiomics(image, mask, settings, label=label)
    except WorkbenchError as err:
        fail(str(err))
    if output_format is OutputFormat.JSON:
        print_json(roi.to_contract())
        return
    console.print(_feature_table(roi.result.features, str(roi.unit)))
    for family, reason in roi.result.not_computable.items():
        console.print(f"[yellow]not computable[/yellow] {family}: {reason}")
    for note in roi.notes:
        console.print(f"note: {note}")
    console.print(f"settings: {settings.name}; nenscope {__version__}; ROI '{roi.roi}'")


@app.command("radiomics-batch")
def radiomics_batch_command(
    table: Annotated[
        Path,
        typer.Argument(
            help="CSV with columns image, mask [, id, label]; id must be a pseudonym (it is "
            "the only case identifier in the Parquet, which holds no file path)."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Output Parquet file, one row per lesion.")],
    config: ConfigOpt,
    restart: Annotated[
        bool, typer.Option("--restart", help="Ignore an earlier journal and start again.")
    ] = False,
    split_components: Annotated[
        bool,
        typer.Option(
            "--split-components",
            help="One row per 26-connected lesion of each mask (lesion names '<mask>#<k>').",
        ),
    ] = False,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="text or json (summary).")
    ] = OutputFormat.TEXT,
) -> None:
    """Extract features for many image/mask pairs (one row per lesion); resumable."""
    from nenscope import __version__
    from nenscope.api import load_settings, radiomics_batch
    from nenscope.core.errors import WorkbenchError

    try:
        settings = load_settings(config)
    except WorkbenchError as err:
        fail(str(err))
    if not table.is_file():
        fail(f"Batch table {table} does not exist (nothing was written).")
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        TextColumn("[bold]radiomics"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console.rich,
        disable=output_format is OutputFormat.JSON,
    ) as progress:
        task = progress.add_task("", total=None)
        try:
            summary = radiomics_batch(
                table,
                out,
                settings,
                restart=restart,
                split_components=split_components,
                on_start=lambda n: progress.update(task, total=n),
                on_case=lambda case: progress.update(task, advance=1, description=case.case_id),
            )
        except WorkbenchError as err:
            progress.stop()
            fail(str(err))
    failed = summary.failed
    if output_format is OutputFormat.JSON:
        print_json(
            {
                "out": str(out),
                "rows": len(summary.records),
                "errors": len(failed),
                "new_rows": summary.new_rows,
                "resumed_cases": summary.resumed_cases,
                "settings": settings.to_mapping(),
                "version": __version__,
                "failed": failed,
            }
        )
        return
    console.print(
        f"{len(summary.records)} row(s) written to {out} ({len(failed)} error(s); "
        f"{summary.resumed_cases} case(s) resumed from the journal)."
    )
    for r in failed:
        console.print(f"  [red]error[/red] {r['case_id']} {r['lesion']}: {r['error']}")
