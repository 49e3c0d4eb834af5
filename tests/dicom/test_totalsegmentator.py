"""``--organs totalsegmentator``: TotalSegmentator in-process, refusals and glue (no download).

TotalSegmentator (and PyTorch) is not installed for the tests: a fake ``totalsegmentator``
package is put into ``sys.modules``; it writes per-organ NIfTI files in TotalSegmentator's
layout (``<output>/<structure>.nii.gz``, 0/1 on the input CT's grid), and the existing reader
(:func:`nenscope.dicom.organ_masks.read_organ_masks`) must take them.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nenscope.core import ImageVolume, OptionError, Unit
from nenscope.dicom.nifti import read_nifti, write_nifti
from nenscope.dicom.totalsegmentator import (
    WEIGHT_FOLDERS,
    OrganModel,
    OrganModelError,
    check_weights,
    segment_organs,
    usage_statistics_note,
    weights_dir,
)
from nenscope.pipeline import AnalysisOptions
from tests.factories import ellipsoid_mask, grid

# Organs the fake writes (LPS centre, semi-axes in mm), on a 2 mm "CT" of 64^3 voxels.
FAKE_ORGANS: Mapping[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "liver": ((-20.0, 0.0, 0.0), (14.0, 14.0, 14.0)),
    "kidney_left": ((25.0, 20.0, -10.0), (8.0, 8.0, 14.0)),
    "urinary_bladder": ((0.0, -10.0, -40.0), (10.0, 10.0, 8.0)),
    "vertebrae_L1": ((0.0, 30.0, 0.0), (6.0, 6.0, 6.0)),  # not used by nenscope
}


def _centred(shape: tuple[int, int, int], spacing: float, unit: Unit) -> ImageVolume:
    volume = grid(shape, (spacing, spacing, spacing), unit=unit)
    affine = volume.affine.copy()
    affine[:3, 3] = -(np.asarray(shape[::-1], dtype=np.float64) - 1.0) / 2.0 * spacing
    return ImageVolume(array=volume.array, affine=affine, unit=unit)


def _ct() -> ImageVolume:
    ct = _centred((64, 64, 64), 2.0, Unit.HU)
    return ImageVolume(array=np.full(ct.shape, 40.0), affine=ct.affine, unit=Unit.HU)


def _pet() -> ImageVolume:
    return _centred((32, 32, 32), 4.0, Unit.SUV_BW)


class FakeTotalSegmentator:
    """Stands in for ``totalsegmentator.python_api.totalsegmentator``; records its calls."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)
        ct = read_nifti(Path(kwargs["input"]))
        out = Path(kwargs["output"])
        out.mkdir(parents=True)
        for name, (centre, axes) in FAKE_ORGANS.items():
            mask = ellipsoid_mask(ct, centre, axes).astype(np.uint8)
            write_nifti(
                ImageVolume(array=mask, affine=ct.affine, unit=Unit.LABEL),
                out / f"{name}.nii.gz",
            )


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeTotalSegmentator:
    runner = FakeTotalSegmentator()
    package = types.ModuleType("totalsegmentator")
    api = types.ModuleType("totalsegmentator.python_api")
    api.totalsegmentator = runner  # type: ignore[attr-defined]  # a fake module's attribute
    package.python_api = api  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "totalsegmentator", package)
    monkeypatch.setitem(sys.modules, "totalsegmentator.python_api", api)
    return runner


def _weights(root: Path, model: OrganModel) -> dict[str, str]:
    results = root / "nnunet" / "results"
    for name in WEIGHT_FOLDERS[model]:
        fold = results / name / "nnUNetTrainer__nnUNetPlans__3d_fullres" / "fold_0"
        fold.mkdir(parents=True)
        (fold / "checkpoint_final.pth").write_bytes(b"weights")
    return {"TOTALSEG_HOME_DIR": str(root)}


def test_package_missing_is_refused_with_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # None in sys.modules makes "import totalsegmentator" raise ImportError (as if absent).
    monkeypatch.setitem(sys.modules, "totalsegmentator", None)
    monkeypatch.setitem(sys.modules, "totalsegmentator.python_api", None)
    with pytest.raises(OrganModelError, match=r"nenscope\[totalsegmentator\]"):
        segment_organs(_ct(), _pet(), model="totalsegmentator-fast")


