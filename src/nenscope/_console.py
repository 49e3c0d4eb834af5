"""The ``nenscope`` console script's entry point: it loads the command line only when called.

The script's module is the ``__main__`` of every ``nenscope`` process, and the fork server of
``nenscope cohort run``'s local workers imports that ``__main__`` before the analysis stack
(:data:`nenscope.cohort.cluster.FORK_SERVER_PRELOAD`): importing :mod:`nenscope.cli` there
(Typer and every command, ~0.09 s) would delay each worker's first study for nothing.
"""

from __future__ import annotations

__all__ = ["main"]


def main() -> None:
    """Run the ``nenscope`` command line (:func:`nenscope.cli.main`)."""
    from nenscope.cli import main as cli_main

    cli_main()
