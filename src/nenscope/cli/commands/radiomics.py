"""``nenscope radiomics`` and ``nenscope radiomics-batch``: IBSI features of ROIs.

Both commands are shells: reading goes through ``nenscope.dicom``, computing through
``nenscope.radiomics``; the settings and the nenscope version are written beside every output.
"""

from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import numpy.typing as npt
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from nenscope import __version__
from nenscope.cli._common import OutputFormat, console, fail, print_json, to_jsonable
from nenscope.cli.app import app
from nenscope.core.errors import OptionError, WorkbenchError
from nenscope.core.geometry import ImageVolume
from nenscope.core.units import Unit
from nenscope.dicom.masks import read_mask
from nenscope.dicom.nifti import read_nifti
from nenscope.dicom.pet import compute_suv, suv_volume
from nenscope.dicom.series import read_series
from nenscope.radiomics.batch import BatchCase, BatchRow, rows_to_columns, run_batch
from nenscope.radiomics.settings import RadiomicsSettings, list_presets, load_settings
from nenscope.staging import append_jsonl, atomic_file, read_jsonl, write_text_atomic

# The extraction modules (numba, scikit-image, scipy.spatial) are imported inside the
# commands: every ``nenscope`` invocation imports this module to register the commands.

__all__ = ["load_case", "radiomics_batch_command", "radiomics_command", "read_image", "read_table"]

ConfigOpt = Annotated[
    str,
    typer.Option(
        "--config",
        help="Preset name (" + ", ".join(list_presets()) + ") or a YAML settings file.",
    ),
]


def read_image(path: Path) -> ImageVolume:
    """Read a NIfTI file, or a DICOM series (folder or file) via ``nenscope.dicom``."""
    return read_image_for(path, None)[0]


_CONVERTIBLE_TO_SUV = (Unit.BQ_PER_ML, Unit.COUNTS)


def read_image_for(
    path: Path, settings: RadiomicsSettings | None
) -> tuple[ImageVolume, list[str]]:
    """Read an image for ``settings``; a PET series is converted to SUVbw if they want SUV.

    Returns the volume and notes on what was done (e.g. the SUV conversion and its warnings).
    """
    if path.name.endswith((".nii", ".nii.gz")):
        return read_nifti(path), []
    if not path.exists():
        raise OptionError(f"Image {path} does not exist.")
    series = read_series(path)
    volume = series.volume
    if (
        settings is None
        or settings.unit is not Unit.SUV_BW
        or volume.unit not in _CONVERTIBLE_TO_SUV
    ):
        return volume, []
    with warnings.catch_warnings(record=True):
        # The SUV warnings are kept in result.warnings and reported in the notes.
        warnings.simplefilter("always")
        result = compute_suv(series)
    notes = [
        f"{path}: converted from {volume.unit} to SUVbw (g/mL) for settings '{settings.name}' "
        f"(suv_bw_factor {result.suv_bw_factor} g/Bq)",
        *result.warnings,
    ]
    return suv_volume(series, result, normalisation="bw"), notes


def _pick_mask(
    masks: dict[str, npt.NDArray[np.bool_]], label: str | None, path: Path
) -> tuple[str, npt.NDArray[np.bool_]]:
    if label:
        if label not in masks:
            raise OptionError(
                f"{path} has no mask named '{label}'. Found: {', '.join(sorted(masks))}."
            )
        return label, masks[label]
    if len(masks) != 1:
        raise OptionError(
            f"{path} holds {len(masks)} masks ({', '.join(sorted(masks))}); choose one with "
            "--label, or use radiomics-batch for one row per lesion."
        )
    name = next(iter(masks))
    return name, masks[name]


