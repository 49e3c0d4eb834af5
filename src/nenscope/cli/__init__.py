"""Command-line interface (Typer). A thin shell over the Python API; it holds no domain logic."""

from __future__ import annotations

import logging
import sys

from nenscope.cli._common import EXIT_BAD_INPUT
from nenscope.cli.app import app
from nenscope.core.errors import WorkbenchError

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``nenscope`` console script.

    Refused input (any :class:`~nenscope.core.errors.WorkbenchError` that escapes a command)
    ends with a one-line message on stderr and exit status 2, never a traceback.
    """
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app(standalone_mode=True)
    except WorkbenchError as err:
        one_line = " ".join(str(err).split())
        sys.stderr.write(f"nenscope: error: {one_line}\n")
        sys.exit(EXIT_BAD_INPUT)
