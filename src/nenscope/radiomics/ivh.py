"""Intensity-volume histogram features (IBSI 1 section 3.5)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from nenscope.radiomics.processing import PreparedRoi

__all__ = ["compute_ivh_features", "intensity_volume_histogram", "ivh_features"]

IVH_GRID_ATOL = 1e-9
"""Slack, in discretisation intervals, when counting the grid points of the total range."""


def intensity_volume_histogram(
    values: npt.NDArray[np.float64], *, g_min: float, g_max: float, step: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Grey levels, intensity fractions γ and volume fractions ν of the IVH.

    Parameters
    ----------
    values
        Discretised ROI values ``X_d,gl`` (1-D).
    g_min, g_max, step
        Total range ``G`` and discretisation interval ``w_d``.

    Returns
    -------
    levels, gamma, nu
        Float64 arrays over ``i = g_min, g_min + w_d, …, <= g_max``.

    Notes
    -----
    ``ν_i = 1 - #(X < i) / N_v`` and ``γ_i = (i - min G) / (max G - min G)`` (IBSI 1, 3.5).

    Examples
    --------
    >>> _, g, v = intensity_volume_histogram(np.array([1.0, 1.0, 3.0, 4.0]), g_min=1.0,
    ...                                      g_max=4.0, step=1.0)
    >>> g.tolist(), v.tolist()
    ([0.0, 0.3333333333333333, 0.6666666666666666, 1.0], [1.0, 0.5, 0.5, 0.25])
    """
    x = np.sort(np.asarray(values, dtype=np.float64).ravel())
    n = int(np.floor((g_max - g_min) / step + IVH_GRID_ATOL)) + 1
    grid = g_min + step * np.arange(max(n, 1), dtype=np.float64)
    below = np.searchsorted(x, grid - step * IVH_GRID_ATOL, side="left")
    nu = 1.0 - below / x.size
    span = g_max - g_min
    gamma = (grid - g_min) / span if span > 0 else np.zeros_like(grid)
    return grid, gamma, nu


def ivh_features(
    values: npt.NDArray[np.float64], *, g_min: float, g_max: float, step: float
) -> dict[str, float]:
    """IVH features keyed by IBSI id (``BC2M_V10``, ``GBPN_I10``, …).

    Notes
    -----
    ``V_x`` (BC2M) is the largest ν with γ >= x; ``I_x`` (GBPN) is the lowest grey level
    whose ν <= x (the top of the range when none); DDTU = V10 - V90, CNV2 = I10 - I90,
    9CMM is the trapezoidal area under ν(γ) (0 for a single level).
    """
    grid, gamma, nu = intensity_volume_histogram(values, g_min=g_min, g_max=g_max, step=step)

    def v_at(fraction: float) -> float:
        sel = nu[gamma >= fraction - IVH_GRID_ATOL]
        return float(sel.max()) if sel.size else 0.0

    def i_at(fraction: float) -> float:
        sel = grid[nu <= fraction]
        return float(sel.min()) if sel.size else float(grid[-1])

    v10, v90, i10, i90 = v_at(0.1), v_at(0.9), i_at(0.1), i_at(0.9)
    auc = float(np.trapezoid(nu, gamma)) if grid.size > 1 else 0.0
    return {
        "BC2M_V10": v10,
        "BC2M_V90": v90,
        "GBPN_I10": i10,
        "GBPN_I90": i90,
        "DDTU": v10 - v90,
        "CNV2": i10 - i90,
        "9CMM": auc,
    }


def compute_ivh_features(roi: PreparedRoi) -> dict[str, float]:
    """Intensity-volume histogram features of the intensity mask (IBSI 1 section 3.5)."""
    return ivh_features(
        roi.ivh_values[roi.int_mask], g_min=roi.ivh_min, g_max=roi.ivh_max, step=roi.ivh_step
    )
