"""The demo: phantom written, analysed, and compared with its truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nenscope.dicom.synthetic import PhantomSettings
from nenscope.pipeline import AnalysisOptions
from nenscope.pipeline.demo import run_demo


def test_demo_finds_every_painted_lesion(tmp_path: Path) -> None:
    settings = PhantomSettings(size="small", seed=8, noise=0.05)
    demo = run_demo(
        tmp_path, settings, AnalysisOptions(figures=False, pdf=False, dicom_outputs=False)
    )
    assert demo.extra == ()
    assert [les.lesion_id for les in demo.lesions] == [t.lesion_id for t in demo.truth.lesions]
    assert all(les.found_id is not None for les in demo.lesions)
    found = sorted(les.found_id for les in demo.lesions if les.found_id is not None)
    assert found == list(range(1, len(demo.lesions) + 1))
    for les in demo.lesions:
        if les.true_volume_ml >= 5.0:
            # No blur: the 50 % contour keeps the painted voxels (truth: voxel count volume).
            np.testing.assert_allclose(les.volume_ml or 0.0, les.true_volume_ml, rtol=0.10)
    assert (tmp_path / "analysis" / "lesions.json").is_file()
    assert (tmp_path / "study" / "truth.json").is_file()
