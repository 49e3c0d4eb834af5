"""Response (PERCIST, RECIST, Choi) and CT registration on generated baseline/follow-up pairs.

The follow-up phantoms are the baseline's lesions with known changes (uptake halved and
diameters × 0.65; or one new lesion), and one follow-up is moved in scanner space by a known
offset (its ImagePositionPatient rewritten), which only the CT registration can undo.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest

from nenscope.core.geometry import ImageVolume
from nenscope.dicom import read_series
from nenscope.dicom.synthetic import PhantomSettings, PhantomTruth, write_phantom_study
from nenscope.pipeline import AnalysisOptions
from nenscope.pipeline.response import ResponseResult, analyze_response
from nenscope.quantification.phantom_model import LesionSpec, Tracer, default_lesions
from nenscope.registration import register_ct

SHIFT_MM = np.array([15.0, -10.0, 24.0])
"""Patient displacement of the moved follow-up, LPS mm (more than the 20 mm match distance)."""

FAST = AnalysisOptions(figures=False, pdf=False, dicom_outputs=False)


def _move(study: Path, shift_mm: np.ndarray) -> None:
    """Move a study in scanner space: new positions and a new frame of reference."""
    frame = pydicom.uid.generate_uid()
    for path in study.rglob("*.dcm"):
        ds = pydicom.dcmread(path)
        ds.ImagePositionPatient = [
            float(v) + d for v, d in zip(ds.ImagePositionPatient, shift_mm, strict=True)
        ]
        ds.FrameOfReferenceUID = frame
        ds.save_as(path)


@pytest.fixture(scope="module")
def studies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, PhantomTruth]]:
    root = tmp_path_factory.mktemp("response")
    base_lesions = default_lesions(Tracer.GA68_DOTATATE)
    shrunk = tuple(
        dataclasses.replace(les, suv=les.suv * 0.5, diameter_mm=les.diameter_mm * 0.65)
        for les in base_lesions
    )
    new = (
        *base_lesions,
        LesionSpec(
            lesion_id="new-node",
            centre_mm=(-40.0, -50.0, -110.0),
            diameter_mm=18.0,
            suv=25.0,
            site="lymph-node",
        ),
    )
    out = {}
    for name, seed, lesions in (("baseline", 31, None), ("shrunk", 32, shrunk), ("new", 33, new)):
        settings = PhantomSettings(size="small", seed=seed, noise=0.05, lesions=lesions)
        out[name] = (root / name, write_phantom_study(root / name, settings))
    _move(root / "shrunk", SHIFT_MM)
    return out


@pytest.fixture(scope="module")
def shrunk(
    studies: dict[str, tuple[Path, PhantomTruth]], tmp_path_factory: pytest.TempPathFactory
) -> ResponseResult:
    out = tmp_path_factory.mktemp("shrunk-out")
    options = AnalysisOptions(figures=False, pdf=True, dicom_outputs=False)
    return analyze_response(studies["baseline"][0], studies["shrunk"][0], out, options)


def test_registration_undoes_the_patient_shift(shrunk: ResponseResult) -> None:
    assert shrunk.registration is not None
    # The follow-up was moved by +SHIFT_MM, so follow-up -> baseline is -SHIFT_MM; the 6 mm
    # registration grid recovers a pure translation to well below a PET voxel (4 mm).
    np.testing.assert_allclose(shrunk.registration.translation_mm, -SHIFT_MM, atol=1.0)
    assert shrunk.registration.rotation_deg < 0.5


def test_lesions_matched_after_registration(shrunk: ResponseResult) -> None:
    assert shrunk.matches is not None
    # liver-1 (hottest) is lesion 1 on both scans; it must be paired with itself.
    pairs = {(p.baseline, p.followup) for p in shrunk.matches.pairs}
    assert (0, 0) in pairs
    assert all(p.distance_mm < 5.0 for p in shrunk.matches.pairs)
    assert shrunk.matches.new == ()


def test_percist_partial_metabolic_response(shrunk: ResponseResult) -> None:
    percist = next(e for e in shrunk.report.response if e.criterion == "PERCIST 1.0")
    assert percist.category == "PMR"
    # By construction the hottest lesion's uptake is halved (45 -> 22.5 SUV; both lesions are
    # wider than the 1 mL peak sphere at x 0.65): -50 %, the 5 % noise moves the sphere
    # means by < 1 %.
    assert percist.change_percent.value == pytest.approx(-50.0, abs=1.5)
    assert "exploratory" in " ".join(shrunk.report.warnings)  # PERCIST on SSTR PET


def test_recist_and_choi_partial_response(shrunk: ResponseResult) -> None:
    recist = next(e for e in shrunk.report.response if e.criterion == "RECIST 1.1")
    choi = next(e for e in shrunk.report.response if e.criterion == "Choi")
    # Diameters scaled by 0.65 (-35 %) and uptake halved: liver-2 at (-50, -40, 15) mm, shifted
    # to (-35, -50, 39) mm on follow-up, falls from SUV 14 to the liver's 7 and cannot be
    # outlined on PET at its registered position. A target that cannot be measured makes
    # RECIST 1.1 (and Choi) not evaluable (Eisenhauer 2009, §4.3.1); it must never count as
    # gone (0 mm), which gave PR.
    for entry in (recist, choi):
        assert entry.category == "NE", entry.details
        assert entry.followup.value is None
        assert "not evaluable: target 5: not delineable at (-35, -50, 39) mm" in entry.details
        assert "PET-delineated" in entry.details
    assert recist.baseline.value is not None
    assert recist.baseline.value > 0


def test_response_files(shrunk: ResponseResult) -> None:
    data = json.loads(shrunk.files["response_json"].read_text())
    assert [d["criterion"] for d in data] == ["PERCIST 1.0", "RECIST 1.1", "Choi"]
    assert "PMR" in shrunk.files["report_html"].read_text()
    text = subprocess.run(
        ["pdftotext", str(shrunk.files["report_pdf"]), "-"],
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout.decode()
    assert "PERCIST 1.0: PMR" in text
    assert "RECIST 1.1: NE" in text
    assert (shrunk.files["report_html"].parent / "baseline" / "lesions.json").is_file()
    assert (shrunk.files["report_html"].parent / "followup" / "lesions.json").is_file()


def test_new_lesion_is_progression(
    studies: dict[str, tuple[Path, PhantomTruth]], tmp_path: Path
) -> None:
    result = analyze_response(studies["baseline"][0], studies["new"][0], tmp_path, FAST)
    assert result.matches is not None
    assert len(result.matches.new) == 1
    new_index = result.matches.new[0]
    centroid = result.followup.statistics[new_index].centroid_mm
    np.testing.assert_allclose(centroid, (-40.0, -50.0, -110.0), atol=2.0)
    categories = {e.criterion: e.category for e in result.report.response}
    assert categories == {"PERCIST 1.0": "PMD", "RECIST 1.1": "PD", "Choi": "PD"}


def test_register_ct_recovers_a_known_translation(
    studies: dict[str, tuple[Path, PhantomTruth]],
) -> None:
    ct = read_series(studies["baseline"][0] / "CT").volume
    affine = ct.affine.copy()
    affine[:3, 3] += [-8.0, 5.0, 12.0]
    moved = ImageVolume(array=ct.array, affine=affine, unit=ct.unit)
    reg = register_ct(ct, moved)
    # Same voxels placed 8/5/12 mm away: moving -> fixed undoes it.
    np.testing.assert_allclose(reg.translation_mm, (8.0, -5.0, -12.0), atol=0.5)
    np.testing.assert_allclose(reg.map_points([[0.0, 0.0, 0.0]])[0], (8.0, -5.0, -12.0), atol=0.5)


def test_target_below_detection_is_remeasured_at_its_registered_position(
    studies: dict[str, tuple[Path, PhantomTruth]], tmp_path: Path
) -> None:
    # Follow-up identical to the baseline except that node-paraaortic (17 mm, SUV 11), a RECIST
    # target, drops to SUV 2.4, below the 2.5 detection threshold but still above its
    # surroundings. Before the fix it was counted as gone (0 mm). Re-measured at its position,
    # the sum of diameters is unchanged: SD.
    lesions = tuple(
        dataclasses.replace(les, suv=2.4) if les.lesion_id == "node-paraaortic" else les
        for les in default_lesions(Tracer.GA68_DOTATATE)
    )
    follow = tmp_path / "followup"
    write_phantom_study(
        follow, PhantomSettings(size="small", seed=34, noise=0.05, lesions=lesions)
    )
    result = analyze_response(studies["baseline"][0], follow, tmp_path / "out", FAST)
    recist = next(e for e in result.report.response if e.criterion == "RECIST 1.1")
    choi = next(e for e in result.report.response if e.criterion == "Choi")
    assert recist.category == "SD", recist.details
    assert recist.change_percent.value is not None
    assert abs(recist.change_percent.value) < 5.0, recist.details
    assert "re-measured at (-20, 35, -40) mm" in recist.details
    assert choi.category == "SD", choi.details
