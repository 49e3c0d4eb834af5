"""nenscope: an imaging workbench for neuroendocrine neoplasms.

Choose the right scan (``nenscope.knowledge``), quantify it (``nenscope.dicom``,
``nenscope.quantification``, ``nenscope.segmentation``), score and report it
(``nenscope.scoring``, ``nenscope.reporting``) and extract IBSI radiomics features
(``nenscope.radiomics``). See ``shared/DESIGN.md`` for the architecture.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
"""The package version: the one place it is written (``pyproject.toml`` reads it here, hatch's
dynamic version). A constant, because reading the installed metadata (``importlib.metadata``)
costs ~25 ms of CPU that every command printing its version (``nenscope radiomics`` in its
JSON) would pay."""
