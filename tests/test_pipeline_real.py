"""analyze on a real GE FDG PET/CT (TCIA STS_001) with the RTSTRUCT lesion contour as ROI.

The lesion statistics inside ``GTV_Mass`` are checked against an independent computation in this
test: the PET is read slice by slice with pydicom (stored value × RescaleSlope + intercept), the
published QIBA SUVbw factor of the data README (2.42902977e-4 g/Bq) is applied, and the contour
is rasterised here (voxel centre inside the planar polygon, even-odd rule for several contours
on one slice, the convention documented by ``nenscope.dicom.masks``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pydicom
import pytest
from skimage.draw import polygon2mask

from nenscope.pipeline import AnalysisOptions, AnalysisResult, analyze_study
from tests.conftest import shared_data_path

SUV_BW_FACTOR = 2.42902977e-4
"""g/Bq; data README (QIBA rules, reference time SeriesTime 11:20:11), 9 significant digits."""


def _pet_suv(folder: Path) -> tuple[npt.NDArray[np.float64], list[pydicom.Dataset]]:
    slices: list[pydicom.Dataset] = [
        pydicom.dcmread(p) for p in sorted(folder.iterdir()) if p.suffix == ".dcm"
    ]
    slices.sort(key=lambda ds: float(ds.ImagePositionPatient[2]))
    volume = np.stack(
        [
            ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
            for ds in slices
        ]
    )
    return volume * SUV_BW_FACTOR, slices


def _gtv_mask(rtstruct: Path, slices: list[pydicom.Dataset], roi: str) -> npt.NDArray[np.bool_]:
    rt = pydicom.dcmread(rtstruct)
    number = next(r.ROINumber for r in rt.StructureSetROISequence if r.ROIName == roi)
    contours = next(c for c in rt.ROIContourSequence if c.ReferencedROINumber == number)
    first = slices[0]
    x0, y0 = float(first.ImagePositionPatient[0]), float(first.ImagePositionPatient[1])
    row_mm, col_mm = (float(v) for v in first.PixelSpacing)
    z_positions = np.array([float(ds.ImagePositionPatient[2]) for ds in slices])
    mask = np.zeros((len(slices), int(first.Rows), int(first.Columns)), dtype=bool)
    for contour in contours.ContourSequence:
        points = np.asarray(contour.ContourData, dtype=np.float64).reshape(-1, 3)
        k = int(np.argmin(np.abs(z_positions - points[0, 2])))
        # Axial slices (IOP 1,0,0,0,1,0): column = (x - x0) / column spacing, row likewise.
        rc = np.stack([(points[:, 1] - y0) / row_mm, (points[:, 0] - x0) / col_mm], axis=1)
        # scikit-image ships no annotations for polygon2mask.
        mask[k] ^= polygon2mask(mask.shape[1:], rc)  # type: ignore[no-untyped-call]
    return mask


@pytest.fixture(scope="module")
def sts(tmp_path_factory: pytest.TempPathFactory) -> tuple[AnalysisResult, Path, Path]:
    study = shared_data_path("dicom", "tcia-sts-001-ge-petct")
    rtstruct = next((study / "RTSTRUCT_on_PT").glob("*.dcm"))
    out = tmp_path_factory.mktemp("sts") / "out"
    options = AnalysisOptions(
        auto_detect=False,
        lesion_masks=(rtstruct,),
        lesion_rois=("GTV_Mass",),
        figures=False,
        pdf=False,
    )
    return analyze_study(study, out, options), study, out


def test_gtv_statistics_match_independent_computation(
    sts: tuple[AnalysisResult, Path, Path],
) -> None:
    result, study, _ = sts
    assert result.errors == ()
    suv, slices = _pet_suv(study / "PT_raw_BQML")
    mask = _gtv_mask(next((study / "RTSTRUCT_on_PT").glob("*.dcm")), slices, "GTV_Mass")
    values = suv[mask]
    voxel_ml = 4.6875 * 4.6875 * 3.27 / 1000.0  # PixelSpacing x slice spacing (headers), mL
    assert len(result.report.lesions) == 1
    lesion = result.report.lesions[0]
    # Same voxels and stored values; the factors differ only in how the reference-time decay
    # was rounded (the pipeline's own factor agrees with the README's to 3e-8), so rtol 1e-7.
    np.testing.assert_allclose(lesion.value("suvmax") or 0.0, values.max(), rtol=1e-7)
    np.testing.assert_allclose(lesion.value("suvmean") or 0.0, values.mean(), rtol=1e-7)
    np.testing.assert_allclose(
        lesion.value("volume_ml") or 0.0, mask.sum() * voxel_ml, rtol=1e-3
    )  # slice spacing in the headers is 3.27 +- rounding
    np.testing.assert_allclose(
        lesion.value("tlg") or 0.0, values.mean() * mask.sum() * voxel_ml, rtol=1e-3
    )
    # Published by MIRP's tests for this ROI: SUVbw max 7.9-8.0 (data README).
    assert 7.9 <= (lesion.value("suvmax") or 0.0) <= 8.0


def test_gtv_outputs_written_and_valid(sts: tuple[AnalysisResult, Path, Path]) -> None:
    result, _, out = sts
    data = json.loads((out / "lesions.json").read_text())
    assert len(data) == 1
    assert data[0]["detection"].startswith("user mask 'GTV_Mass'")
    assert data[0]["krenning"] is None  # FDG study: Krenning does not apply
    assert "SSTR" in data[0]["not_computable"]["krenning"]
    # The reports a physician reads show no Krenning at all on FDG (scores only where they
    # apply), name the patient and date for people, and say where the CT ends.
    assert not any("Krenning" in s.name for s in result.report.scores)
    html = (out / "report.html").read_text()
    assert "Krenning" not in html
    assert "STS_001" in html
    assert "7 Sep 2000" in html
    assert "CT covers 22 % of the PET" in html
    if shutil.which("dciodvfy") is None:
        pytest.fail("dciodvfy missing: install dicom3tools (.ci/run does).")
    for name in ("seg.dcm", "sr.dcm"):
        run = subprocess.run(
            ["dciodvfy", str(out / name)], capture_output=True, text=True, timeout=300
        )
        errors = [x for x in (run.stdout + run.stderr).splitlines() if x.startswith("Error")]
        assert not errors, f"{name}: {errors}"


def test_two_pet_series_choice_is_reported(sts: tuple[AnalysisResult, Path, Path]) -> None:
    result, _, _ = sts
    assert result.study is not None
    assert result.study.pet_ref.n_instances == 267
    assert any("2 PET series found" in w for w in result.report.warnings)


def test_partial_ct_coverage_is_a_warning(sts: tuple[AnalysisResult, Path, Path]) -> None:
    # Issue 8: "the CT covers only 22 % of the PET" must reach the terminal, so it is a
    # warning of the analysis (not only a line of the report's technique section).
    result, _, _ = sts
    assert any(w.startswith("The CT covers only 22 % of the PET") for w in result.report.warnings)
