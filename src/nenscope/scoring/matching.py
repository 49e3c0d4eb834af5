"""Matching lesions between two studies by centroid distance (Hungarian assignment)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from nenscope.core.errors import GeometryError, ImpossibleValueError, InvalidArgumentError

__all__ = ["LesionMatch", "MatchResult", "match_lesions"]

DEFAULT_MAX_DISTANCE_MM = 20.0
"""Default largest centroid distance (mm) at which two lesions are taken as the same lesion."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LesionMatch:
    """A baseline lesion paired with a follow-up lesion.

    Attributes
    ----------
    baseline, followup
        Indices into the baseline and follow-up centroid lists.
    distance_mm
        Centroid distance after the transform, mm.
    """

    baseline: int
    followup: int
    distance_mm: float


@dataclass(frozen=True, slots=True, kw_only=True)
class MatchResult:
    """Result of :func:`match_lesions`.

    Attributes
    ----------
    pairs
        Matched lesions, in increasing baseline index.
    unmatched_baseline
        Baseline lesions without a partner (resolved or moved beyond the distance).
    new
        Follow-up lesions without a partner (new lesions).
    """

    pairs: tuple[LesionMatch, ...]
    unmatched_baseline: tuple[int, ...]
    new: tuple[int, ...]


def _points(points: Sequence[Sequence[float]], what: str) -> npt.NDArray[np.float64]:
    arr = np.asarray(points, dtype=np.float64).reshape(-1, 3) if len(points) else np.zeros((0, 3))
    if not np.all(np.isfinite(arr)):
        raise ImpossibleValueError(f"{what} centroids must be finite.")
    return arr


def match_lesions(
    baseline_mm: Sequence[Sequence[float]],
    followup_mm: Sequence[Sequence[float]],
    *,
    max_distance_mm: float = DEFAULT_MAX_DISTANCE_MM,
    followup_to_baseline: npt.ArrayLike | None = None,
) -> MatchResult:
    """Pair lesions of two studies minimising the total centroid distance.

    Parameters
    ----------
    baseline_mm, followup_mm
        Lesion centroids, LPS ``(x, y, z)`` mm, one per lesion.
    max_distance_mm
        Pairs farther apart than this (after the transform) are not matched, mm.
    followup_to_baseline
        4×4 affine mapping follow-up LPS mm into baseline LPS mm (a registration result);
        None for the identity (same patient position / frame of reference).

    Returns
    -------
    MatchResult
        Pairs, unmatched baseline lesions and new follow-up lesions.

    Notes
    -----
    Optimal one-to-one assignment (Hungarian algorithm, ``scipy.optimize.
    linear_sum_assignment``; Kuhn HW, Naval Res Logist Q 1955;2:83) on the Euclidean distance
    matrix; pairs beyond ``max_distance_mm`` are treated as forbidden before the assignment.

    Examples
    --------
    >>> r = match_lesions([(0, 0, 0), (50, 0, 0)], [(52, 1, 0), (0, 0, 3), (200, 0, 0)])
    >>> [(p.baseline, p.followup) for p in r.pairs], r.new
    ([(0, 1), (1, 0)], (2,))
    """
    if not max_distance_mm > 0:
        raise InvalidArgumentError(f"max_distance_mm must be > 0, got {max_distance_mm}.")
    base = _points(baseline_mm, "Baseline")
    follow = _points(followup_mm, "Follow-up")
    if followup_to_baseline is not None:
        t = np.asarray(followup_to_baseline, dtype=np.float64)
        if t.shape != (4, 4):
            raise GeometryError(f"followup_to_baseline must be 4x4, got {t.shape}.")
        follow = follow @ t[:3, :3].T + t[:3, 3]
    pairs: list[LesionMatch] = []
    if len(base) and len(follow):
        # Imported here: only a follow-up comparison matches lesions, and scipy.optimize is
        # 40 ms of every analysis process's (and cohort worker's) start otherwise.
        from scipy.optimize import linear_sum_assignment

        dist = np.linalg.norm(base[:, None, :] - follow[None, :, :], axis=2)
        # Forbidden pairs cost more than any set of allowed pairs can.
        big = (dist[dist <= max_distance_mm].sum() + 1.0) * (len(base) + len(follow))
        cost = np.where(dist <= max_distance_mm, dist, big)
        rows, cols = linear_sum_assignment(cost)
        pairs = [
            LesionMatch(baseline=int(r), followup=int(c), distance_mm=float(dist[r, c]))
            for r, c in zip(rows, cols, strict=True)
            if dist[r, c] <= max_distance_mm
        ]
    matched_b = {p.baseline for p in pairs}
    matched_f = {p.followup for p in pairs}
    return MatchResult(
        pairs=tuple(sorted(pairs, key=lambda p: p.baseline)),
        unmatched_baseline=tuple(i for i in range(len(base)) if i not in matched_b),
        new=tuple(i for i in range(len(follow)) if i not in matched_f),
    )
