"""The Typer application. Each subcommand lives in its own module and is registered here."""

from __future__ import annotations

import typer

__all__ = ["app"]

app = typer.Typer(
    name="nenscope",
    help=(
        "Imaging workbench for neuroendocrine neoplasms: choose the scan, quantify it, "
        "score and report it, extract IBSI radiomics features."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from nenscope import __version__

        typer.echo(f"nenscope {__version__}")
        raise typer.Exit


@app.callback()
def main_options(
    version: bool = typer.Option(
        False,
        "--version",
        help="Print the nenscope version and exit.",
        callback=_print_version,
        is_eager=True,
    ),
) -> None:
    """Imaging workbench for neuroendocrine neoplasms (options before the command)."""


@app.command("version")
def version_command() -> None:
    """Print the nenscope version."""
    from nenscope import __version__

    typer.echo(__version__)


# Subcommands register themselves on ``app`` when their module is imported; keep this list
# sorted. Each module holds one command (or one small group) and no domain logic.
from nenscope.cli import commands as _commands  # noqa: E402, F401
