"""The tracer table (core/data/tracers.toml) and its matcher."""

from __future__ import annotations

from pathlib import Path

import pytest

from nenscope.core.errors import TracerTableError
from nenscope.core.tracers import (
    AnalysisFamily,
    TracerFamily,
    UptakePattern,
    default_tracer_table,
    load_tracer_table,
    match_tracer,
    parse_tracer_table,
)


def _entry(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "name": "X",
        "radionuclide": "68Ga",
        "family": "fapi",
        "pattern": "other",
        "names": ["xyz"],
    }
    base.update(fields)
    return base


def test_packaged_table_loads_with_unique_ids() -> None:
    table = default_tracer_table()
    assert len(table.ids) == len(set(table.ids))
    assert table["fdg"].family is TracerFamily.FDG
    assert table["fdg"].analysis_family is AnalysisFamily.FDG
    assert table["ga68-exendin4"].pattern is UptakePattern.EXENDIN
    assert table["ga68-exendin4"].analysis_family is AnalysisFamily.OTHER


def test_unknown_id_names_the_closest() -> None:
    with pytest.raises(TracerTableError, match="Did you mean 'fdg'"):
        default_tracer_table()["fdgg"]


def test_longest_word_wins_and_nuclide_settles_a_shared_word() -> None:
    # "dota" (generic SSTR) is inside "DOTA-exendin"; "exendin" is longer and wins.
    found = match_tracer("68Ga-DOTA-exendin-4", radionuclide="68Ga")
    assert found is not None
    assert found.tracer is not None
    assert found.tracer.id == "ga68-exendin4"
    shared = match_tracer("DOTATATE")
    assert shared is not None
    assert {t.id for t in shared.candidates} == {"ga68-dotatate", "cu64-dotatate"}
    assert shared.tracer is None
    assert shared.analysis_family is AnalysisFamily.SSTR
    cu = match_tracer("Cu-64 DOTATATE", radionuclide="64Cu")
    assert cu is not None
    assert cu.tracer is not None
    assert cu.tracer.id == "cu64-dotatate"


def test_whole_words_for_free_text() -> None:
    # "toc" (DOTATOC) is inside "protocol": a SeriesDescription must not read as SSTR.
    assert match_tracer("PET AC protocol") is not None
    assert match_tracer("PET AC protocol", whole_words=True) is None
    found = match_tracer("PET WB Ga68-DOTATOC", whole_words=True)
    assert found is not None
    assert found.pattern is UptakePattern.SSTR


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        (
            _entry(family="sstr-agonst"),
            "unknown family 'sstr-agonst'.*Did you mean 'sstr-agonist'",
        ),
        (_entry(pattern="exendn"), "unknown pattern 'exendn'.*Did you mean 'exendin'"),
        (_entry(names=[]), "'names' is empty"),
        (_entry(names=["XYZ"]), "must be lower case"),
        (_entry(colour="red"), r"unknown field\(s\) \['colour'\]"),
        (_entry(nuclide_names=["xyz"], radionuclide=""), "nuclide_names needs a radionuclide"),
    ],
    ids=["family", "pattern", "no-names", "case", "field", "nuclide-names"],
)
def test_invalid_entry_refused(entry: dict[str, object], match: str) -> None:
    with pytest.raises(TracerTableError, match=match):
        parse_tracer_table({"tracer": {"x": entry}}, source="site.toml")


def test_same_word_same_nuclide_refused() -> None:
    doc = {"tracer": {"a": _entry(), "b": _entry(name="Y")}}
    with pytest.raises(TracerTableError, match=r"'xyz' names both \[tracer.a\] and \[tracer.b\]"):
        parse_tracer_table(doc)


def test_load_from_path_and_bad_toml(tmp_path: Path) -> None:
    bad = tmp_path / "tracers.toml"
    bad.write_text("[tracer.x\n", encoding="utf-8")
    with pytest.raises(TracerTableError, match="is not valid TOML"):
        load_tracer_table(bad)
