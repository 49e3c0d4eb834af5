"""IBSI 2 convolutional filters (mean, LoG, Laws, Gabor, wavelets, Simoncelli, Riesz).

Every filter takes a ``(z, y, x)`` image and returns a float64 response map of the same shape;
boundary modes follow IBSI 2 (``zero``, ``nearest``, ``periodic``, ``mirror``).
"""

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