def _feature_table(features: dict[str, float]) -> Table:
    from nenscope.radiomics.registry import FEATURES

    names = {spec.ibsi_id: spec.name for spec in FEATURES if spec.ibsi_id}
    table = Table(title="IBSI features")
    table.add_column("IBSI key")
    table.add_column("feature")
    table.add_column("value", justify="right")
    for key, value in features.items():
        base = key if key in names else key.split("_")[0]
        table.add_row(key, names.get(base, ""), f"{value:.6g}")
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

    With a ``filter:`` in the settings (presets ibsi2-1a … ibsi2-9b), the features are the
    IBSI 2 intensity statistics of the filter response map; ``settings.filter`` names it.
    """
    try:
        settings = load_settings(config)
        volume, notes = read_image_for(image, settings)
        name, roi = _pick_mask(read_mask(mask, volume), label, mask)
    except WorkbenchError as err:
        fail(str(err))
    from nenscope.radiomics.extract import extract_features

    try:
        result = extract_features(volume, roi, settings)
    except WorkbenchError as err:
        fail(f"{image} with mask {mask} (ROI '{name}'): {err}")
    payload = result.to_contract()
    payload["roi"] = name
    payload["unit"] = str(volume.unit)
    payload["notes"] = notes
    if output_format is OutputFormat.JSON:
        print_json(payload)
        return
    console.print(_feature_table(result.features))
    for family, reason in result.not_computable.items():
        console.print(f"[yellow]not computable[/yellow] {family}: {reason}")
    for note in notes:
        console.print(f"note: {note}")
    console.print(f"settings: {settings.name}; nenscope {__version__}; ROI '{name}'")


def read_table(path: Path) -> list[BatchCase]:
    """Read the batch CSV: columns ``image``, ``mask`` and optional ``id``, ``label``.

    Relative paths are resolved against the CSV's folder.
    """
    if not path.is_file():
        raise OptionError(f"Batch table {path} does not exist.")
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        columns = reader.fieldnames or []
        missing = [c for c in ("image", "mask") if c not in columns]
        if missing:
            raise OptionError(
                f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(columns)}. "
                "Expected: image, mask and optionally id, label."
            )
        cases = []
        for i, row in enumerate(reader, start=1):
            cases.append(
                BatchCase(
                    case_id=(row.get("id") or "").strip() or f"row{i}",
                    image=str(_resolve(path.parent, row["image"])),
                    mask=str(_resolve(path.parent, row["mask"])),
                    label=(row.get("label") or "").strip(),
                )
            )
    ids = [c.case_id for c in cases]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise OptionError(f"{path}: duplicate id(s) {', '.join(dup)}; ids must be unique.")
    return cases


def _resolve(base: Path, value: str) -> Path:
    p = Path(value.strip())
    return p if p.is_absolute() else base / p


def load_case(
    case: BatchCase, settings: RadiomicsSettings | None = None
) -> tuple[ImageVolume, dict[str, npt.NDArray[np.bool_]]]:
    """Read one batch case through ``nenscope.dicom`` (PET to SUVbw if the settings want SUV)."""
    volume, _ = read_image_for(Path(case.image), settings)
    return volume, read_mask(Path(case.mask), volume)


def _journal_path(out: Path) -> Path:
    return out.with_name(out.name + ".journal.jsonl")


CASE_COMPLETE = "case_complete"
"""Key of the journal record written after the last row of a case (then it counts as done)."""


def _read_journal(path: Path) -> list[dict[str, Any]]:
    """Rows of the journal's completed cases (a torn last line or an unfinished case dropped)."""
    records = read_jsonl(path)
    complete = {r["case_id"] for r in records if r.get(CASE_COMPLETE)}
    return [r for r in records if not r.get(CASE_COMPLETE) and r.get("case_id") in complete]


def _write_parquet(out: Path, records: list[dict[str, Any]], settings: RadiomicsSettings) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = rows_to_columns(records)
    arrays = {}
    for key, values in columns.items():
        if key in ("case_id", "image", "mask", "lesion", "status", "error", "note"):
            arrays[key] = pa.array([v if v is not None else "" for v in values], pa.string())
        elif key == "n_voxels":
            arrays[key] = pa.array([int(v or 0) for v in values], pa.int64())
        else:
            arrays[key] = pa.array(values, pa.float64())
    meta = {
        "nenscope_version": __version__,
        "radiomics_settings": json.dumps(to_jsonable(settings.to_mapping())),
    }
    table = pa.table(arrays).replace_schema_metadata(meta)
    with atomic_file(out) as temp:  # a kill never leaves a truncated Parquet file
        pq.write_table(table, temp)
    sidecar = out.with_name(out.name + ".settings.json")
    write_text_atomic(
        sidecar,
        json.dumps(
            {"settings": to_jsonable(settings.to_mapping()), "version": __version__}, indent=2
        )
        + "\n",
    )


