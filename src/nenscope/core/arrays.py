"""Small array helpers that NumPy offers only at an import cost.

NumPy 2's :func:`numpy.unique` without ``return_index``/``return_inverse``/``return_counts``
imports :mod:`numpy.ma` on its first call (it asks ``np.ma.is_masked``), ~10-20 ms of CPU
that a one-lesion ``nenscope radiomics`` process would pay for nothing (issue 9, item 6).
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import numpy.typing as npt

__all__ = ["distinct"]

T = TypeVar("T", bound=np.generic)


def distinct(values: npt.NDArray[T]) -> npt.NDArray[T]:
    """Sorted distinct values of ``values`` (flattened): ``numpy.unique(values)``.

    The same result as :func:`numpy.unique` for arrays without NaN (NaN is never equal to
    itself, so each NaN would be kept).

    Examples
    --------
    >>> distinct(np.array([[3, 1], [3, 2]])).tolist()
    [1, 2, 3]
    """
    ordered = np.sort(np.asarray(values).ravel())
    if ordered.size < 2:
        return ordered
    first = np.concatenate(([True], ordered[1:] != ordered[:-1]))
    return ordered[first]
