"""Issue 10: "On generated SSTR studies with 6 mm blur, a physiological adrenal is still
reported as a lesion" (reproduced, then fixed).

Reproduction (generator, 68Ga-DOTATATE, 6 mm FWHM, 10 % noise, CT noise 10 HU as in the demo):
not with the phantom's adrenal uptake of SUV 10 (seeds 0-4, and Cu-64 seeds 0-2), but with SUV
12 and 15 on every seed tried (0 and 1; default and small grids). The right adrenal touches the
liver, so it lies in the liver zone with the PERCIST liver threshold (about 11.5 here); from SUV
12 it is above it, and (a) its background-corrected contour, whose level was close to the
liver's uptake, grew into the normal liver (24-25 mL reported instead of 4 mL), and (b) the
adrenal rule skipped anything mostly in the liver zone. Fixed: on SSTR, inside the liver zone a
contour grows only into voxels above liver mean + 3 SD (``LIVER_CONTOUR_SD``), and the adrenal
rule takes a component in the liver zone whose centroid lies outside the liver estimate itself.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import nenscope.quantification.phantom_model as phantom_model
from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study
from nenscope.pipeline import AnalysisOptions, analyze_study

ADRENALS_MM = ((-45.0, 55.0, 30.0), (45.0, 55.0, 30.0))
"""Adrenal centres of the phantom model (``_ANATOMY``)."""


@pytest.mark.parametrize("seed", [0, 1])
def test_adrenal_above_the_liver_threshold_at_6mm_is_not_a_lesion(
    seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The phantom has no option for organ uptake: raise the adrenals to SUV 12 (Ga-68 and
    # Cu-64 columns) as the reproduction did.
    ga, fdg, cu = phantom_model._UPTAKE["adrenal"]
    del ga, cu
    monkeypatch.setitem(phantom_model._UPTAKE, "adrenal", (12.0, fdg, 12.0))
    settings = PhantomSettings(size="small", seed=seed, fwhm_mm=6.0, noise=0.1, ct_noise_hu=10.0)
    truth = write_phantom_study(tmp_path / "study", settings)
    result = analyze_study(
        tmp_path / "study",
        tmp_path / "out",
        AnalysisOptions(figures=False, pdf=False, dicom_outputs=False),
    )
    near = [
        (s.centroid_mm, s.volume_ml, s.suvmax)
        for s in result.statistics
        if min(math.dist(s.centroid_mm, a) for a in ADRENALS_MM) < 20.0
    ]
    assert near == []
    adrenal = [p for p in result.report.physiological if p.organ == "adrenal gland"]
    assert len(adrenal) == 2, result.report.physiological
    # Every lesion of the phantom is still found, the liver lesions included.
    for lesion in truth.lesions:
        if lesion.lesion_id == "node-mesenteric":
            continue  # SUV 4 at 6 mm: below half the liver mean on some seeds (docs/analysis.md)
        assert any(math.dist(s.centroid_mm, lesion.centre_mm) < 10.0 for s in result.statistics)
