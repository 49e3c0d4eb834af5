"""JSON-safe conversion of the pipeline's frozen dataclasses, typed by their annotations.

:func:`to_plain` turns a value object tree into JSON types only (``json.dumps(...,
allow_nan=False)`` accepts it); :func:`from_plain` rebuilds it from the annotations of the
target type, so a field added to a dataclass round-trips without changing this module.

Encodings: a non-finite float is the string ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``; an
enum its value; a ``datetime`` its ISO 8601 text; a ``Path`` its text; ``bytes``
``{"base64": ...}``; a numpy array ``{"dtype", "shape", "zlib_base64"}`` (C order); a mapping a
JSON object (keys as text, converted back by the key type); tuples and lists JSON arrays.
"""

from __future__ import annotations

import base64
import dataclasses
import math
import types
import typing
import zlib
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np

from nenscope.core.errors import StoredResultError

__all__ = ["from_plain", "to_plain"]

_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _float_text(value: float) -> float | str:
    if math.isfinite(value):
        return float(value)
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _scalar_to_plain(value: Any) -> tuple[bool, Any]:
    """Return ``(True, plain)`` for a scalar (number, text, enum, date, path, bytes)."""
    if isinstance(value, Enum):
        return True, value.value
    if value is None or isinstance(value, bool | int | str):
        return True, value
    if isinstance(value, float | np.floating):
        return True, _float_text(float(value))
    if isinstance(value, np.integer | np.bool_):
        return True, value.item()
    if isinstance(value, datetime | date):
        return True, value.isoformat()
    if isinstance(value, Path):
        return True, str(value)
    if isinstance(value, bytes):
        return True, {"base64": base64.b64encode(value).decode("ascii")}
    return False, None


def to_plain(value: Any) -> Any:
    """Convert a value (dataclasses, enums, arrays, ...) to JSON types only."""
    done, plain = _scalar_to_plain(value)
    if done:
        return plain
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        return {
            "dtype": array.dtype.str,
            "shape": list(array.shape),
            "zlib_base64": base64.b64encode(zlib.compress(array.tobytes(), 6)).decode("ascii"),
        }
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init
        }
    if isinstance(value, Mapping):
        return {str(to_plain(k)): to_plain(v) for k, v in value.items()}
    if isinstance(value, Sequence):
        return [to_plain(v) for v in value]
    raise StoredResultError(
        f"Cannot store a value of type {type(value).__name__} ({value!r:.60}); the stored "
        "result holds dataclasses, numbers, text, enums, dates, paths, bytes and arrays only."
    )


def _array(data: Any, where: str) -> np.ndarray[Any, Any]:
    try:
        raw = zlib.decompress(base64.b64decode(data["zlib_base64"]))
        return np.frombuffer(raw, dtype=np.dtype(data["dtype"])).reshape(data["shape"]).copy()
    except (KeyError, TypeError, ValueError, zlib.error) as err:
        raise StoredResultError(f"{where}: not a stored array ({err}).") from err


def _key(text: str, tp: Any, where: str) -> Any:
    return from_plain(int(text) if tp is int else text, tp, where=where)


def _from_union(data: Any, tp: Any, where: str) -> Any:
    args = typing.get_args(tp)
    if data is None and type(None) in args:
        return None
    errors = []
    for arg in args:
        if arg is type(None):
            continue
        try:
            return from_plain(data, arg, where=where)
        except (StoredResultError, TypeError, ValueError) as err:
            errors.append(str(err))
    raise StoredResultError(f"{where}: {data!r:.60} fits none of {tp} ({'; '.join(errors)}).")


def _from_sequence(data: Any, tp: Any, where: str) -> Any:
    origin, args = typing.get_origin(tp) or tp, typing.get_args(tp)
    if not isinstance(data, list):
        raise StoredResultError(f"{where}: expected a list, got {type(data).__name__}.")
    if origin is tuple and args and args[-1] is not Ellipsis:
        pairs = list(zip(data, args, strict=True))
        items = [from_plain(v, a, where=f"{where}[{i}]") for i, (v, a) in enumerate(pairs)]
    else:
        item_tp = args[0] if args else Any
        items = [from_plain(v, item_tp, where=f"{where}[{i}]") for i, v in enumerate(data)]
    return tuple(items) if origin is tuple else items


def _from_mapping(data: Any, tp: Any, where: str) -> dict[Any, Any]:
    key_tp, value_tp = typing.get_args(tp) or (str, Any)
    if not isinstance(data, dict):
        raise StoredResultError(f"{where}: expected an object, got {type(data).__name__}.")
    return {
        from_plain(int(k) if key_tp is int else k, key_tp, where=where): from_plain(
            v, value_tp, where=f"{where}.{k}"
        )
        for k, v in data.items()
    }


def _from_dataclass(data: Any, tp: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise StoredResultError(f"{where}: expected an object, got {type(data).__name__}.")
    hints = typing.get_type_hints(tp)
    kwargs = {
        f.name: from_plain(data[f.name], hints[f.name], where=f"{where}.{f.name}")
        for f in dataclasses.fields(tp)
        if f.init and f.name in data
    }
    return tp(**kwargs)


def _from_scalar(data: Any, tp: Any, where: str) -> Any:
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp(data)
    if tp is float:
        if isinstance(data, str) and data in _NON_FINITE:
            return _NON_FINITE[data]
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise StoredResultError(f"{where}: expected a number, got {data!r:.60}.")
        return float(data)
    converters: dict[Any, Any] = {
        datetime: datetime.fromisoformat,
        date: date.fromisoformat,
        Path: Path,
        bytes: lambda d: base64.b64decode(d["base64"]),
    }
    if tp in converters:
        return converters[tp](data)
    if tp in (int, str, bool):
        if not isinstance(data, tp) or (tp is int and isinstance(data, bool)):
            raise StoredResultError(f"{where}: expected {tp.__name__}, got {data!r:.60}.")
        return data
    raise StoredResultError(f"{where}: cannot restore a value of type {tp}.")


def from_plain(data: Any, tp: Any, *, where: str = "result") -> Any:
    """Rebuild a value of type ``tp`` from :func:`to_plain` output.

    Raises
    ------
    StoredResultError
        If ``data`` does not fit ``tp``; the message names the field path.
    """
    origin = typing.get_origin(tp)
    if tp is Any:
        return data
    if origin in (typing.Union, types.UnionType):
        return _from_union(data, tp, where)
    if origin is np.ndarray or tp is np.ndarray:
        return _array(data, where)
    if origin in (tuple, list) or tp in (tuple, list):
        return _from_sequence(data, tp, where)
    if origin in (dict, Mapping):
        return _from_mapping(data, tp, where)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _from_dataclass(data, tp, where)
    return _from_scalar(data, tp, where)
