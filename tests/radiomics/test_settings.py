"""Settings: presets, YAML vocabulary, refusal of unknown keys and values (STYLE 8.4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nenscope.core.errors import OptionError
from nenscope.radiomics.settings import (
    Approach,
    DiscretisationMethod,
    Interpolation,
    list_presets,
    load_settings,
    settings_from_mapping,
)

EXPECTED_PRESETS = {
    "ibsi-phantom",
    "ibsi-a",
    "ibsi-b",
    "ibsi-c",
    "ibsi-d",
    "ibsi-e",
    "pet-suv",
    "ct-hu",
    "mr-adc",
}


def test_every_documented_preset_ships() -> None:
    assert set(list_presets()) >= EXPECTED_PRESETS


@pytest.mark.parametrize("name", sorted(EXPECTED_PRESETS))
def test_preset_loads_and_round_trips(name: str) -> None:
    settings = load_settings(name)
    assert settings.name == name
    assert settings_from_mapping(settings.to_mapping()) == settings


def test_ibsi_configurations_match_the_manual() -> None:
    # IBSI 1 reference data sets, configurations A-E (ibsi-doc 05_Reference_data_sets.rst).
    a, b, c, d, e = (load_settings(f"ibsi-{k}") for k in "abcde")
    assert (a.approach, b.approach, c.approach) == (Approach.D2, Approach.D2, Approach.D3)
    assert a.resample is None
    assert b.resample is not None
    assert b.resample.spacing_mm == (2.0, 2.0, None)
    assert c.resample is not None
    assert c.resample.interpolation is Interpolation.LINEAR
    assert e.resample is not None
    assert e.resample.interpolation is Interpolation.CUBIC
    assert d.resegment is not None
    assert d.resegment.range_min is None
    assert d.resegment.outlier_sigma == 3.0
    assert e.ivh is not None
    assert e.ivh.bins == 1000
    assert c.discretise is not None
    assert c.discretise.bin_size == 25.0
    assert b.discretise is not None
    assert b.discretise.method is DiscretisationMethod.FIXED_BIN_NUMBER


def test_yaml_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        "approach: 2.5d\nresegment:\n  range: [0, null]\ndiscretise:\n"
        "  method: fixed-bin-size\n  bin_size: 0.5\n",
        encoding="utf-8",
    )
    s = load_settings(path)
    assert s.approach is Approach.D25
    assert s.name == "mine"
    assert s.resegment is not None
    assert s.resegment.range_max is None


def test_unknown_key_names_the_closest() -> None:
    with pytest.raises(OptionError, match="Did you mean 'discretise'"):
        settings_from_mapping({"discretize": {"method": "fixed-bin-number", "bins": 8}})


def test_unknown_method_names_the_closest() -> None:
    with pytest.raises(OptionError, match="fixed-bin-size"):
        settings_from_mapping({"discretise": {"method": "fixed-bin-sise", "bin_size": 1}})


def test_unknown_preset_suggests() -> None:
    with pytest.raises(OptionError, match="ibsi-a"):
        load_settings("ibsi-aa")


@pytest.mark.parametrize(
    "raw",
    [
        {"discretise": {"method": "fixed-bin-size"}},
        {"discretise": {"method": "fixed-bin-number", "bins": 0}},
        {"resegment": {"range": [10, 0]}},
        {"resegment": {"outlier_sigma": -1}},
        {"resample": {"spacing_mm": [1, 1]}},
        {"resample": {"spacing_mm": [1, 1, -2]}},
        {"resample": {"spacing_mm": [1, 1, 1], "mask_threshold": 0}},
        {"discretise": {"method": "fixed-bin-number", "bins": 2.5}},
    ],
)
def test_invalid_values_are_refused(raw: dict[str, object]) -> None:
    with pytest.raises(OptionError):
        settings_from_mapping(raw)


def test_invalid_yaml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("approach: [3d\n", encoding="utf-8")
    with pytest.raises(OptionError, match="not valid YAML"):
        load_settings(path)
