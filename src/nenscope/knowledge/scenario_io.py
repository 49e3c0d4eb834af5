"""Reading scenarios from YAML/JSON files and from the bundled examples (the I/O edge)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from nenscope.core.enums import suggest
from nenscope.core.errors import ScenarioError
from nenscope.knowledge.scenario import Scenario, parse_scenario

__all__ = ["list_examples", "load_example", "load_scenario", "parse_scenario_text"]


def parse_scenario_text(text: str, *, source: str, is_json: bool = False) -> Scenario:
    """Parse YAML (a superset of JSON) or strict JSON text into a :class:`Scenario`.

    Examples
    --------
    >>> parse_scenario_text('{"question": "staging"}', source="x.json", is_json=True).question
    <Question.STAGING: 'staging'>
    """
    data: Any
    try:
        data = json.loads(text) if is_json else yaml.safe_load(text)
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


def list_examples() -> list[str]:
    """Names of the bundled example scenarios (``scenario-<name>.yaml`` → ``<name>``).

    Examples
    --------
    >>> "si-net-staging" in list_examples()
    True
    """
    root = resources.files("nenscope.examples")
    return sorted(
        p.name.removeprefix("scenario-").removesuffix(".yaml")
        for p in root.iterdir()
        if p.name.startswith("scenario-") and p.name.endswith(".yaml")
    )


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
