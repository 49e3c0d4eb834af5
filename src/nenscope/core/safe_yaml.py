"""The one way nenscope reads a YAML (or JSON) file a user gives it, with input limits.

Every YAML the product reads (scenarios, radiomics configs, phantom lesion lists) goes through
:func:`parse_yaml`, so that the same rules hold everywhere:

* PyYAML's safe loader (no Python objects: ``!!python/object`` is refused);
* a key given twice in one mapping is refused, naming the key and both lines (PyYAML keeps
  the last value silently);
* nesting deeper than :data:`MAX_YAML_DEPTH` and documents of more than
  :data:`MAX_YAML_NODES` nodes are refused while composing, before they cost memory or blow
  the Python stack (3,000 nested lists raised ``RecursionError``);
* files larger than :data:`MAX_CONFIG_FILE_BYTES` are refused from their size, before being
  read (a 50 MB list of 2.6 million items took 60 s and 2 GB), and text that is not UTF-8 is
  refused naming the file and the byte offset.

:data:`MAX_UPLOAD_BYTES` and :func:`check_input_size` are the limits for uploaded studies, for
the web service to share.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from nenscope.core.errors import InputLimitError, WorkbenchError

__all__ = [
    "MAX_CONFIG_FILE_BYTES",
    "MAX_UPLOAD_BYTES",
    "MAX_YAML_DEPTH",
    "MAX_YAML_NODES",
    "check_input_size",
    "parse_json",
    "parse_yaml",
    "read_config_text",
]

MAX_CONFIG_FILE_BYTES = 256 * 1024
"""Largest scenario, settings or lesion file read (256 KiB; the largest shipped one is ~3 kB)."""

MAX_YAML_DEPTH = 64
"""Deepest nesting of YAML collections accepted (the configs nest 4 levels at most)."""

MAX_YAML_NODES = 20_000
"""Most YAML nodes (scalars, lists, mappings) in one document."""

MAX_UPLOAD_BYTES = 8 * 1024**3
"""Largest uploaded study (8 GiB): a whole-body PET/CT with thin-slice CT is 0.5-2 GiB."""


def check_input_size(n_bytes: int, *, limit: int, what: str) -> None:
    """Refuse an input of ``n_bytes`` bytes when it exceeds ``limit``.

    Parameters
    ----------
    n_bytes
        Size of the input in bytes (from ``stat`` or a Content-Length, before reading it).
    limit
        The largest size accepted, e.g. :data:`MAX_CONFIG_FILE_BYTES` or
        :data:`MAX_UPLOAD_BYTES`.
    what
        The input, for the message ("scenario file case.yaml", "upload").

    Raises
    ------
    InputLimitError
        With both sizes.

    Examples
    --------
    >>> check_input_size(10, limit=MAX_CONFIG_FILE_BYTES, what="scenario")
    """
    if n_bytes > limit:
        raise InputLimitError(
            f"{what} is {n_bytes:,} bytes, more than the {limit:,} bytes accepted; it is "
            "refused without being read. Check that the right file was given."
        )


def read_config_text(path: Path, *, what: str, error: type[WorkbenchError]) -> str:
    """Read a small UTF-8 text file given by the user, refusing large or undecodable ones.

    Parameters
    ----------
    path
        The file.
    what
        What the file is, for messages ("scenario file", "radiomics config").
    error
        The :class:`WorkbenchError` subclass to raise (a size refusal raises
        :class:`InputLimitError`, which the caller may catch as ``WorkbenchError``).

    Raises
    ------
    InputLimitError
        Larger than :data:`MAX_CONFIG_FILE_BYTES`.
    WorkbenchError
        ``error``: the file cannot be read or is not UTF-8.
    """
    try:
        size = path.stat().st_size
        check_input_size(size, limit=MAX_CONFIG_FILE_BYTES, what=f"{what} {path}")
        data = path.read_bytes()
    except OSError as err:
        raise error(f"Cannot read {what} {path}: {err.strerror or err}. Check the path.") from err
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise error(
            f"{what.capitalize()} {path} is not UTF-8 text (byte {err.start}: "
            f"{data[err.start : err.start + 4]!r}). Save it as UTF-8."
        ) from err


class _LimitExceededError(Exception):
    """Raised inside the loader; turned into the caller's error by :func:`parse_yaml`."""


