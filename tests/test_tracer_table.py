"""One tracer table read by every layer (issue 9): names kept, a tracer added by one entry.

``EXPECTED`` was recorded on the code before the table existed (the words lived in
``radionuclides._TRACER_ALIASES``, ``pipeline/study._SSTR_WORDS``/``_FDG_WORDS`` and
``segmentation/patterns._NAMES``); the rows marked CHANGED are where those three lists
disagreed with each other and the table settles it.
"""

from __future__ import annotations

import copy
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from pydicom.dataset import Dataset

from nenscope.core.tracers import (
    AnalysisFamily,
    UptakePattern,
    default_tracer_table,
    load_tracer_table,
    match_tracer,
)
from nenscope.dicom.tracer import detect_tracer
from nenscope.knowledge.kb import DATA_FILES, parse_knowledge_base
from nenscope.pipeline.study import analysis_family
from nenscope.quantification.phantom_model import TRACERS
from nenscope.quantification.radionuclides import RADIONUCLIDES, identify_radionuclide
from nenscope.segmentation.patterns import tracer_family

# name → (radionuclide it implies, pipeline family, uptake pattern), before the refactor.
EXPECTED: dict[str, tuple[str | None, str, str]] = {
    "Ga-68 DOTATATE": ("68Ga", "sstr", "sstr"),
    "68Ga-DOTATATE": ("68Ga", "sstr", "sstr"),
    "Ga68-DOTATOC": ("68Ga", "sstr", "sstr"),
    "68Ga-DOTANOC": ("68Ga", "sstr", "sstr"),
    "Cu-64 DOTATATE": ("64Cu", "sstr", "sstr"),
    "64Cu-DOTATATE": ("64Cu", "sstr", "sstr"),
    "In-111 pentetreotide": ("111In", "sstr", "sstr"),
    "OctreoScan": (None, "sstr", "sstr"),
    "Octreotide": (None, "sstr", "sstr"),
    "68Ga-edotreotide": ("68Ga", "sstr", "sstr"),
    "oxodotreotide": (None, "sstr", "sstr"),
    "68Ga-OPS202": ("68Ga", "sstr", "sstr"),
    "68Ga-NODAGA-JR11": ("68Ga", "sstr", "sstr"),
    "LM3": (None, "sstr", "sstr"),
    "somatostatin analogue": (None, "sstr", "sstr"),
    "SSTR PET": (None, "sstr", "sstr"),
    "FDG -- fluorodeoxyglucose": ("18F", "fdg", "fdg"),
    "FDG": ("18F", "fdg", "fdg"),
    "Fludeoxyglucose F18": ("18F", "fdg", "fdg"),
    "18F-FDG": ("18F", "fdg", "fdg"),
    "2-deoxyglucose": (None, "fdg", "fdg"),
    "18F-DOPA": ("18F", "other", "dopa"),
    "Fluorodopa F18": ("18F", "other", "dopa"),
    "FDOPA": ("18F", "other", "dopa"),
    "F-DOPA": ("18F", "other", "dopa"),
    "68Ga-NODAGA-exendin-4": ("68Ga", "other", "exendin"),
    "111In-DTPA-exendin-4": ("111In", "other", "exendin"),
    "GLP-1R": (None, "other", "exendin"),
    "123I-MIBG": ("123I", "other", "mibg"),
    "Iobenguane I-123": ("123I", "other", "mibg"),
    "131I-MIBG": ("131I", "other", "mibg"),
    "metaiodobenzylguanidine": (None, "other", "mibg"),
    "99mTc-MDP": ("99mTc", "other", "other"),
    "68Ga-FAPI-46": ("68Ga", "other", "other"),
    "68Ga-pentixafor": ("68Ga", "other", "other"),
    "18F-fluciclovine": ("18F", "other", "other"),
    "fluciclovine": ("18F", "other", "other"),
    "Ga68-PSMA": ("68Ga", "other", "other"),
    "^18^Fluorine": ("18F", "other", "other"),
    "unknown": (None, "other", "other"),
    "Choline": (None, "other", "other"),
    # CHANGED: brand names the old word lists lacked (were other/other).
    "NETSPOT": (None, "sstr", "sstr"),
    "Detectnet": (None, "sstr", "sstr"),
    # CHANGED: the pipeline said other, the uptake pattern SSTR (satoreotide = OPS202).
    "satoreotide": (None, "sstr", "sstr"),
    # CHANGED: "dota" made the pipeline score an exendin scan with Krenning (pattern: exendin).
    "68Ga-DOTA-exendin-4": ("68Ga", "other", "exendin"),
    # CHANGED: "dota" made a CCK2R minigastrin scan an SSTR scan (Krenning, SSTR physiology).
    "68Ga-DOTA-MGS5": ("68Ga", "other", "other"),
}


