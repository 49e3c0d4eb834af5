"""The one YAML loader (core/safe_yaml.py) and its use by every YAML the product reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from nenscope.core.errors import InputLimitError, OptionError, ScenarioError, WorkbenchError
from nenscope.core.safe_yaml import (
    MAX_CONFIG_FILE_BYTES,
    MAX_UPLOAD_BYTES,
    MAX_YAML_DEPTH,
    check_input_size,
    parse_json,
    parse_yaml,
    read_config_text,
)
from nenscope.dicom.synthetic import read_lesion_file
from nenscope.knowledge.scenario_io import load_scenario
from nenscope.radiomics.settings import load_settings


def test_duplicate_key_refused_with_both_lines() -> None:
    with pytest.raises(OptionError, match=r"key 'a' is given twice \(lines 1 and 3\)"):
        parse_yaml("a: 1\nb: 2\na: 3\n", source="x", error=OptionError)


def test_python_tags_refused() -> None:
    with pytest.raises(OptionError, match="not valid YAML"):
        parse_yaml("!!python/object/apply:os.system ['true']", source="x", error=OptionError)


@pytest.mark.parametrize("depth", [MAX_YAML_DEPTH + 1, 3000, 5000])
def test_deep_nesting_refused_without_recursion_error(depth: int) -> None:
    for text in ("[" * depth + "]" * depth, "- " * depth + "1"):
        with pytest.raises(InputLimitError, match="nests deeper"):
            parse_yaml(text, source="x", error=OptionError)


def test_nesting_at_the_limit_is_read() -> None:
    depth = MAX_YAML_DEPTH - 1
    value = parse_yaml("[" * depth + "]" * depth, source="x", error=OptionError)
    for _ in range(depth - 1):
        value = value[0]
    assert value == []


def test_many_values_refused() -> None:
    with pytest.raises(InputLimitError, match="more than"):
        parse_yaml("[" + "1," * 30_000 + "1]", source="x", error=OptionError)


def test_large_file_refused_before_reading(tmp_path: Path) -> None:
    # Issue 14: a 50 MB YAML list was parsed for 60 s; the size alone refuses it now.
    path = tmp_path / "big.yaml"
    with path.open("wb") as fh:
        fh.truncate(50 * 1024 * 1024)  # sparse: no 50 MB written to the test disk
    with pytest.raises(InputLimitError, match="52,428,800 bytes"):
        read_config_text(path, what="scenario file", error=ScenarioError)


def test_non_utf8_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("question: d\xe9j\xe0\n".encode("latin-1"))
    with pytest.raises(ScenarioError, match=r"latin1.yaml is not UTF-8 text \(byte 11"):
        read_config_text(path, what="scenario file", error=ScenarioError)


def test_json_duplicates_refused() -> None:
    with pytest.raises(OptionError, match="given twice"):
        parse_json('{"a": 1, "a": 2}', source="x", error=OptionError)


def test_upload_limit_for_the_service() -> None:
    check_input_size(MAX_UPLOAD_BYTES, limit=MAX_UPLOAD_BYTES, what="upload")
    with pytest.raises(InputLimitError, match="upload"):
        check_input_size(MAX_UPLOAD_BYTES + 1, limit=MAX_UPLOAD_BYTES, what="upload")


@pytest.mark.parametrize(
    ("name", "text", "read"),
    [
        ("s.yaml", "question: staging\nquestion: diagnosis\n", load_scenario),
        (
            "r.yaml",
            "discretise:\n  bin_size: 25\n  bin_size: 0.1\n",
            lambda p: load_settings(str(p)),
        ),
        ("l.yaml", "- {kind: sphere, kind: cube}\n", read_lesion_file),
    ],
    ids=["scenario", "radiomics-config", "phantom-lesions"],
)
def test_every_yaml_reader_refuses_duplicates(
    tmp_path: Path, name: str, text: str, read: object
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(WorkbenchError, match="given twice"):
        read(path)  # type: ignore[operator]


@pytest.mark.parametrize(
    "read", [load_scenario, lambda p: load_settings(str(p)), read_lesion_file]
)
def test_every_yaml_reader_refuses_large_and_binary_files(tmp_path: Path, read: object) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("- 1\n" * (MAX_CONFIG_FILE_BYTES // 4 + 1), encoding="utf-8")
    with pytest.raises(InputLimitError):
        read(big)  # type: ignore[operator]
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00a: 1")
    with pytest.raises(WorkbenchError, match="not UTF-8"):
        read(binary)  # type: ignore[operator]
