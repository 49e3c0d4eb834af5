"""The Typer application. Each subcommand lives in its own module and is registered here."""

from __future__ import annotations

import copy
from collections.abc import Sequence

import typer

__all__ = ["app", "app_for"]

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


def app_for(args: Sequence[str]) -> typer.Typer:
    """Return the application to run ``args``: :data:`app`, or a copy cut to one command.

    When ``args`` starts with the name of a plain command (``radiomics``, not a group such as
    ``dose`` nor an option), the returned copy of :data:`app` holds that command alone: Typer
    then builds one Click command instead of all of them (~25 ms of CPU per invocation, issue
    9 item 6). Parsing, help, errors and exit codes of that command are the same; anything
    else (``--help``, ``--version``, a group, an unknown name) gets the whole ``app``.
    """
    if not args or args[0].startswith("-"):
        return app
    chosen = [info for info in app.registered_commands if info.name == args[0]]
    if len(chosen) != 1 or any(group.name == args[0] for group in app.registered_groups):
        return app
    single = copy.copy(app)
    single.registered_commands = chosen
    single.registered_groups = []
    return single


# Subcommands register themselves on ``app`` when their module is imported; keep this list
# sorted. Each module holds one command (or one small group) and no domain logic.
from nenscope.cli import commands as _commands  # noqa: E402, F401
