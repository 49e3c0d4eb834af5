"""Helpers shared by the CLI commands: output format, JSON printing, error exit."""

from __future__ import annotations

import json
import math
import sys
from datetime import date, datetime
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import typer
from rich.console import Console

__all__ = ["EXIT_BAD_INPUT", "OutputFormat", "console", "fail", "print_json", "to_jsonable"]

EXIT_BAD_INPUT = 2
"""Exit status for refused input (bad file, unknown option, impossible value)."""

console = Console()


class OutputFormat(StrEnum):
    """Output format of a command: human-readable text (default) or the JSON contract."""

    TEXT = "text"
    JSON = "json"


def to_jsonable(value: Any) -> Any:
    """Convert dataclasses' contents, numpy scalars, paths, enums and datetimes for JSON.

    Non-finite floats become ``None`` (JSON has no NaN); callers that produce NaN must attach
    the reason elsewhere in the payload.
    """
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value


def print_json(payload: Any) -> None:
    """Print ``payload`` as indented JSON on stdout."""
    sys.stdout.write(json.dumps(to_jsonable(payload), indent=2, ensure_ascii=False) + "\n")


def fail(message: str) -> NoReturn:
    """Print a one-line message on stderr and exit with :data:`EXIT_BAD_INPUT`."""
    one_line = " ".join(str(message).split())
    sys.stderr.write(f"nenscope: error: {one_line}\n")
    raise typer.Exit(code=EXIT_BAD_INPUT)
