"""IBSI 2 filters through the settings, ``extract_features`` and the CLI (``ibsi2-*`` presets).

Reference: the IBSI 2 phase-2 consensus values and tolerances (``reference_values.csv``, read
by ``test_filters_phase2``); each configuration runs through its ``ibsi2-<id>`` preset exactly
as a user would, from the CT phantom's NIfTI image and mask.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from nenscope.cli.app import app
from nenscope.core import ImageVolume, Unit, affine_from_spacing
from nenscope.core.errors import OptionError
from nenscope.radiomics.extract import extract_features
from nenscope.radiomics.filters import BoundaryMode, Pooling, WaveletFamily
from nenscope.radiomics.response_map import compute_response_map, prepare_filtered_roi
from nenscope.radiomics.settings import (
    FilterDimension,
    FilterSettings,
    FilterType,
    RadiomicsSettings,
    list_presets,
    load_settings,
    settings_from_mapping,
)
from nenscope.radiomics.statistics import STATISTICS_IDS
from tests.radiomics.test_filters_phase2 import (
    CONFIGS,
    CT,
    IN_CI,
    REFERENCE_ROWS,
    STATISTIC,
    _read,
)


def _preset(config: str) -> str:
    """``"4.B"`` → ``"ibsi2-4b"``."""
    return "ibsi2-" + config.replace(".", "").lower()


def _ibsi_id(tag: str) -> str:
    name = STATISTIC.get(tag, tag.removeprefix("stat_"))
    return STATISTICS_IDS["root_mean_square" if name == "rms" else name]


@functools.cache
def _phantom() -> tuple[ImageVolume, npt.NDArray[np.bool_]]:
    """The CT phantom as a user's NIfTI gives it: (z, y, x) HU and the ROI mask."""
    image_nii = _read(CT / "image" / "phantom.nii.gz")
    mask_nii = _read(CT / "mask" / "mask.nii.gz")
    array = np.asarray(image_nii.dataobj, dtype=np.float64).transpose(2, 1, 0)
    zooms = [float(z) for z in image_nii.header.get_zooms()]
    volume = ImageVolume(
        array=array, affine=affine_from_spacing((zooms[2], zooms[1], zooms[0])), unit=Unit.HU
    )
    mask = np.asarray(mask_nii.dataobj).transpose(2, 1, 0) > 0
    return volume, mask


def test_every_phase2_configuration_has_a_preset() -> None:
    assert {_preset(c) for c in CONFIGS} <= set(list_presets())


@pytest.mark.parametrize("config", CONFIGS)
def test_ibsi2_preset_round_trips(config: str) -> None:
    settings = load_settings(_preset(config))
    assert settings.filter is not None
    assert settings.filter.dimension is (
        FilterDimension.D2 if config.endswith("A") else FilterDimension.D3
    )
    assert settings_from_mapping(settings.to_mapping(), name=settings.name) == settings


@pytest.mark.slow
@pytest.mark.parametrize("config", IN_CI)
def test_extract_features_with_preset_matches_ibsi2_phase2(config: str) -> None:
    image, mask = _phantom()
    result = extract_features(image, mask, load_settings(_preset(config)))
    # Only the 18 intensity statistics, under their IBSI ids; the rest skipped with a reason.
    assert set(result.features) == set(STATISTICS_IDS.values())
    assert "glcm" in result.not_computable
    assert "filter response map" in result.not_computable["morphology"]
    assert result.to_contract()["settings"]["filter"]["type"] in {t.value for t in FilterType}
    failed = []
    for tag, reference, tolerance in REFERENCE_ROWS[config]:
        value = result.features[_ibsi_id(tag)]
        if not abs(value - reference) <= tolerance:
            failed.append(f"{tag}: {value:.6g} vs {reference} +- {tolerance}")
    assert failed == [], f"{config}: {failed}"


