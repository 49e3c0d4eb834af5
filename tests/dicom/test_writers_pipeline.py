"""Strict writers through ``analyze`` (issue 15): seg.dcm and sr.dcm of whole analyses.

One analysis per study (module-scoped; real studies take 20–40 s): the ACRIN clinical-trial
FDG PET/CT whose incomplete Clinical Trial Subject module broke the outputs, and PET-only
phantoms in the GE and Philips (CNTS) header styles. Each seg.dcm/sr.dcm must pass dciodvfy
without error and read back with highdicom to the numbers in lesions.json. (The GE study's
outputs are validated the same way in ``tests/test_pipeline_real.py``.)
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from nenscope.dicom.seg_sr import SegmentKind, read_sr
from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study
from nenscope.pipeline import AnalysisOptions, AnalysisResult, analyze_study
from tests.conftest import shared_data_path
from tests.dicom_validation import dciodvfy, errors

OPTIONS = AnalysisOptions(figures=False, pdf=False)


def _pet_only_phantom(root: Path, settings: PhantomSettings) -> Path:
    write_phantom_study(root, settings)
    shutil.rmtree(root / "CT")
    return root


STUDIES = {
    "acrin-fdg": lambda root: shared_data_path("dicom", "tcia-acrin-nsclc-fdg-042"),
    "pet-only-ge": lambda root: _pet_only_phantom(
        root, PhantomSettings(vendor="ge", size="small", tracer="fdg", seed=3)
    ),
    "pet-only-philips-cnts": lambda root: _pet_only_phantom(
        root, PhantomSettings(vendor="philips", size="small", pet_units="CNTS", seed=4)
    ),
}


@pytest.fixture(scope="module", params=list(STUDIES), ids=list(STUDIES))
def analysed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, AnalysisResult, Path]:
    root = tmp_path_factory.mktemp(request.param)
    study = STUDIES[request.param](root / "study")
    out = root / "out"
    return request.param, analyze_study(study, out, OPTIONS), out


@pytest.mark.slow
def test_outputs_pass_dciodvfy(analysed: tuple[str, AnalysisResult, Path]) -> None:
    name, result, out = analysed
    assert not [e for e in result.report.errors if "SEG/SR" in e], result.report.errors
    for file in ("seg.dcm", "sr.dcm"):
        assert errors(dciodvfy(out / file)) == [], (name, file)


@pytest.mark.slow
def test_sr_reads_back_to_lesions_json(analysed: tuple[str, AnalysisResult, Path]) -> None:
    name, _, out = analysed
    lesions = json.loads((out / "lesions.json").read_text(encoding="utf-8"))
    assert lesions, f"{name}: no lesion found, the read-back would test nothing"
    groups = {g.segment_number: g for g in read_sr(out / "sr.dcm") if g.kind is SegmentKind.LESION}
    assert sorted(groups) == sorted(int(lesion["id"]) for lesion in lesions)
    for lesion in lesions:
        group = groups[int(lesion["id"])]
        for key in ("suvmax", "suvpeak", "suvmean", "volume_ml", "tlg"):
            if lesion.get(key) is None:
                continue
            # SR stores DS (16 characters): about 12 significant digits survive.
            np.testing.assert_allclose(getattr(group, key), lesion[key], rtol=1e-9, err_msg=key)
        if lesion.get("krenning") is not None:
            assert group.krenning == lesion["krenning"]


@pytest.mark.slow
def test_report_says_what_the_writers_left_out(
    analysed: tuple[str, AnalysisResult, Path],
) -> None:
    name, _, out = analysed
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    said = [w for w in report["warnings"] if "Clinical Trial Subject" in w]
    if name == "acrin-fdg":
        # ClinicalTrialSponsorName is empty and ClinicalTrialSubjectID absent in the source.
        assert len(said) == 1
        assert "ClinicalTrialSponsorName (0012,0010)" in said[0]
    else:
        assert said == []
