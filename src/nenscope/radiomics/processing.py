"""The IBSI 1 image-processing chain (reference manual chapter 2), pure NumPy/SciPy.

Interpolation of image and ROI mask onto an IBSI-aligned grid, intensity rounding,
re-segmentation by range and by outliers, and discretisation. The result of the chain is a
:class:`PreparedRoi`: the crop around the ROI that every feature family works on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from nenscope.radiomics.settings import Approach

__all__ = ["PreparedRoi"]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class PreparedRoi:
    """A processed ROI, cropped to the bounding box of the morphological mask (plus margin).

    Parameters
    ----------
    image
        Processed intensities, float64, shape ``(z, y, x)`` (crop of the whole image, so the
        local-intensity peaks can look beyond the ROI).
    morph_mask
        Morphological mask (after interpolation, before re-segmentation), bool, same shape.
    int_mask
        Intensity mask (after re-segmentation), bool, same shape.
    levels
        Discretised grey levels for the intensity histogram and textures, int64, 0 outside
        ``int_mask`` and ``1..n_levels`` inside.
    n_levels
        Number of grey levels ``N_g`` of ``levels``.
    ivh_levels
        Discretised values for the intensity-volume histogram, float64, same shape
        (meaningful inside ``int_mask`` only), with ``ivh_min``/``ivh_max``/``ivh_step``.
    spacing_mm
        Voxel size in mm, ``(z, y, x)``.
    approach
        Texture aggregation approach.
    """

    image: npt.NDArray[np.float64]
    morph_mask: npt.NDArray[np.bool_]
    int_mask: npt.NDArray[np.bool_]
    levels: npt.NDArray[np.int64]
    n_levels: int
    ivh_values: npt.NDArray[np.float64]
    ivh_min: float
    ivh_max: float
    ivh_step: float
    spacing_mm: tuple[float, float, float]
    approach: Approach
