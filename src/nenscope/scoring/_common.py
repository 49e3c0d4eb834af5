"""Shared constants of the response criteria."""

from __future__ import annotations

__all__ = ["BOUNDARY_ATOL"]

BOUNDARY_ATOL = 1e-9
"""Tolerance for comparing relative changes with a criterion boundary (30 %, 20 %, 10 % ...),
so that a change that equals the boundary in exact arithmetic but not in floating point
(e.g. 70 / 100 - 1) falls on the side the criterion states."""
