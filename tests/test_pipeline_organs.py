"""``analyze --organs``: organ masks from outside replace the automatic anatomy (issue 10)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nenscope.core import ImageVolume, Unit
from nenscope.dicom.nifti import write_nifti
from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study
from nenscope.pipeline import AnalysisOptions, analyze_study, load_study
from tests.factories import lps_coordinates


def _ellipsoid(suv: ImageVolume, centre: tuple[float, ...], semi: tuple[float, ...]) -> np.ndarray:
    x, y, z = (np.broadcast_to(a, suv.shape) for a in lps_coordinates(suv))
    d = sum(((c - m) / s) ** 2 for c, m, s in zip((x, y, z), centre, semi, strict=True))
    return np.asarray(d <= 1.0)


def test_totalsegmentator_masks_exclude_the_kidneys_and_name_sites(tmp_path: Path) -> None:
    study = tmp_path / "study"
    write_phantom_study(study, PhantomSettings(size="small", seed=3))
    suv = load_study(study, AnalysisOptions()).suv
    organs = tmp_path / "totalseg"
    organs.mkdir()
    # The generator's kidneys (phantom_model: centres (+-70, 55, -40) mm, semi-axes 25, 25, 55)
    # written as TotalSegmentator names them, on the PET grid, a little larger.
    for name, x in (("kidney_right", -70.0), ("kidney_left", 70.0)):
        mask = _ellipsoid(suv, (x, 55.0, -40.0), (30.0, 30.0, 60.0)).astype(np.uint8)
        write_nifti(
            ImageVolume(array=mask, affine=suv.affine, unit=Unit.LABEL),
            organs / f"{name}.nii.gz",
        )
    options = AnalysisOptions(figures=False, pdf=False, dicom_outputs=False, organs=organs)
    result = analyze_study(study, tmp_path / "out", options)
    assert not result.errors, result.errors
    notes = " | ".join(result.report.notes)
    assert "organ masks from" in notes
    assert "organ masks excluded: kidney_left, kidney_right" in notes
    kidneys = _ellipsoid(suv, (70.0, 55.0, -40.0), (25.0, 25.0, 55.0)) | _ellipsoid(
        suv, (-70.0, 55.0, -40.0), (25.0, 25.0, 55.0)
    )
    assert result.labels is not None
    assert not (kidneys & (result.labels > 0)).any()
    bad = tmp_path / "empty"
    bad.mkdir()
    broken = analyze_study(
        study,
        tmp_path / "out2",
        AnalysisOptions(figures=False, pdf=False, dicom_outputs=False, organs=bad),
    )
    assert any("Organ masks not used" in e for e in broken.errors)