def test_cli_radiomics_with_an_ibsi2_preset() -> None:
    result = CliRunner().invoke(
        app,
        [
            "radiomics",
            str(CT / "image" / "phantom.nii.gz"),
            str(CT / "mask" / "mask.nii.gz"),
            "--config",
            "ibsi2-3a",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["settings"]["filter"] == {
        "type": "log",
        "dimension": "2d",
        "boundary": "mirror",
        "sigma_mm": 1.5,
        "cutoff": 4.0,
    }
    assert set(payload["features"]) == set(STATISTICS_IDS.values())
    # IBSI 2 phase 2 reference, 3.A: mean -2.44 ± 0.12, 90th percentile 13.2 ± 1.3,
    # maximum 191 ± 1.
    assert abs(payload["features"]["Q4LE"] - (-2.44)) <= 0.12
    assert abs(payload["features"]["8DWT"] - 13.2) <= 1.3
    assert abs(payload["features"]["84IY"] - 191) <= 1
    assert "ngtdm" in payload["not_computable"]


def test_cli_radiomics_batch_records_the_filter(tmp_path: Path) -> None:
    table = tmp_path / "cases.csv"
    image, mask = CT / "image" / "phantom.nii.gz", CT / "mask" / "mask.nii.gz"
    table.write_text(f"id,image,mask\nct,{image},{mask}\n", encoding="utf-8")
    out = tmp_path / "features.parquet"
    args = ["radiomics-batch", str(table), "--out", str(out), "--config", "ibsi2-2a"]
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    frame = pq.read_table(out)
    (row,) = frame.to_pylist()
    assert row["status"] == "ok"
    # Every IBSI 2 phase-2 reference value of 2.A (mean filter, support 5, 2D; e.g. the mean
    # -49.9 ± 4.4 HU), from the reference table.
    for tag, reference, tolerance in REFERENCE_ROWS["2.A"]:
        assert abs(row[_ibsi_id(tag)] - reference) <= tolerance, tag
    settings = json.loads(frame.schema.metadata[b"radiomics_settings"])
    assert settings["filter"] == {
        "type": "mean",
        "dimension": "2d",
        "boundary": "mirror",
        "support": 5,
    }
    assert "filter response map" in row["note"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"type": "lgo"}, "Did you mean 'log'"),
        ({"type": "log", "sigma": 1.0}, "Did you mean 'sigma_mm'"),
        ({"type": "log"}, "needs filter.sigma_mm"),
        ({"type": "mean", "support": 4}, "odd integer"),
        ({"type": "mean", "support": 3, "boundary": "mirorr"}, "Did you mean 'mirror'"),
        ({"type": "mean", "support": 3, "dimension": "3"}, "Valid: 2d, 3d"),
        ({"type": "laws", "kernel": "L5E5"}, "3 1-D Laws kernels"),
        ({"type": "laws", "kernel": "L5Q5E5"}, "Valid: E3"),
        ({"type": "wavelet", "family": "db4", "sub_band": "LLH"}, "Did you mean 'db3'"),
        ({"type": "wavelet", "family": "db3", "sub_band": "LH"}, "3 letters L/H"),
        ({"type": "simoncelli", "level": 1, "boundary": "mirror"}, "Valid: dimension, level"),
        ({"type": "gabor", "sigma_mm": 5, "lambda_mm": 2, "gamma": 1.5}, "theta_step_deg"),
        ({"type": "riesz", "order": [0, 0, 0]}, "not all 0"),
        ({"type": "laws", "kernel": "L5E5E5", "pooling": "median"}, "Did you mean"),
    ],
)
def test_filter_settings_are_validated_with_suggestions(
    raw: dict[str, object], message: str
) -> None:
    with pytest.raises(OptionError, match=message):
        settings_from_mapping({"filter": raw})


def test_constant_boundary_is_zero_padding() -> None:
    settings = settings_from_mapping(
        {"filter": {"type": "mean", "support": 3, "boundary": "constant"}}
    )
    assert settings.filter == FilterSettings(
        type=FilterType.MEAN, support=3, boundary=BoundaryMode.ZERO
    )


def test_response_map_of_each_type_keeps_shape_and_dtype() -> None:
    rng = np.random.default_rng(0)
    image = rng.normal(size=(6, 8, 8))
    copy = image.copy()
    spacing = (1.0, 1.0, 1.0)
    configs = [
        FilterSettings(type=FilterType.NONE),
        FilterSettings(type=FilterType.MEAN, support=3),
        FilterSettings(type=FilterType.LOG, sigma_mm=1.0),
        FilterSettings(type=FilterType.LAWS, kernel="L3E3S3", pooling=Pooling.MEAN),
        FilterSettings(
            type=FilterType.GABOR,
            sigma_mm=2.0,
            lambda_mm=2.0,
            gamma=1.0,
            theta_step_deg=90.0,
            dimension=FilterDimension.D2,
        ),
        FilterSettings(type=FilterType.WAVELET, family=WaveletFamily.HAAR, sub_band="HLL"),
        FilterSettings(type=FilterType.SIMONCELLI, level=1),
        FilterSettings(type=FilterType.RIESZ, order=(1, 0, 0)),
    ]
    for settings in configs:
        out = compute_response_map(image, spacing_mm=spacing, settings=settings)
        assert out.shape == image.shape
        assert out.dtype == np.float64
    np.testing.assert_array_equal(image, copy)
    with pytest.raises(OptionError, match=r"needs filter\.family, filter\.sub_band"):
        FilterSettings(type=FilterType.WAVELET)


CROPPED = [
    FilterSettings(type=FilterType.MEAN, support=5, boundary=BoundaryMode.PERIODIC),
    FilterSettings(type=FilterType.LOG, sigma_mm=1.5, boundary=BoundaryMode.NEAREST),
    FilterSettings(
        type=FilterType.LAWS,
        kernel="L5E5E5",
        energy_distance=3,
        rotation_invariant=True,
        boundary=BoundaryMode.ZERO,
    ),
    FilterSettings(type=FilterType.WAVELET, family=WaveletFamily.DB3, sub_band="HHH", level=2),
    FilterSettings(
        type=FilterType.WAVELET,
        family=WaveletFamily.COIF1,
        sub_band="LH",
        dimension=FilterDimension.D2,
        rotation_invariant=True,
    ),
]


@pytest.mark.parametrize("settings", CROPPED, ids=lambda f: f"{f.type}-{f.dimension}")
@pytest.mark.parametrize("corner", [False, True], ids=["inside", "at-edge"])
def test_support_crop_gives_the_whole_image_response(
    settings: FilterSettings, corner: bool
) -> None:
    # Finite-support filters act on a crop with their support around the ROI; the response
    # in the ROI must equal that of the whole image (same arithmetic: rtol 1e-12).
    rng = np.random.default_rng(1)
    image = rng.normal(size=(40, 44, 48))
    mask = np.zeros(image.shape, dtype=bool)
    if corner:
        mask[:5, 30:, 2:7] = True
    else:
        mask[18:22, 20:25, 22:26] = True
    spacing = (1.0, 1.0, 1.0)
    whole = compute_response_map(image, spacing_mm=spacing, settings=settings)
    roi = prepare_filtered_roi(
        image, mask, spacing_mm=spacing, settings=RadiomicsSettings(filter=settings)
    )
    assert roi.image.shape[0] < image.shape[0]  # a crop, not the whole image
    np.testing.assert_allclose(roi.image[roi.int_mask], whole[mask], rtol=1e-12, atol=1e-12)
