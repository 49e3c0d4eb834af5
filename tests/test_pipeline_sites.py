"""Lesion sites in lesions.json, report.json and the SR finding site (issue 10 part 3)."""

from __future__ import annotations

import json
from pathlib import Path

import highdicom as hd

from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study
from nenscope.pipeline import AnalysisOptions, analyze_study


def test_sites_reach_lesions_json_report_json_and_the_sr(tmp_path: Path) -> None:
    study = tmp_path / "study"
    truth = write_phantom_study(study, PhantomSettings(size="small", seed=1))
    out = tmp_path / "out"
    result = analyze_study(study, out, AnalysisOptions(figures=False, pdf=False))
    assert not result.errors, result.errors
    lesions = json.loads((out / "lesions.json").read_text())
    by_site = {}
    for lesion in lesions:
        by_site.setdefault(lesion["site"], []).append(lesion)
        assert lesion["candidate_reason"].startswith("uptake above the detection threshold")
    # The generator's liver lesions lie in the right lobe (x < 0, LPS) and its bone lesion
    # in the vertebra.
    liver_truth = [les for les in truth.lesions if les.site == "liver"]
    assert len(by_site["liver, right lobe"]) == len(liver_truth)
    assert len(by_site["bone"]) == 1
    report = json.loads((out / "report.json").read_text())
    assert report["physiological"], "physiological uptake is listed with its organ"
    assert all("organ" in p and "reason" in p for p in report["physiological"])
    assert dict(map(tuple, report["anatomy"]))["thorax (lungs)"] == "CT"
    assert report["implausible"] == []
    sr = hd.sr.srread(out / "sr.dcm")
    sites = {
        str(g.tracking_identifier): [fs.value.meaning for fs in g.finding_sites]
        for g in sr.content.get_volumetric_roi_measurement_groups()
    }
    for lesion in lesions:
        expected = {"liver, right lobe": ["Liver structure"], "bone": ["Bone structure"]}
        if lesion["site"] in expected:
            assert sites[f"Lesion {lesion['id']}"] == expected[lesion["site"]]