def _prepare_journal(journal: Path, *, restart: bool) -> set[str]:
    """Keep the journal's finished cases (dropping failed ones, retried); return their ids."""
    if restart and journal.exists():
        journal.unlink()
    previous = _read_journal(journal)  # rows of completed cases only
    ok = {r["case_id"] for r in previous if r.get("status") == "ok"}
    # A case is done when all its rows were journaled and none failed (a failed one is retried).
    failed = {r["case_id"] for r in previous if r.get("status") != "ok"}
    finished = ok - failed
    kept = [r for r in previous if r["case_id"] in finished]
    markers = [{"case_id": case_id, CASE_COMPLETE: True} for case_id in sorted(finished)]
    journal.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(journal, "".join(json.dumps(r) + "\n" for r in [*kept, *markers]))
    return finished


def _run_with_progress(
    cases: list[BatchCase],
    settings: RadiomicsSettings,
    *,
    journal: Path,
    finished: set[str],
    quiet: bool,
    split: bool,
) -> int:
    """Run the batch with a Rich progress bar, appending each row to the journal."""
    new_rows = 0
    with (
        journal.open("a", encoding="utf-8") as fh,
        Progress(
            TextColumn("[bold]radiomics"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=console,
            disable=quiet,
        ) as progress,
    ):
        task = progress.add_task("", total=len(cases))

        def on_row(row: BatchRow) -> None:
            nonlocal new_rows
            append_jsonl(fh, to_jsonable(row.to_record()), sync=False)
            new_rows += 1

        def on_case(case: BatchCase) -> None:
            if case.case_id not in finished:
                # Written (and flushed to disk) after the case's last row: a case killed after
                # its first ROI has no marker and runs again in full on resume.
                append_jsonl(fh, {"case_id": case.case_id, CASE_COMPLETE: True}, sync=True)
            progress.update(task, advance=1, description=case.case_id)

        run_batch(
            cases,
            load=lambda case: load_case(case, settings),
            settings=settings,
            done=frozenset(finished),
            on_row=on_row,
            on_case=on_case,
            split_components=split,
        )
    return new_rows


@app.command("radiomics-batch")
def radiomics_batch_command(
    table: Annotated[Path, typer.Argument(help="CSV with columns image, mask [, id, label].")],
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
    try:
        settings = load_settings(config)
        cases = read_table(table)
    except WorkbenchError as err:
        fail(str(err))
    journal = _journal_path(out)
    finished = _prepare_journal(journal, restart=restart)
    new_rows = _run_with_progress(
        cases,
        settings,
        journal=journal,
        finished=finished,
        quiet=output_format is OutputFormat.JSON,
        split=split_components,
    )
    records = _read_journal(journal)
    _write_parquet(out, records, settings)
    failed = [
        {"case_id": r["case_id"], "lesion": r["lesion"], "error": r["error"]}
        for r in records
        if r.get("status") != "ok"
    ]
    if output_format is OutputFormat.JSON:
        print_json(
            {
                "out": str(out),
                "rows": len(records),
                "errors": len(failed),
                "new_rows": new_rows,
                "resumed_cases": len(finished),
                "settings": settings.to_mapping(),
                "version": __version__,
                "failed": failed,
            }
        )
        return
    console.print(
        f"{len(records)} row(s) written to {out} ({len(failed)} error(s); "
        f"{len(finished)} case(s) resumed from the journal)."
    )
    for r in failed:
        console.print(f"  [red]error[/red] {r['case_id']} {r['lesion']}: {r['error']}")
