"""The ``nenscope`` console script's entry point: it loads the command line only when called.

The script's module is the ``__main__`` of every ``nenscope`` process, and the fork server of
``nenscope cohort run``'s local workers imports that ``__main__`` before the analysis stack
(:data:`nenscope.cohort.cluster.FORK_SERVER_PRELOAD`): importing :mod:`nenscope.cli` there
(Typer and every command, ~0.09 s) would delay each worker's first study for nothing.
"""

from __future__ import annotations

import gc

__all__ = ["main"]


def main() -> None:
    """Run the ``nenscope`` command line (:func:`nenscope.cli.main`).

    When the command is over (whatever its exit status), the objects still alive are frozen
    (:func:`gc.freeze`): the interpreter's shutdown then skips its last cycle collections over
    them, which after ``nenscope cohort run`` (distributed, the analysis stack, pyarrow) took
    0.2-0.3 s of a command measured in seconds. Nothing is lost by it: every output file is
    closed by its writer, and the atexit handlers (logging's flush among them) and the
    flushing of stdout and stderr still run.
    """
    from nenscope.cli import main as cli_main

    try:
        cli_main()
    finally:
        gc.freeze()
