"""nenscope: an imaging workbench for neuroendocrine neoplasms.

Choose the right scan (``nenscope.knowledge``), quantify it (``nenscope.dicom``,
``nenscope.quantification``, ``nenscope.segmentation``), score and report it
(``nenscope.scoring``, ``nenscope.reporting``) and extract IBSI radiomics features
(``nenscope.radiomics``). See ``shared/DESIGN.md`` for the architecture.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("nenscope")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
