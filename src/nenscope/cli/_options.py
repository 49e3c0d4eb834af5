"""Option parsing shared by several commands (so that no command imports another)."""

from __future__ import annotations

import importlib.resources
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from nenscope.core.errors import OptionError

if TYPE_CHECKING:
    from nenscope.segmentation import DetectionSettings

__all__ = [
    "DoseOpt",
    "HeightOpt",
    "InjectionOpt",
    "LbmOpt",
    "PatientIdOpt",
    "PetSeriesOpt",
    "SexOpt",
    "WeightOpt",
    "detection_settings",
    "parse_id_values",
    "parse_injection_time",
    "parse_point_mm",
    "preset_names",
]

PetSeriesOpt = Annotated[
    str | None,
    typer.Option(
        "--pet-series",
        help="PET SeriesInstanceUID, where the folder holds several PET series "
        "(default: attenuation-corrected, then the most slices).",
    ),
]
PatientIdOpt = Annotated[
    str | None,
    typer.Option("--patient-id", help="PatientID to read when the folder holds several patients."),
]
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


def parse_point_mm(text: str, *, option: str) -> tuple[float, float, float]:
    """Parse ``"x,y,z"`` (LPS mm) from the command line.

    Examples
    --------
    >>> parse_point_mm("-50, 6.5,38", option="--liver-mm")
    (-50.0, 6.5, 38.0)
    """
    parts = [p.strip() for p in text.split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 3 or not all(abs(v) < 1e5 for v in values):
        raise OptionError(
            f"{option} '{text}' must be three numbers x,y,z in LPS mm, e.g. {option} -50,6,38."
        )
    return (values[0], values[1], values[2])


def parse_id_values(items: list[str] | None, *, option: str) -> dict[int, str]:
    """Parse repeated ``ID=VALUE`` options (lesion number = value).

    Examples
    --------
    >>> parse_id_values(["1=atypical", "3=typical"], option="--lesion-site")
    {1: 'atypical', 3: 'typical'}
    """
    out: dict[int, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip().isdigit() or not value.strip():
            raise OptionError(
                f"{option} '{item}' must be LESION_NUMBER=VALUE, e.g. {option} 2=atypical."
            )
        out[int(key)] = value.strip()
    return out


def detection_settings(
    *,
    threshold: str,
    suv_threshold: float,
    percent_of_max: float,
    min_volume_ml: float,
    delineation: str,
) -> DetectionSettings:
    """Build detection settings from the command-line options; refuse impossible values.

    Examples
    --------
    >>> detection_settings(threshold="fixed", suv_threshold=3.0, percent_of_max=40.0,
    ...                    min_volume_ml=1.0, delineation="none").suv_threshold
    3.0
    """
    from nenscope.core.enums import parse_option
    from nenscope.segmentation import Delineation, DetectionSettings, ThresholdMethod

    try:
        return DetectionSettings(
            method=parse_option(threshold, ThresholdMethod, what="threshold method"),
            suv_threshold=suv_threshold,
            percent_of_max=percent_of_max,
            min_volume_ml=min_volume_ml,
            delineation=parse_option(delineation, Delineation, what="delineation"),
        )
    except ValueError as err:
        if isinstance(err, OptionError):
            raise
        raise OptionError(f"Detection option refused: {err}") from err


def preset_names() -> list[str]:
    """Names of the radiomics presets shipped with nenscope, sorted (for option help texts).

    Listed from the package data, without importing :mod:`nenscope.radiomics`, so that
    ``nenscope --help`` stays fast; :func:`nenscope.radiomics.list_presets` gives the same.
    """
    folder = importlib.resources.files("nenscope") / "radiomics" / "presets"
    names = (p.name for p in folder.iterdir())
    return sorted(n.removesuffix(".yaml") for n in names if n.endswith(".yaml"))
