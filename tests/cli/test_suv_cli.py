"""``nenscope suv`` and ``nenscope convert``: the JSON contract, NIfTI output, clean refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pydicom
import pytest
from typer.testing import CliRunner

from nenscope.cli.app import app
from nenscope.cli.commands.suv import parse_injection_time
from nenscope.core.errors import OptionError
from nenscope.dicom.nifti import read_nifti
from tests.conftest import shared_data_path

DRO = ("dicom", "ibsi-suv-dro")
CONTRACT_KEYS = {
    "series_instance_uid",
    "units",
    "decay_correction",
    "injected_activity_bq",
    "injection_datetime",
    "reference_datetime",
    "half_life_s",
    "weight_kg",
    "suv_bw_factor",
    "suv_lbm_factor",
    "suv_bsa_factor",
    "suvmax_bw",
    "warnings",
    "provenance",
}


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_suv_json_contract_on_dro() -> None:
    code, out, err = _run("suv", str(shared_data_path(*DRO, "DRO_0_0", "PT")), "--format", "json")
    assert code == 0, err
    payload = json.loads(out)
    assert set(payload) >= CONTRACT_KEYS
    # IBSI DRO design: 70 kg, 368.08 MBq 18F, 1 h -> 70000 / (368.08e6 * 2^(-3600/6586.2)).
    np.testing.assert_allclose(
        payload["suv_bw_factor"], 70000 / (368.08e6 * 2 ** (-3600 / 6586.2)), rtol=1e-12
    )
    np.testing.assert_allclose(payload["suvmax_bw"], 4.0, atol=0.005)
    assert payload["injection_datetime"] == "2025-01-01T10:00:00"
    assert payload["reference_datetime"] == "2025-01-01T11:00:00"
    assert payload["units"] == "BQML"
    assert payload["lbm_formula"] == "LBMJANMA"
    assert payload["value_conversion"]["stored_to_bq_per_ml"] == 1.0
    assert "QIBA" in payload["provenance"]["reference_time"]


def test_suv_picks_the_pet_series_in_a_study_folder() -> None:
    # DRO_3_2 holds PT + RTSTRUCT + a NIfTI mask; the PT series is found and used.
    code, out, err = _run("suv", str(shared_data_path(*DRO, "DRO_3_2")), "--format", "json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["provenance"]["reference_time"].startswith("2025-01-01T10:59:59")
    assert any("only PT/NM series" in w for w in payload["warnings"])


def test_suv_text_table() -> None:
    code, out, err = _run("suv", str(shared_data_path(*DRO, "DRO_3_1", "PT")))
    assert code == 0, err
    assert "SUVbw factor" in out
    assert "ADMIN" in out


def test_convert_writes_suvbw_nifti(tmp_path: Path) -> None:
    out_file = tmp_path / "suv.nii.gz"
    folder = shared_data_path(*DRO, "DRO_1_0", "PT")
    code, _out, err = _run("convert", str(folder), "--to", "suvbw", str(out_file))
    assert code == 0, err
    volume = read_nifti(out_file)
    mask = read_nifti(shared_data_path(*DRO, "DRO_1_0", "mask", "DRO_mask.nii.gz"))
    inside = np.asarray(volume.array, dtype=np.float64)[np.asarray(mask.array) > 0]
    np.testing.assert_allclose(
        [inside.min(), np.median(inside), inside.max()], [0.2, 1.0, 4.0], atol=0.005
    )


@pytest.fixture
def weightless_dro(tmp_path: Path) -> Path:
    """DRO_0_0 PT with PatientWeight removed from every file."""
    target = tmp_path / "pt"
    target.mkdir()
    for path in sorted(shared_data_path(*DRO, "DRO_0_0", "PT").glob("*.dcm")):
        ds = pydicom.dcmread(path)
        del ds.PatientWeight
        ds.save_as(target / path.name)
    return target


def test_missing_weight_refused_then_overridden(weightless_dro: Path) -> None:
    code, out, err = _run("suv", str(weightless_dro), "--format", "json")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "PatientWeight (0010,1030)" in err
    assert "--weight-kg" in err
    code, out, err = _run("suv", str(weightless_dro), "--format", "json", "--weight-kg", "70")
    assert code == 0, err
    payload = json.loads(out)
    assert "--weight-kg" in payload["provenance"]["weight"]
    np.testing.assert_allclose(payload["suvmax_bw"], 4.0, atol=0.005)


def test_convert_refuses_bad_extension(tmp_path: Path) -> None:
    code, _, err = _run(
        "convert", str(shared_data_path(*DRO, "DRO_0_0", "PT")), str(tmp_path / "x.mha")
    )
    assert code == 2
    assert ".nii.gz" in err


def test_injection_time_needs_date_and_time() -> None:
    with pytest.raises(OptionError, match="no time of day"):
        parse_injection_time("2025-01-01")
    with pytest.raises(OptionError, match="ISO 8601"):
        parse_injection_time("10:00")
