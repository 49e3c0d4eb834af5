"""Reading scenarios from YAML/JSON files and from the bundled examples (the I/O edge)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from nenscope.core.enums import suggest
from nenscope.core.errors import ScenarioError
from nenscope.examples import list_examples
from nenscope.knowledge.scenario import Scenario, parse_scenario

__all__ = ["list_examples", "load_example", "load_scenario", "parse_scenario_text"]


class _DuplicateKeyError(Exception):
    """A mapping gives the same key twice; ``where`` says where (lines, or the JSON object)."""

    def __init__(self, key: object, where: str) -> None:
        super().__init__(f"{key!r} {where}")
        self.key = key
        self.where = where


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping.

    PyYAML keeps the last value silently (``question: staging`` then ``question: diagnosis``
    reads as diagnosis); a scenario must not change meaning without a word. Merge keys (``<<``)
    may still be overridden, as YAML intends.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: SafeConstructor refuses it with its own error
                continue
            if first is not None:
                raise _DuplicateKeyError(key, f"is given twice (lines {first} and {line})")
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _unique_json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` for :func:`json.loads` that refuses a key given twice."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(key, "is given twice in the same JSON object")
        result[key] = value
    return result


def parse_scenario_text(text: str, *, source: str, is_json: bool = False) -> Scenario:
    """Parse YAML (a superset of JSON) or strict JSON text into a :class:`Scenario`.

    A field given twice in one mapping is refused (naming the field and, for YAML, both lines)
    rather than letting the last value win.

    Examples
    --------
    >>> parse_scenario_text('{"question": "staging"}', source="x.json", is_json=True).question
    <Question.STAGING: 'staging'>
    """
    data: Any
    try:
        if is_json:
            data = json.loads(text, object_pairs_hook=_unique_json_object)
        else:
            # A SafeLoader subclass: safe_load semantics plus the duplicate-key check.
            data = yaml.load(text, Loader=_UniqueKeyLoader)
    except _DuplicateKeyError as err:
        raise ScenarioError(
            f"Scenario {source}: field {err.key!r} {err.where}; the last value would silently "
            "win. Keep one of them."
        ) from err
    except (json.JSONDecodeError, yaml.YAMLError) as err:
        kind = "JSON" if is_json else "YAML"
        one_line = " ".join(str(err).split())
        raise ScenarioError(f"Scenario {source} is not valid {kind}: {one_line}") from err
    return parse_scenario(data if data is not None else {}, source=source)


def load_scenario(path: Path) -> Scenario:
    """Read a scenario file (``.yaml``, ``.yml`` or ``.json``).

    Raises
    ------
    ScenarioError
        If the file cannot be read or parsed, or the scenario is invalid.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ScenarioError(
            f"Cannot read scenario file {path}: {err.strerror or err}. Check the path."
        ) from err
    return parse_scenario_text(text, source=path.name, is_json=path.suffix.lower() == ".json")


def load_example(name: str) -> Scenario:
    """Load a bundled example scenario by name (with or without ``scenario-``/``.yaml``)."""
    stem = name.removeprefix("scenario-").removesuffix(".yaml")
    names = list_examples()
    if stem not in names:
        raise ScenarioError(f"Unknown example scenario '{name}'. {suggest(stem, names)}")
    text = (resources.files("nenscope.examples") / f"scenario-{stem}.yaml").read_text(
        encoding="utf-8"
    )
    return parse_scenario_text(text, source=f"example {stem}")
