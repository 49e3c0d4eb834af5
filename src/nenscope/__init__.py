"""nenscope: an imaging workbench for neuroendocrine neoplasms.

Choose the right scan (``nenscope.knowledge``), quantify it (``nenscope.dicom``,
``nenscope.quantification``, ``nenscope.segmentation``), score and report it
(``nenscope.scoring``, ``nenscope.reporting``) and extract IBSI radiomics features
(``nenscope.radiomics``). See ``shared/DESIGN.md`` for the architecture.
"""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    # The version is read from the installed metadata on first use (importlib.metadata costs
    # about a tenth of a second, which every ``nenscope --help`` would pay).
    if name != "__version__":
        raise AttributeError(f"module 'nenscope' has no attribute '{name}'")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("nenscope")
    except PackageNotFoundError:  # running from a source tree that was never installed
        value = "0.0.0+unknown"
    globals()["__version__"] = value
    return value
