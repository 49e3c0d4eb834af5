"""``nenscope suv SERIES_DIR``: SUV factors of a PET series, with provenance and warnings."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from nenscope.cli._common import OutputFormat, console, fail, print_json
from nenscope.cli.app import app
from nenscope.core.errors import DicomImportError, OptionError, WorkbenchError
from nenscope.dicom.discovery import discover_series
from nenscope.dicom.pet import SuvOverrides, SuvResult, compute_suv
from nenscope.dicom.series import DicomSeries, read_series

__all__ = ["SuvRun", "load_pet_series", "parse_injection_time", "run_suv", "suv_command"]

WeightOpt = Annotated[
    float | None, typer.Option("--weight-kg", help="Patient weight in kg (replaces the header).")
]
HeightOpt = Annotated[
    float | None, typer.Option("--height-cm", help="Patient height in cm (replaces the header).")
]
DoseOpt = Annotated[
    float | None,
    typer.Option("--injected-mbq", help="Injected activity in MBq at the injection time."),
]
InjectionOpt = Annotated[
    str | None,
    typer.Option(
        "--injection-time", help="Injection date and time, ISO 8601: 2025-01-01T10:00:00."
    ),
]
SexOpt = Annotated[str | None, typer.Option("--sex", help="Patient sex: M, F or O.")]
LbmOpt = Annotated[
    str,
    typer.Option(
        "--lbm-formula", help="Lean-body-mass formula: janmahasatian (default) or james."
    ),
]


@dataclass(frozen=True, slots=True, kw_only=True)
class SuvRun:
    """A series, its SUV result and the warnings of reading and computing (in order)."""

    series: DicomSeries
    result: SuvResult
    warnings: tuple[str, ...]


def parse_injection_time(text: str | None) -> datetime | None:
    """Parse ``--injection-time``; a date is required (time of day alone is ambiguous).

    A UTC offset (``+02:00``) is kept: the SUV reader converts it with the series'
    TimezoneOffsetFromUTC (0008,0201), or refuses it when the header has none, rather than
    dropping it silently.

    Examples
    --------
    >>> parse_injection_time("2025-01-01T10:00:00")
    datetime.datetime(2025, 1, 1, 10, 0)
    >>> parse_injection_time("2025-01-01T10:00:00+02:00").utcoffset()
    datetime.timedelta(seconds=7200)
    """
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError as err:
        raise OptionError(
            f"--injection-time '{text}' is not an ISO 8601 date and time; give both, e.g. "
            "2025-01-01T10:00:00 (a time of day alone cannot express multi-day protocols)."
        ) from err
    if len(text.strip()) <= 10:
        raise OptionError(
            f"--injection-time '{text}' has no time of day; give e.g. {text.strip()}T10:00:00."
        )
    return when


def load_pet_series(path: Path) -> tuple[DicomSeries, list[str]]:
    """Read the PET series in ``path``: a series folder, or a folder with one PT series.

    Returns the series and the notes of choosing it (empty when ``path`` held one series).
    """
    if not path.exists():
        raise DicomImportError(f"{path} does not exist; pass the folder of a PET series.")
    refs = discover_series(path) if path.is_dir() else []
    if len(refs) <= 1:
        return read_series(path), []
    pets = [r for r in refs if r.modality == "PT"] or [r for r in refs if r.modality == "NM"]
    if len(pets) != 1:
        listing = "; ".join(
            f"{r.modality} {r.series_instance_uid} in {r.files[0].parent}" for r in refs
        )
        raise DicomImportError(
            f"{path} holds {len(refs)} series and {len(pets)} of them are PET ({listing}); "
            "pass the folder of one PET series."
        )
    ref = pets[0]
    note = (
        f"{path} holds {len(refs)} series; the only PT/NM series {ref.series_instance_uid} "
        f"({ref.n_instances} files) was used"
    )
    return read_series(list(ref.files)), [note]


def run_suv(path: Path, *, overrides: SuvOverrides, lbm_formula: str = "janmahasatian") -> SuvRun:
    """Read the series at ``path`` and compute its SUV, collecting every warning as text."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        series, notes = load_pet_series(path)
        result = compute_suv(series, overrides=overrides, lbm_formula=lbm_formula)
    messages = list(notes)
    for w in caught:
        text = " ".join(str(w.message).split())
        if text not in messages:
            messages.append(text)
    return SuvRun(series=series, result=result, warnings=tuple(messages))


def _print_table(run: SuvRun) -> None:
    r = run.result
    table = Table(title=f"SUV of series {r.series_instance_uid}", show_header=False)
    table.add_column("quantity")
    table.add_column("value", overflow="fold")
    rows = [
        ("Units / DecayCorrection", f"{r.units} / {r.decay_correction}"),
        ("Radionuclide, half-life", f"{r.radionuclide or '?'}, {r.half_life_s} s"),
        ("Injected activity", f"{r.injected_activity_bq} Bq"),
        ("Injection time", str(r.injection_datetime)),
        ("Decay reference time", f"{r.reference_datetime} ({r.reference_method})"),
        ("Weight / height / sex", f"{_num(r.weight_kg)} kg / {_num(r.height_cm)} cm / {r.sex}"),
        ("SUVbw factor, g/Bq", _num(r.suv_bw_factor)),
        (f"SUVlbm factor, g/Bq ({r.lbm_formula})", _num(r.suv_lbm_factor)),
        ("SUVbsa factor, cm²/Bq", _num(r.suv_bsa_factor)),
        ("SUVibw factor, g/Bq", _num(r.suv_ibw_factor)),
        ("SUVmax (bw)", _num(r.suvmax_bw)),
    ]
    rows += [(f"why: {k}", v) for k, v in r.provenance.items()]
    for label, value in rows:
        table.add_row(escape(label), escape(value))
    console.print(table)
    for message in run.warnings:
        console.print(f"[yellow]warning:[/yellow] {message}", highlight=False)


def _num(value: float | None) -> str:
    return "not given" if value is None else f"{value:.6g}"


def contract_payload(run: SuvRun) -> dict[str, object]:
    """Return the JSON contract of ``nenscope suv`` with reader and computation warnings."""
    payload = run.result.to_contract()
    payload["warnings"] = list(run.warnings)
    return payload


@app.command("suv")
def suv_command(
    series_dir: Annotated[Path, typer.Argument(help="Folder of one PET series (DICOM).")],
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="text (table) or json.")
    ] = OutputFormat.TEXT,
    weight_kg: WeightOpt = None,
    height_cm: HeightOpt = None,
    injected_mbq: DoseOpt = None,
    injection_time: InjectionOpt = None,
    sex: SexOpt = None,
    lbm_formula: LbmOpt = "janmahasatian",
) -> None:
    """SUV factors of a PET series: bw, lbm, bsa, with the reasons for every choice."""
    try:
        overrides = SuvOverrides(
            weight_kg=weight_kg,
            height_cm=height_cm,
            injected_mbq=injected_mbq,
            injection_time=parse_injection_time(injection_time),
            sex=sex,
        )
        run = run_suv(series_dir, overrides=overrides, lbm_formula=lbm_formula)
    except WorkbenchError as err:
        fail(str(err))
    if output_format is OutputFormat.JSON:
        print_json(contract_payload(run))
    else:
        _print_table(run)
