"""Import the libraries of the later stages in a background thread while the analysis computes.

The output stages need matplotlib (figures, PDF), highdicom (SEG, SR) and Jinja2 (HTML): about
a second of imports on the 2-core reference machine (issue 10 item 6). The analysis does not
need them until its figures, so :func:`analyze_study <nenscope.pipeline.analysis.analyze_study>`
starts importing them once the study is read, while the main thread places the reference regions
and finds the lesions (NumPy and SciPy work that leaves the interpreter free much of the time).

A stage that needs one of these modules imports it as usual: if the background import is still
running, Python's per-module import lock makes it wait for it; if the background import failed,
the stage's own import raises the same error where it always did (the thread keeps nothing).
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Sequence

from nenscope.dicom._io import paused_gc

__all__ = ["FIGURE_MODULES", "OUTPUT_MODULES", "preload"]

FIGURE_MODULES = ("nenscope.reporting.figures",)
"""What the figures stage of :func:`~nenscope.pipeline.analysis.analyze` imports (matplotlib)."""

OUTPUT_MODULES = (*FIGURE_MODULES, "nenscope.pipeline.outputs")
"""What writing the outputs imports: the figures, the renderers, highdicom (SEG and SR)."""


def preload(modules: Sequence[str]) -> threading.Thread | None:
    """Import ``modules`` in a background (daemon) thread; None when all are already imported.

    Parameters
    ----------
    modules
        Dotted module names, imported in this order.

    Returns
    -------
    threading.Thread or None
        The started thread (callers need not join it), or None when there was nothing to do.

    Examples
    --------
    >>> preload(["json"]) is None  # already imported: no thread
    True
    """
    missing = [name for name in modules if name not in sys.modules]
    if not missing:
        return None
    thread = threading.Thread(
        target=_import_all, args=(missing,), name="nenscope-preload", daemon=True
    )
    thread.start()
    return thread


# Imports make ~130,000 lasting objects and no garbage: collections during them would only
# walk the analysis's objects again and again. (The analysis thread keeps freeing its own by
# reference counting; a cycle it makes meanwhile waits for the next collection.)
@paused_gc()
def _import_all(modules: Sequence[str]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        # Any failure is the stage's to report: its own import raises it again in the thread
        # that runs the analysis, where it always did.
        except Exception:
            return
