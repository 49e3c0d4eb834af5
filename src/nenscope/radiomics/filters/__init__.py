"""IBSI 2 convolutional filters (mean, LoG, Laws, Gabor, wavelets, Simoncelli, Riesz).

Every filter takes a ``(z, y, x)`` image and returns a float64 response map of the same shape;
boundary modes follow IBSI 2 (``zero``, ``nearest``, ``periodic``, ``mirror``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nenscope.radiomics.filters._common import BoundaryMode, Pooling
    from nenscope.radiomics.filters.gabor import gabor_filter, gabor_kernel
    from nenscope.radiomics.filters.laws import LAWS_KERNELS, energy_map, laws_filter
    from nenscope.radiomics.filters.log import log_filter
    from nenscope.radiomics.filters.mean import mean_filter
    from nenscope.radiomics.filters.riesz import riesz_transform
    from nenscope.radiomics.filters.simoncelli import simoncelli_band, simoncelli_filter
    from nenscope.radiomics.filters.wavelets import (
        WaveletFamily,
        decomposition_filters,
        wavelet_filter,
    )

_LAZY = {
    "BoundaryMode": "_common",
    "Pooling": "_common",
    "gabor_filter": "gabor",
    "gabor_kernel": "gabor",
    "LAWS_KERNELS": "laws",
    "energy_map": "laws",
    "laws_filter": "laws",
    "log_filter": "log",
    "mean_filter": "mean",
    "riesz_transform": "riesz",
    "simoncelli_band": "simoncelli",
    "simoncelli_filter": "simoncelli",
    "WaveletFamily": "wavelets",
    "decomposition_filters": "wavelets",
    "wavelet_filter": "wavelets",
}
"""Public name → module that defines it, imported on first access (PEP 562): reading
settings needs the vocabularies only, not the Gabor filter's SciPy signal machinery."""


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nenscope.radiomics.filters' has no attribute '{name}'")
    return getattr(importlib.import_module(f"nenscope.radiomics.filters.{module}"), name)


__all__ = [
    "LAWS_KERNELS",
    "BoundaryMode",
    "Pooling",
    "WaveletFamily",
    "decomposition_filters",
    "energy_map",
    "gabor_filter",
    "gabor_kernel",
    "laws_filter",
    "log_filter",
    "mean_filter",
    "riesz_transform",
    "simoncelli_band",
    "simoncelli_filter",
    "wavelet_filter",
]