class _DuplicateKeyError(Exception):
    def __init__(self, key: object, first: int, second: int) -> None:
        super().__init__(f"{key!r} lines {first} and {second}")
        self.key, self.first, self.second = key, first, second


class _SafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with duplicate-key refusal and depth/size limits."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self._nodes += 1
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise _LimitExceededError(f"nests deeper than {MAX_YAML_DEPTH} levels")
            if self._nodes > MAX_YAML_NODES:
                raise _LimitExceededError(f"holds more than {MAX_YAML_NODES:,} values")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # merge keys (<<) may be overridden, as YAML intends
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: SafeConstructor refuses it with its own error
                continue
            if first is not None:
                raise _DuplicateKeyError(key, first, line)
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def parse_yaml(text: str, *, source: str, error: type[WorkbenchError]) -> Any:
    """Parse YAML text safely; refuse duplicate keys, deep nesting and huge documents.

    Parameters
    ----------
    text
        The document.
    source
        What it is, for messages ("scenario case.yaml").
    error
        The :class:`WorkbenchError` subclass to raise for invalid YAML and duplicate keys.

    Returns
    -------
    Any
        What ``yaml.safe_load`` returns (``None`` for an empty document).

    Raises
    ------
    InputLimitError
        Text longer than :data:`MAX_CONFIG_FILE_BYTES` characters, nesting deeper than
        :data:`MAX_YAML_DEPTH`, more than :data:`MAX_YAML_NODES` nodes.
    WorkbenchError
        ``error``: not valid YAML, a key given twice, a tag other than the safe ones.

    Examples
    --------
    >>> from nenscope.core.errors import OptionError
    >>> parse_yaml("a: 1", source="example", error=OptionError)
    {'a': 1}
    >>> parse_yaml("[1, 2]", source="example", error=OptionError)
    [1, 2]
    """
    check_input_size(len(text), limit=MAX_CONFIG_FILE_BYTES, what=source)
    loader = _SafeLoader(text)
    try:
        return loader.get_single_data()
    except _DuplicateKeyError as err:
        raise error(
            f"{source}: key {err.key!r} is given twice (lines {err.first} and {err.second}); "
            "the last value would silently win. Keep one of them."
        ) from err
    except _LimitExceededError as err:
        raise InputLimitError(f"{source} {err}; it is refused.") from err
    except RecursionError as err:  # pragma: no cover - the depth limit comes first
        raise InputLimitError(f"{source} nests too deeply; it is refused.") from err
    except yaml.YAMLError as err:
        one_line = " ".join(str(err).split())
        raise error(f"{source} is not valid YAML: {one_line}") from err
    finally:
        loader.dispose()


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(key, 0, 0)
        result[key] = value
    return result


def parse_json(text: str, *, source: str, error: type[WorkbenchError]) -> Any:
    """Parse strict JSON with the same refusals as :func:`parse_yaml` (duplicates, size, depth).

    Examples
    --------
    >>> from nenscope.core.errors import OptionError
    >>> parse_json('{"a": [1, 2]}', source="example", error=OptionError)
    {'a': [1, 2]}
    """
    check_input_size(len(text), limit=MAX_CONFIG_FILE_BYTES, what=source)
    try:
        return json.loads(text, object_pairs_hook=_unique_object)
    except _DuplicateKeyError as err:
        raise error(
            f"{source}: key {err.key!r} is given twice in the same JSON object; the last value "
            "would silently win. Keep one of them."
        ) from err
    except RecursionError as err:
        raise InputLimitError(f"{source} nests too deeply; it is refused.") from err
    except json.JSONDecodeError as err:
        raise error(f"{source} is not valid JSON: {err}") from err
