"""Helpers shared by the CLI commands: output format, JSON printing, error exit."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Any, NoReturn

import typer
from rich.console import Console

from nenscope.core.jsonable import to_jsonable

__all__ = ["EXIT_BAD_INPUT", "OutputFormat", "console", "fail", "print_json", "to_jsonable"]

EXIT_BAD_INPUT = 2
"""Exit status for refused input (bad file, unknown option, impossible value)."""

console = Console()


class OutputFormat(StrEnum):
    """Output format of a command: human-readable text (default) or the JSON contract."""

    TEXT = "text"
    JSON = "json"


def print_json(payload: Any) -> None:
    """Print ``payload`` as indented JSON on stdout."""
    sys.stdout.write(json.dumps(to_jsonable(payload), indent=2, ensure_ascii=False) + "\n")


def fail(message: str) -> NoReturn:
    """Print a one-line message on stderr and exit with :data:`EXIT_BAD_INPUT`."""
    one_line = " ".join(str(message).split())
    sys.stderr.write(f"nenscope: error: {one_line}\n")
    raise typer.Exit(code=EXIT_BAD_INPUT)
