"""SSTR-RADS and NETPET in analyze_study, on a generated SSTR + FDG phantom pair."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypedDict

import pytest

from nenscope.dicom.synthetic import PhantomSettings, PhantomTruth, write_phantom_study
from nenscope.pipeline import AnalysisOptions, AnalysisResult, analyze_study
from nenscope.pipeline.scores import SstrRadsInputs
from nenscope.scoring.netpet import NetpetLesion, netpet_grade

Pair = tuple[Path, PhantomTruth, Path, PhantomTruth]


class _Fast(TypedDict):
    figures: bool
    pdf: bool
    dicom_outputs: bool


FAST: _Fast = {"figures": False, "pdf": False, "dicom_outputs": False}


@pytest.fixture(scope="module")
def pair(
    tmp_path_factory: pytest.TempPathFactory,
) -> Pair:
    root = tmp_path_factory.mktemp("netpet")
    sstr = write_phantom_study(root / "sstr", PhantomSettings(size="small", seed=41))
    fdg = write_phantom_study(root / "fdg", PhantomSettings(size="small", seed=42, tracer="fdg"))
    return root / "sstr", sstr, root / "fdg", fdg


@pytest.fixture(scope="module")
def with_fdg(pair: Pair, tmp_path_factory: pytest.TempPathFactory) -> AnalysisResult:
    out = tmp_path_factory.mktemp("netpet-out")
    options = AnalysisOptions(
        fdg_study=pair[2],
        sstr_rads=SstrRadsInputs(anatomy={1: "suspicious"}),
        figures=False,
        pdf=False,
        dicom_outputs=True,
    )
    return analyze_study(pair[0], out, options)


def _score(result: AnalysisResult, name: str) -> str:
    return next(s.value for s in result.report.scores if s.name == name)


def test_netpet_grade_from_truth(pair: Pair, with_fdg: AnalysisResult) -> None:
    _, sstr, _, fdg = pair
    assert with_fdg.errors == ()
    # Expected: the painted uptakes of the same lesions on both phantoms (no blur, no noise),
    # lesion SUVmax / liver SUVmean on each scan, FDG-positive above the FDG liver
    # (pipeline_scores docstring); every phantom lesion is detected on the SSTR scan.
    liver_s, liver_f = sstr.organ("liver").suv_mean, fdg.organ("liver").suv_mean
    expected = netpet_grade(
        [
            NetpetLesion(
                sstr_positive=True,
                fdg_positive=fdg.lesion(les.lesion_id).suvmax > liver_f,
                sstr_intensity=les.suvmax / liver_s,
                fdg_intensity=fdg.lesion(les.lesion_id).suvmax / liver_f,
            )
            for les in sstr.lesions
        ]
    )
    assert len(with_fdg.report.lesions) == len(sstr.lesions)
    assert _score(with_fdg, "NETPET") == expected.grade.value
    assert any(n.startswith("NETPET: SSTR lesion 1 = FDG lesion") for n in with_fdg.report.notes)
    assert (with_fdg.files["report_html"].parent / "fdg" / "lesions.json").is_file()


def test_sstr_rads_uses_clinical_inputs(with_fdg: AnalysisResult) -> None:
    # Lesion 1 (hottest, intense uptake) with a suspicious CT finding: category 5; the others
    # intense at a typical site without anatomic input: 4. Scan = highest = 5.
    assert _score(with_fdg, "SSTR-RADS 1.0") == "SSTR-RADS-5"
    lesions = with_fdg.report.lesions
    assert lesions[0].sstr_rads == "5"
    assert lesions[1].sstr_rads == "4"
    data = json.loads(with_fdg.files["lesions_json"].read_text())
    assert data[0]["sstr_rads"] == "5"
    # At most 5 targets.
    assert sum(1 for les in lesions if les.sstr_rads is not None) == min(5, len(lesions))


def test_sstr_rads_defaults_are_stated(pair: Pair, tmp_path: Path) -> None:
    result = analyze_study(pair[0], tmp_path, AnalysisOptions(**FAST))
    entry = next(s for s in result.report.scores if s.name == "SSTR-RADS 1.0")
    assert entry.value == "SSTR-RADS-4"
    assert "Clinical inputs not given" in entry.details


def test_sstr_rads_unknown_lesion_is_refused(pair: Pair, tmp_path: Path) -> None:
    options = AnalysisOptions(sstr_rads=SstrRadsInputs(sites={99: "atypical"}), **FAST)
    result = analyze_study(pair[0], tmp_path, options)
    assert any("SSTR-RADS inputs name lesion(s) [99]" in e for e in result.errors)
    assert (tmp_path / "report.html").is_file()


def test_netpet_needs_an_sstr_study(pair: Pair, tmp_path: Path) -> None:
    options = AnalysisOptions(fdg_study=pair[0], **FAST)
    result = analyze_study(pair[2], tmp_path, options)
    assert any("NETPET needs an SSTR study" in e for e in result.errors)
