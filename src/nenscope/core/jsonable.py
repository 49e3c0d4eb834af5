"""The one conversion of nenscope values to JSON types (CLI payloads, reports, journals)."""

from __future__ import annotations

import math
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

__all__ = ["to_jsonable"]


def to_jsonable(value: Any) -> Any:
    """Convert dataclasses, mappings, sequences, numpy values, paths, enums and dates for JSON.

    Non-finite floats become ``None`` (JSON has no NaN); callers that produce NaN must attach
    the reason elsewhere in the payload.

    Examples
    --------
    >>> to_jsonable({"a": (1.5, float("nan")), "b": Path("x")})
    {'a': [1.5, None], 'b': 'x'}
    """
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if type(value).__module__ == "numpy":  # arrays and numpy scalars, without importing numpy
        return to_jsonable(
            value.tolist() if hasattr(value, "shape") and value.shape else value.item()
        )
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value
