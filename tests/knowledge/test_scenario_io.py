"""Scenario files and bundled examples (knowledge/scenario_io.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nenscope.core.errors import ScenarioError
from nenscope.knowledge.recommender import recommend
from nenscope.knowledge.scenario_io import list_examples, load_example, load_scenario
from nenscope.knowledge.vocab import Question


def test_load_yaml_and_json_files(tmp_path: Path) -> None:
    y = tmp_path / "s.yaml"
    y.write_text("question: staging\nweight_kg: 70\n", encoding="utf-8")
    j = tmp_path / "s.json"
    j.write_text('{"question": "restaging"}', encoding="utf-8")
    assert load_scenario(y).weight_kg == 70.0
    assert load_scenario(j).question is Question.RESTAGING


def test_load_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{question: staging", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"bad.json is not valid JSON"):
        load_scenario(bad)
    with pytest.raises(ScenarioError, match="Cannot read scenario file"):
        load_scenario(tmp_path / "missing.yaml")
    top_list = tmp_path / "list.yaml"
    top_list.write_text("- staging\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="expected a map"):
        load_scenario(top_list)


def test_bundled_examples_load() -> None:
    names = list_examples()
    assert "si-net-staging" in names
    for name in names:
        assert load_example(name).question in Question
    with pytest.raises(ScenarioError, match="Did you mean 'si-net-staging'"):
        load_example("si-net-stagin")


@pytest.mark.parametrize("name", list_examples())
def test_bundled_examples_give_a_plan(name: str) -> None:
    expected_first = {
        "si-net-staging": "ga68-sstr-pet",
        "occult-insulinoma": "exendin-pet",
        "sdhb-paraganglioma": "ga68-sstr-pet",
        "mtc-recurrence": "fdopa-pet",
    }
    plan = recommend(load_example(name))
    assert plan.items[0].exam.value == expected_first[name]
