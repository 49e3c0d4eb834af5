"""Split a thresholded component into the basins of its separate peaks (pure).

A structure joined at threshold to a hotter one (a node touching a ureter, an adrenal on a
kidney's upper pole) forms one connected component with it; a contour that keeps only the part
around the hottest peak would drop the structure with the organ (issue 10: "split from it, not
dropped with it"). :func:`split_basins` finds the peaks of the smoothed image in the component,
grows their basins by watershed, and merges every basin whose peak does not rise at least
``prominence`` above the highest saddle to a basin with a higher peak (the topographic
prominence, "dynamics"): a lesion's shoulder, a noise bump or a plateau is no peak of its own.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from skimage.feature import peak_local_max
from skimage.segmentation import watershed

__all__ = ["MAX_PEAKS", "split_basins"]

MAX_PEAKS = 200
"""Most peaks considered in one component (the highest; the rest join their basins)."""


def split_basins(
    smooth: npt.NDArray[np.float64],
    candidate: npt.NDArray[np.bool_],
    *,
    floor: float,
    prominence_fraction: float,
    min_prominence: float,
) -> list[npt.NDArray[np.bool_]]:
    """Basins of the separate peaks of ``smooth`` inside ``candidate``, hottest first.

    Parameters
    ----------
    smooth
        Smoothed values (z, y, x), e.g. SUV after a 3×3×3 mean.
    candidate
        The component (bool, same shape).
    floor
        The detection level: a peak's height is measured above it.
    prominence_fraction, min_prominence
        A peak ``p`` stands on its own when it rises at least ``max(min_prominence,
        prominence_fraction × (p − floor))`` above the highest saddle that joins it to a
        higher peak.

    Returns
    -------
    list of numpy.ndarray
        Bool masks partitioning ``candidate``; one (``candidate`` itself) when it has one peak.
    """
    peaks = peak_local_max(  # type: ignore[no-untyped-call]  # skimage is untyped here
        np.where(candidate, smooth, floor),
        footprint=np.ones((3, 3, 3), dtype=bool),
        labels=candidate.astype(np.int32),
        exclude_border=False,
        num_peaks=MAX_PEAKS,
    )
    if len(peaks) < 2:
        return [candidate]
    markers = np.zeros(candidate.shape, dtype=np.int32)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1, dtype=np.int32)
    basins = np.asarray(
        watershed(-smooth, markers, mask=candidate),  # type: ignore[no-untyped-call]  # untyped
        dtype=np.int64,
    )
    n = len(peaks)
    top = np.full(n + 1, -np.inf)
    np.maximum.at(top, basins[candidate], smooth[candidate])
    saddle = _saddles(basins, smooth, n)
    owner = _merge(top, saddle, floor, prominence_fraction, min_prominence)
    merged = owner[basins]
    order = sorted({int(o) for o in owner[1:]}, key=lambda o: -top[o])
    return [candidate & (merged == o) for o in order]


def _saddles(
    basins: npt.NDArray[np.int64], smooth: npt.NDArray[np.float64], n: int
) -> npt.NDArray[np.float64]:
    """Highest pass value between each pair of touching basins ((n + 1)², -inf if apart)."""
    saddle = np.full((n + 1, n + 1), -np.inf)
    for axis in range(3):
        a = np.moveaxis(basins, axis, 0)
        s = np.moveaxis(smooth, axis, 0)
        la, lb = a[:-1], a[1:]
        edge = (la > 0) & (lb > 0) & (la != lb)
        if not edge.any():
            continue
        low = np.minimum(s[:-1], s[1:])[edge]
        i, j = la[edge], lb[edge]
        np.maximum.at(saddle, (i, j), low)
        np.maximum.at(saddle, (j, i), low)
    return saddle


def _merge(
    top: npt.NDArray[np.float64],
    saddle: npt.NDArray[np.float64],
    floor: float,
    fraction: float,
    minimum: float,
) -> npt.NDArray[np.int64]:
    """Owner basin of each basin after merging the peaks that are not prominent enough."""
    n = len(top) - 1
    owner = np.arange(n + 1, dtype=np.int64)
    alive = np.ones(n + 1, dtype=bool)
    alive[0] = False
    saddle = saddle.copy()
    # Lowest peak first: each either stands on its own or joins the higher neighbour it is
    # connected to by the highest pass (the merged group keeps both groups' passes).
    for b in np.argsort(top[1:], kind="stable") + 1:
        higher = np.flatnonzero(alive & (top >= top[b]))
        higher = higher[higher != b]
        if higher.size == 0:
            continue
        best = int(higher[int(np.argmax(saddle[b, higher]))])
        pass_value = saddle[b, best]
        needed = max(minimum, fraction * (top[b] - floor))
        if pass_value == -np.inf or top[b] - pass_value >= needed:
            continue
        owner[owner == b] = best
        alive[b] = False
        saddle[best] = np.maximum(saddle[best], saddle[b])
        saddle[:, best] = saddle[best]
        saddle[best, best] = -np.inf
        saddle[b] = -np.inf
        saddle[:, b] = -np.inf
    return owner