def _header(radiopharmaceutical: str = "", description: str = "") -> Dataset:
    ds = Dataset()
    if radiopharmaceutical:
        item = Dataset()
        item.Radiopharmaceutical = radiopharmaceutical
        ds.RadiopharmaceuticalInformationSequence = [item]
    if description:
        ds.SeriesDescription = description
    return ds


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_tracer_name_recognised_as_before(name: str) -> None:
    nuclide, family, pattern = EXPECTED[name]
    found = identify_radionuclide(name)
    assert (found.label if found else None) == nuclide
    chosen = analysis_family([_header(name)])
    assert chosen.value == family
    assert tracer_family(name, chosen).value == pattern


def test_user_option_decides_the_family() -> None:
    assert analysis_family([_header("FDG")], "sstr") is AnalysisFamily.SSTR
    assert analysis_family([_header("")], "auto") is AnalysisFamily.OTHER


def test_series_description_read_when_the_radiopharmaceutical_names_none() -> None:
    found = detect_tracer([_header("", "PET WB Ga68 DOTATOC")])
    assert found is not None
    assert found.tracer is not None
    assert found.tracer.id == "ga68-dotatoc"
    # A word inside a word of the description does not count ("protocol" is not DOTATOC).
    assert detect_tracer([_header("", "PET AC protocol")]) is None


def test_every_table_nuclide_is_a_known_radionuclide() -> None:
    labels = {n.label for n in RADIONUCLIDES}
    for tracer in default_tracer_table().tracers:
        assert tracer.radionuclide in labels | {""}, tracer.id


def test_phantom_tracers_are_table_entries_and_their_headers_name_them() -> None:
    for tracer, info in TRACERS.items():
        entry = default_tracer_table()[tracer.value]
        assert info.radionuclide == entry.radionuclide
        found = match_tracer(info.radiopharmaceutical, radionuclide=info.radionuclide)
        assert found is not None
        assert found.tracer == entry


def test_every_knowledge_tracer_named_by_the_table() -> None:
    from nenscope.knowledge.kb import load_knowledge_base

    kb = load_knowledge_base()
    table = default_tracer_table()
    for tid, tracer in kb.radiopharmaceuticals.items():
        assert tracer.name == table[tid].name


NEW_ENTRY = """
[tracer.tc99m-depreotide]
name = "99mTc-depreotide (NeoTect)"
radionuclide = "99mTc"
family = "sstr-agonist"
pattern = "sstr"
names = ["depreotide", "neotect"]
"""
"""A tracer that no word of the packaged table names (an SSTR SPECT agent)."""


def _documents() -> dict[str, Any]:
    root = resources.files("nenscope.knowledge") / "data"
    return {n: tomllib.loads((root / f"{n}.toml").read_text("utf-8")) for n in DATA_FILES}


def test_adding_a_tracer_is_one_entry(tmp_path: Path) -> None:
    packaged = resources.files("nenscope.core") / "data" / "tracers.toml"
    site = tmp_path / "tracers.toml"
    site.write_text(packaged.read_text("utf-8") + NEW_ENTRY, encoding="utf-8")
    table = load_tracer_table(site)
    header = _header("Tc-99m depreotide")

    # Before: nothing recognises it.
    assert detect_tracer([header]) is None
    assert analysis_family([header]) is AnalysisFamily.OTHER
    # After: DICOM detection, the pipeline's family and the uptake pattern all see it.
    found = detect_tracer([header], table=table)
    assert found is not None
    assert found.tracer is not None
    assert found.tracer.id == "tc99m-depreotide"
    assert analysis_family([header], table=table) is AnalysisFamily.SSTR
    assert tracer_family("Tc-99m depreotide", table=table) is UptakePattern.SSTR

    # The recommender lists it once its clinical facts are filed under the same id (the name
    # and radionuclide come from the table).
    docs = _documents()
    clinical = copy.deepcopy(docs["radiopharmaceuticals"]["radiopharmaceutical"]["tc99m-mdp"])
    docs["radiopharmaceuticals"]["radiopharmaceutical"]["tc99m-depreotide"] = clinical
    kb = parse_knowledge_base(docs, tracers=table)
    listed = kb.radiopharmaceuticals["tc99m-depreotide"]
    assert listed.name == "99mTc-depreotide (NeoTect)"
    assert listed.nuclide.id == "Tc-99m"
