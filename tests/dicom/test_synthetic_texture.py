"""Lesion texture for synthetic grade cohorts: heterogeneity changes lesions only, keeps means."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nenscope.core.errors import OptionError
from nenscope.dicom.nifti import read_nifti
from nenscope.dicom.series import read_series
from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study
from nenscope.dicom.synthetic_texture import add_lesion_texture, write_grade_cohort


def test_texture_raises_lesion_spread_and_keeps_mean_and_background(tmp_path: Path) -> None:
    truth = write_phantom_study(tmp_path / "s", PhantomSettings(size="small", seed=0))
    before = read_series(tmp_path / "s" / "PET").volume.array.copy()
    add_lesion_texture(tmp_path / "s", truth, heterogeneity=0.4, rng=np.random.default_rng(0))
    after = read_series(tmp_path / "s" / "PET").volume.array
    labels = np.rint(read_nifti(tmp_path / "s" / "labels_pet.nii.gz").array).astype(int)
    lesion_labels = [
        k for k, v in truth.label_names.items() if v in {x.lesion_id for x in truth.lesions}
    ]
    inside = np.isin(labels, lesion_labels)
    # Outside the lesions: unchanged up to the re-quantisation of the 16-bit pixels
    # (one new RescaleSlope step: max/32767 of the slice maximum).
    step = np.abs(before).max() / 32767 * 2
    np.testing.assert_allclose(after[~inside], before[~inside], atol=step)
    for label in lesion_labels:
        sel = labels == label
        if sel.sum() < 20:
            continue
        # Mean kept (factor renormalised to mean 1 per lesion); spread raised from 0 (noise-free
        # phantom). The smooth field varies less inside a small lesion than its global CV 0.4.
        np.testing.assert_allclose(after[sel].mean(), before[sel].mean(), rtol=1e-3)
        assert after[sel].std() > before[sel].std() + 0.05 * before[sel].mean()


def test_heterogeneity_outside_0_1_is_refused(tmp_path: Path) -> None:
    truth = write_phantom_study(tmp_path / "s", PhantomSettings(size="small", seed=0))
    with pytest.raises(OptionError, match="between 0 and 1"):
        add_lesion_texture(tmp_path / "s", truth, heterogeneity=1.5, rng=np.random.default_rng(0))


@pytest.mark.slow
def test_grade_cohort_manifest(tmp_path: Path) -> None:
    manifest = write_grade_cohort(tmp_path, studies_per_grade=1)
    lines = manifest.read_text(encoding="utf-8").splitlines()
    assert lines == ["study,patient_id,grade", "study000,P000,G1", "study001,P001,G2"]
    assert (tmp_path / "study001" / "PET").is_dir()
