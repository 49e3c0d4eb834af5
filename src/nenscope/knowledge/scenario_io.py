"""Reading scenarios from YAML/JSON files and from the bundled examples (the I/O edge)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from nenscope.core.enums import suggest
from nenscope.core.errors import ScenarioError
from nenscope.core.safe_yaml import parse_json, parse_yaml, read_config_text
from nenscope.examples import list_examples
from nenscope.knowledge.scenario import Scenario, parse_scenario

__all__ = ["list_examples", "load_example", "load_scenario", "parse_scenario_text"]


def parse_scenario_text(text: str, *, source: str, is_json: bool = False) -> Scenario:
    """Parse YAML (a superset of JSON) or strict JSON text into a :class:`Scenario`.

    A field given twice in one mapping is refused (naming the field and, for YAML, both lines)
    rather than letting the last value win.

    Examples
    --------
    >>> parse_scenario_text('{"question": "staging"}', source="x.json", is_json=True).question
    <Question.STAGING: 'staging'>
    """
    what = f"Scenario {source}"
    if is_json:
        data = parse_json(text, source=what, error=ScenarioError)
    else:
        # The product's one YAML loader: safe tags only, duplicate keys, depth and size limits.
        data = parse_yaml(text, source=what, error=ScenarioError)
    return parse_scenario(data if data is not None else {}, source=source)


def load_scenario(path: Path) -> Scenario:
    """Read a scenario file (``.yaml``, ``.yml`` or ``.json``).

    Raises
    ------
    ScenarioError
        If the file cannot be read or parsed, or the scenario is invalid.
    """
    text = read_config_text(path, what="scenario file", error=ScenarioError)
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