@pytest.mark.parametrize("model", list(OrganModel), ids=[m.value for m in OrganModel])
def test_weights_missing_are_refused_before_totalsegmentator_runs(
    fake: FakeTotalSegmentator, tmp_path: Path, model: OrganModel
) -> None:
    environ = {"TOTALSEG_HOME_DIR": str(tmp_path / "empty")}
    with pytest.raises(OrganModelError, match="never downloads") as err:
        segment_organs(_ct(), _pet(), model=model, environ=environ)
    message = str(err.value)
    assert str(tmp_path / "empty" / "nnunet" / "results") in message
    assert WEIGHT_FOLDERS[model][0] in message
    assert "totalseg_download_weights" in message
    # TotalSegmentator itself would download missing weights: it must not have been called.
    assert fake.calls == []


def test_a_weight_folder_without_its_checkpoint_counts_as_missing(tmp_path: Path) -> None:
    environ = _weights(tmp_path, OrganModel.TOTALSEGMENTATOR)
    folder = weights_dir(environ)
    check_weights(OrganModel.TOTALSEGMENTATOR, folder)  # complete: no error
    last = WEIGHT_FOLDERS[OrganModel.TOTALSEGMENTATOR][-1]
    next((folder / last).rglob("checkpoint_final.pth")).unlink()
    with pytest.raises(OrganModelError, match=last):
        check_weights(OrganModel.TOTALSEGMENTATOR, folder)


def test_weights_folder_follows_totalsegmentators_rules(tmp_path: Path) -> None:
    assert weights_dir({"TOTALSEG_WEIGHTS_PATH": "/w", "TOTALSEG_HOME_DIR": "/h"}) == Path("/w")
    assert weights_dir({"TOTALSEG_HOME_DIR": "/h"}) == Path("/h/nnunet/results")
    assert weights_dir({}, home=tmp_path) == tmp_path / ".totalsegmentator/nnunet/results"
    assert weights_dir({}, home=Path("/")) == Path("/tmp/.totalsegmentator/nnunet/results")


def test_fake_totalsegmentator_output_is_read_onto_the_pet_grid(
    fake: FakeTotalSegmentator, tmp_path: Path
) -> None:
    environ = _weights(tmp_path, OrganModel.TOTALSEGMENTATOR_FAST)
    pet = _pet()
    masks = segment_organs(_ct(), pet, model="totalsegmentator-fast", environ=environ)
    # TotalSegmentator's names → nenscope's (urinary_bladder → bladder); vertebrae not read.
    assert sorted(masks) == ["bladder", "kidney_left", "liver"]
    for name, structure in (("liver", "liver"), ("kidney_left", "kidney_left")):
        centre, axes = FAKE_ORGANS[structure]
        expected = ellipsoid_mask(pet, centre, axes)
        # Nearest-neighbour resampling of a 2 mm mask onto 4 mm voxels: the masks agree but
        # on the surface (Dice > 0.85 for these 8-14 mm semi-axes).
        dice = 2.0 * (masks[name] & expected).sum() / (masks[name].sum() + expected.sum())
        assert dice > 0.85, (name, dice)
    (call,) = fake.calls
    assert call["fast"] is True
    assert call["ml"] is False
    # The CT went in as NIfTI with its geometry: the fake read it back.
    assert str(call["input"]).endswith(".nii.gz")


def test_a_failing_run_is_named(fake: FakeTotalSegmentator, tmp_path: Path) -> None:
    environ = _weights(tmp_path, OrganModel.TOTALSEGMENTATOR)

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("CUDA out of memory")

    api = sys.modules["totalsegmentator.python_api"]
    api.totalsegmentator = broken  # type: ignore[attr-defined]
    with pytest.raises(OrganModelError, match=r"TotalSegmentator failed on the CT.*CUDA"):
        segment_organs(_ct(), _pet(), model="totalsegmentator", environ=environ)


def test_usage_statistics_note(tmp_path: Path) -> None:
    environ = {"TOTALSEG_HOME_DIR": str(tmp_path)}
    note = usage_statistics_note(environ)
    assert note is not None
    assert "send_usage_stats" in note
    (tmp_path / "config.json").write_text('{"send_usage_stats": false}', encoding="utf-8")
    assert usage_statistics_note(environ) is None


def test_analysis_options_take_the_model_by_name() -> None:
    options = AnalysisOptions(organ_model="totalsegmentator-fast")  # type: ignore[arg-type]  # a user's string
    assert options.organ_model is OrganModel.TOTALSEGMENTATOR_FAST
    with pytest.raises(OptionError, match="totalsegmentator"):
        AnalysisOptions(organ_model="totalsegmentor")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="not both"):
        AnalysisOptions(organs=Path("masks"), organ_model=OrganModel.TOTALSEGMENTATOR)
