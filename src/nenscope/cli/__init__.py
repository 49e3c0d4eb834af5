"""Command-line interface (Typer). A thin shell over the Python API; it holds no domain logic."""

from __future__ import annotations

import errno
import logging
import os
import sys
import traceback

import typer

# Typer 0.29 vendors Click as ``typer._click``; its usage errors are not re-exported publicly.
from typer._click.exceptions import ClickException, NoArgsIsHelpError

from nenscope import __version__
from nenscope.cli._common import EXIT_BAD_INPUT
from nenscope.cli.app import app, app_for
from nenscope.core.errors import WorkbenchError

__all__ = [
    "EXIT_ABORTED",
    "EXIT_ENVIRONMENT",
    "EXIT_INTERNAL_ERROR",
    "EXIT_INTERRUPTED",
    "app",
    "main",
    "usage_error_line",
]

EXIT_ABORTED = 1
"""Exit status when the user aborts (Click's own convention)."""

EXIT_INTERNAL_ERROR = 3
"""Exit status of a defect: an exception that is not a refusal of the input (a bug to report)."""

EXIT_ENVIRONMENT = 4
"""Exit status when the system refused (disk full, permission denied, file vanished)."""

EXIT_INTERRUPTED = 130
"""Exit status after Ctrl-C (128 + SIGINT, the shell convention)."""

DEBUG_ENV = "NENSCOPE_DEBUG"
"""Set this environment variable to 1 to see the traceback of an internal error."""

BUG_REPORT_HINT = (
    f"This is a bug in nenscope {__version__}, not a problem with your data: please report "
    f"it with the command line and this message (set {DEBUG_ENV}=1 to print the traceback)."
)
"""What the last-resort handler adds to the one line of an internal error."""


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _rejected_input(err: ClickException) -> str | None:
    """Return the value a user typed when Typer's pydantic coercion refused it, else ``None``.

    ``--weight-kg abc`` gives "Input should be a valid number, unable to parse string as a
    number" without 'abc'; the cause (a pydantic ``ValidationError``) still holds it.
    """
    errors = getattr(err.__cause__, "errors", None)
    if not callable(errors):
        return None
    details = errors()
    if not isinstance(details, list) or not details or not isinstance(details[0], dict):
        return None
    value = details[0].get("input")
    return value if isinstance(value, str) else None


def usage_error_line(err: ClickException) -> str:
    """Return the one stderr line for a Click/Typer usage error: message and where to get help.

    ``nenscope: error: Invalid value for '--to': 'suvxx' is not one of 'suvbw', ...
    (see nenscope convert --help)``. Typer's pydantic coercion prefixes its messages with
    "Value error, ", which says nothing to a user and is dropped.
    """
    message = _one_line(err.format_message()).replace("Value error, ", "")
    found = _rejected_input(err)
    if found is not None and repr(found) not in message:
        message = f"{message.rstrip('.')}; found {found!r}."
    ctx = getattr(err, "ctx", None)
    command_path = ctx.command_path if ctx is not None and ctx.command_path else "nenscope"
    return f"nenscope: error: {message} (see {command_path} --help)"


def main() -> None:
    """Entry point of the ``nenscope`` console script.

    Bad input ends with ONE line on stderr (``nenscope: error: ...``) and exit status 2, never a
    traceback nor a multi-line box: refused input (any
    :class:`~nenscope.core.errors.WorkbenchError` that escapes a command) as well as usage errors
    (unknown command or option, bad choice, missing or non-numeric value). ``--help`` and the
    commands' own exit codes are unchanged.

    Anything else is caught too, so that no user ever sees a traceback: an ``OSError`` (disk
    full, permission denied) is one line and status :data:`EXIT_ENVIRONMENT` (4); Ctrl-C is
    :data:`EXIT_INTERRUPTED` (130); any other exception is a defect, reported in one line with
    :data:`BUG_REPORT_HINT` and status :data:`EXIT_INTERNAL_ERROR` (3).
    """
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        # standalone_mode=False: Click raises usage errors here instead of printing its box, and
        # returns the code of an Exit (``--help``, ``fail()``) instead of calling sys.exit.
        result = app_for(sys.argv[1:])(prog_name="nenscope", standalone_mode=False)
    except NoArgsIsHelpError as err:
        # Bare ``nenscope`` or ``nenscope dose``: Typer has printed the help; keep its status.
        sys.exit(err.exit_code)
    except ClickException as err:
        sys.stderr.write(usage_error_line(err) + "\n")
        sys.exit(err.exit_code)
    except typer.Abort:
        sys.stderr.write("nenscope: aborted\n")
        sys.exit(EXIT_ABORTED)
    except WorkbenchError as err:
        sys.stderr.write(f"nenscope: error: {_one_line(str(err))}\n")
        sys.exit(EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        sys.stderr.write("nenscope: interrupted\n")
        sys.exit(EXIT_INTERRUPTED)
    except OSError as err:
        # The system refused (disk full, permission, a file that vanished): one line, no bug.
        sys.stderr.write(f"nenscope: error: {_os_error_line(err)}\n")
        sys.exit(EXIT_ENVIRONMENT)
    except Exception as err:  # the last resort: one line and a bug-report hint, no traceback
        _report_internal_error(err)
        sys.exit(EXIT_INTERNAL_ERROR)
    if isinstance(result, int) and not isinstance(result, bool) and result != 0:
        sys.exit(result)


def _os_error_line(err: OSError) -> str:
    """One line for an operating-system error: what, on which file, how to fix the common ones."""
    reason = err.strerror or str(err) or type(err).__name__
    where = f" ({err.filename})" if err.filename else ""
    fix = {
        errno.ENOSPC: " Free disk space or choose another output folder; nothing partial was "
        "left in place of a complete result.",
        errno.EACCES: " Check the permissions of the folder.",
        errno.EROFS: " The file system is read-only; choose another output folder.",
    }.get(err.errno or 0, "")
    return _one_line(f"{reason}{where}.{fix}")


def _report_internal_error(err: BaseException) -> None:
    """Print the last-resort line (and the traceback when :data:`DEBUG_ENV` is set)."""
    if os.environ.get(DEBUG_ENV, "") not in ("", "0"):
        traceback.print_exception(err, file=sys.stderr)
    detail = _one_line(str(err))[:300]
    sys.stderr.write(
        f"nenscope: internal error: {type(err).__name__}"
        + (f": {detail}" if detail else "")
        + f". {BUG_REPORT_HINT}\n"
    )
