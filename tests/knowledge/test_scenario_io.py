"""Scenario files and bundled examples (knowledge/scenario_io.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nenscope.core.errors import ScenarioError
from nenscope.core.safe_yaml import parse_yaml
from nenscope.knowledge.recommender import recommend
from nenscope.knowledge.scenario_io import (
    list_examples,
    load_example,
    load_scenario,
    parse_scenario_text,
)
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


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        (
            "twice.yaml",
            "question: staging\nweight_kg: 70\nquestion: diagnosis\n",
            ("twice.yaml", "key 'question' is given twice (lines 1 and 3)"),
        ),
        (
            "nested.yaml",
            "question: staging\nprior:\n  a: 1\n  a: 2\n",
            ("nested.yaml", "key 'a' is given twice (lines 3 and 4)"),
        ),
        (
            "twice.json",
            '{"question": "staging", "question": "diagnosis"}',
            ("twice.json", "key 'question' is given twice in the same JSON object"),
        ),
    ],
)
def test_duplicate_field_is_refused(
    tmp_path: Path, name: str, text: str, words: tuple[str, ...]
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert not [w for w in words if w not in str(caught.value)], str(caught.value)


def test_yaml_merge_key_may_still_be_overridden() -> None:
    text = "question: staging\nweight_kg: 70\n"
    assert parse_scenario_text(text, source="x").weight_kg == 70.0
    loaded = parse_yaml("base: &b {a: 1}\nx:\n  <<: *b\n  a: 2\n", source="x", error=ScenarioError)
    assert loaded["x"] == {"a": 2}
