"""``analyze --organs``: organ masks from outside replace the automatic anatomy (issue 10)."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nenscope.core import ImageVolume, Unit
from nenscope.dicom.nifti import read_nifti, write_nifti
from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study
from nenscope.dicom.totalsegmentator import OrganModel
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


def _install_fake_totalsegmentator(monkeypatch: pytest.MonkeyPatch, calls: list[str]) -> None:
    """A fake ``totalsegmentator`` package writing the phantom's kidneys as TotalSegmentator."""

    def run(**kwargs: Any) -> None:
        calls.append(str(kwargs["input"]))
        ct = read_nifti(Path(kwargs["input"]))
        out = Path(kwargs["output"])
        out.mkdir()
        for name, x in (("kidney_right", -70.0), ("kidney_left", 70.0)):
            mask = _ellipsoid(ct, (x, 55.0, -40.0), (30.0, 30.0, 60.0)).astype(np.uint8)
            write_nifti(
                ImageVolume(array=mask, affine=ct.affine, unit=Unit.LABEL),
                out / f"{name}.nii.gz",
            )

    package = types.ModuleType("totalsegmentator")
    api = types.ModuleType("totalsegmentator.python_api")
    api.totalsegmentator = run  # type: ignore[attr-defined]  # a fake module's attribute
    monkeypatch.setitem(sys.modules, "totalsegmentator", package)
    monkeypatch.setitem(sys.modules, "totalsegmentator.python_api", api)


def test_totalsegmentator_in_process_on_the_ct(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    study = tmp_path / "study"
    write_phantom_study(study, PhantomSettings(size="small", seed=3))
    options = AnalysisOptions(
        figures=False,
        pdf=False,
        dicom_outputs=False,
        organ_model=OrganModel.TOTALSEGMENTATOR_FAST,
    )
    # No package: refused with the install command, the automatic anatomy is used instead.
    monkeypatch.setitem(sys.modules, "totalsegmentator", None)
    monkeypatch.setitem(sys.modules, "totalsegmentator.python_api", None)
    refused = analyze_study(study, tmp_path / "refused", options)
    assert any(
        "Organ masks not used" in e and "nenscope[totalsegmentator]" in e for e in refused.errors
    ), refused.errors
    # With the package (fake) but no weights: refused before it runs (nothing downloaded).
    calls: list[str] = []
    _install_fake_totalsegmentator(monkeypatch, calls)
    monkeypatch.delenv("TOTALSEG_WEIGHTS_PATH", raising=False)
    monkeypatch.setenv("TOTALSEG_HOME_DIR", str(tmp_path / "ts"))
    no_weights = analyze_study(study, tmp_path / "no-weights", options)
    assert any("weights are not on this computer" in e for e in no_weights.errors)
    assert calls == []
    fold = tmp_path / "ts/nnunet/results/Dataset297_TotalSegmentator_total_3mm_1559subj/f/fold_0"
    fold.mkdir(parents=True)
    (fold / "checkpoint_final.pth").write_bytes(b"weights")
    result = analyze_study(study, tmp_path / "out", options)
    assert not result.errors, result.errors
    assert len(calls) == 1
    notes = " | ".join(result.report.notes)
    assert "organ masks from totalsegmentator-fast on the CT" in notes
    assert "organ masks excluded: kidney_left, kidney_right" in notes
    assert "send_usage_stats" in notes  # no TotalSegmentator config here: counts not off
