"""Patient-space extent of a volume, for the report's coverage checks and the figures.

Apart from :mod:`nenscope.reporting.figures` so that report assembly does not load matplotlib.
"""

from __future__ import annotations

import numpy as np

from nenscope.core.geometry import ImageVolume

__all__ = ["ct_z_range_mm"]


def ct_z_range_mm(ct: ImageVolume) -> tuple[float, float]:
    """Lowest and highest patient z (LPS mm) of the CT's voxel centres.

    Examples
    --------
    >>> from nenscope.core.geometry import affine_from_spacing
    >>> from nenscope.core.units import Unit
    >>> ct = ImageVolume(array=np.zeros((3, 2, 2)), affine=affine_from_spacing(
    ...     (5, 1, 1), origin_mm=(0, 0, -10)), unit=Unit.HU)
    >>> ct_z_range_mm(ct)
    (-10.0, 0.0)
    """
    corners = np.array(
        [
            [i, j, k]
            for i in (0, ct.shape[0] - 1)
            for j in (0, ct.shape[1] - 1)
            for k in (0, ct.shape[2] - 1)
        ],
        dtype=np.float64,
    )
    z = (np.c_[corners, np.ones(len(corners))] @ ct.affine.T)[:, 2]
    return float(z.min()), float(z.max())
