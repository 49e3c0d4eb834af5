"""Helpers shared by the CLI commands: output format, JSON printing, error exit."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from nenscope.core.jsonable import to_jsonable

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "EXIT_BAD_INPUT",
    "OutputFormat",
    "console",
    "fail",
    "print_json",
    "stage_progress",
    "to_jsonable",
]

EXIT_BAD_INPUT = 2
"""Exit status for refused input (bad file, unknown option, impossible value)."""


class LazyConsole:
    """A Rich :class:`~rich.console.Console` made on first use; attributes are the console's.

    Importing ``rich.console`` costs ~20 ms of CPU, which a command that prints JSON (or
    only fails) never needs (issue 9, item 6: one ``nenscope radiomics`` call).
    """

    def __init__(self, *, stderr: bool = False) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    @property
    def rich(self) -> Console:
        """The Rich console itself (for ``Progress(console=...)``)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.rich, name)


console = LazyConsole()
"""Where command output goes: stdout."""

progress_console = LazyConsole(stderr=True)
"""Where progress goes: stderr, so ``--format json`` output on stdout stays clean."""


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


@contextmanager
def stage_progress(title: str, *, quiet: bool = False) -> Iterator[Callable[[str], None]]:
    """Show the running stage of a long command with Rich, on stderr.

    Yields the callback to pass as ``on_stage`` to :func:`nenscope.api.analyze` and
    :func:`nenscope.api.write_outputs`. On a terminal a spinner names the stage with the time
    spent so far, and each finished stage stays as one line with its duration; where stderr is
    not a terminal (CI, pipes) or with ``quiet`` nothing is shown.
    """
    if quiet or not progress_console.is_terminal:
        yield lambda _name: None
        return
    import time

    current: dict[str, Any] = {}

    def finish() -> None:
        if current:
            took = time.perf_counter() - current["start"]
            progress_console.print(
                f"  [green]✓[/green] {current['name']} [dim]{took:.1f} s[/dim]", highlight=False
            )

    with progress_console.status(f"{title}…") as status:

        def on_stage(name: str) -> None:
            finish()
            current.update(name=name, start=time.perf_counter())
            status.update(f"{title}: {name}…")

        yield on_stage
        finish()
