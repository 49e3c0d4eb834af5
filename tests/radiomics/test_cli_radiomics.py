"""CLI: ``nenscope radiomics`` (DESIGN.md contract) and ``nenscope radiomics-batch``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from nenscope import __version__
from nenscope.cli.app import app
from nenscope.core import ImageVolume, Unit, affine_from_spacing
from nenscope.dicom.nifti import write_nifti

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ibsi"
PHANTOM = DATA / "ibsi_1_digital_phantom" / "nifti"


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"IBSI test data missing: {path}")
    return path


def _write(path: Path, array: npt.NDArray[np.generic], unit: Unit = Unit.HU) -> Path:
    write_nifti(
        ImageVolume(array=array, affine=affine_from_spacing((2.0, 2.0, 2.0)), unit=unit), path
    )
    return path


def test_radiomics_json_contract_on_the_digital_phantom() -> None:
    result = CliRunner().invoke(
        app,
        [
            "radiomics",
            str(_require(PHANTOM / "image" / "phantom.nii.gz")),
            str(_require(PHANTOM / "mask" / "mask.nii.gz")),
            "--config",
            "ibsi-phantom",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["version"] == __version__
    assert payload["settings"]["name"] == "ibsi-phantom"
    # IBSI 1 digital phantom reference values (RNU0 556 ± 4; Q4LE 2.15 exact to 3 s.f.).
    assert abs(payload["features"]["RNU0"] - 556) <= 4
    assert round(payload["features"]["Q4LE"], 2) == 2.15
    assert "8ZQL_3D_avg" in payload["features"]
    assert "BC2M_V10" in payload["features"]


def test_radiomics_dicom_rtstruct_matches_the_nifti_mask() -> None:
    ct = DATA / "ibsi_1_ct_radiomics_phantom"
    args = ["--config", "ibsi-c", "--format", "json"]
    dicom = CliRunner().invoke(
        app,
        ["radiomics", str(_require(ct / "dicom" / "image")), str(ct / "dicom" / "mask"), *args],
    )
    nifti = CliRunner().invoke(
        app,
        [
            "radiomics",
            str(_require(ct / "nifti" / "image" / "phantom.nii.gz")),
            str(ct / "nifti" / "mask" / "mask.nii.gz"),
            *args,
        ],
    )
    assert dicom.exit_code == 0, dicom.output
    assert nifti.exit_code == 0, nifti.output
    a = json.loads(dicom.stdout)["features"]
    b = json.loads(nifti.stdout)["features"]
    # Same voxels and grid; IBSI config C mesh volume RNU0 = 367000 ± 6000 mm3.
    assert abs(a["RNU0"] - 367000) <= 6000
    np.testing.assert_allclose(a["RNU0"], b["RNU0"], rtol=1e-9)


def test_radiomics_bad_config_exits_2(tmp_path: Path) -> None:
    image = _write(tmp_path / "i.nii.gz", np.ones((4, 4, 4)))
    mask = _write(tmp_path / "m.nii.gz", np.ones((4, 4, 4), dtype=np.uint8), Unit.UNITLESS)
    result = CliRunner().invoke(app, ["radiomics", str(image), str(mask), "--config", "ibsi-x"])
    assert result.exit_code == 2
    assert "ibsi-" in result.stderr


def test_radiomics_several_labels_need_a_choice(tmp_path: Path) -> None:
    array = np.arange(64.0).reshape(4, 4, 4)
    labels = np.zeros((4, 4, 4), dtype=np.uint8)
    labels[:2] = 1
    labels[2:] = 2
    image = _write(tmp_path / "i.nii.gz", array, Unit.SUV_BW)
    mask = _write(tmp_path / "m.nii.gz", labels)
    refused = CliRunner().invoke(app, ["radiomics", str(image), str(mask), "--config", "pet-suv"])
    assert refused.exit_code == 2
    assert "--label" in refused.stderr
    chosen = CliRunner().invoke(
        app,
        [
            "radiomics",
            str(image),
            str(mask),
            "--label",
            "label_2",
            "--format",
            "json",
            "--config",
            "pet-suv",
        ],
    )
    assert chosen.exit_code == 0, chosen.output
    assert json.loads(chosen.stdout)["roi"] == "label_2"


def _batch_inputs(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    image = rng.uniform(0.5, 8.0, size=(12, 14, 14))
    labels = np.zeros(image.shape, dtype=np.uint8)
    labels[2:6, 2:7, 2:7] = 1
    labels[6:10, 7:12, 7:12] = 2
    _write(tmp_path / "a_img.nii.gz", image, Unit.SUV_BW)
    _write(tmp_path / "a_lab.nii.gz", labels)
    table = tmp_path / "cases.csv"
    table.write_text(
        "id,image,mask\nA,a_img.nii.gz,a_lab.nii.gz\nB,missing.nii.gz,a_lab.nii.gz\n",
        encoding="utf-8",
    )
    return table


def test_batch_one_row_per_lesion_errors_recorded_and_resumable(tmp_path: Path) -> None:
    table = _batch_inputs(tmp_path)
    out = tmp_path / "features.parquet"
    first = CliRunner().invoke(
        app,
        [
            "radiomics-batch",
            str(table),
            "--out",
            str(out),
            "--config",
            "pet-suv",
            "--format",
            "json",
        ],
    )
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert summary["rows"] == 3  # two lesions of A, one error row for B
    assert summary["errors"] == 1
    frame = pq.read_table(out)
    rows = frame.to_pylist()
    assert [(r["case_id"], r["lesion"], r["status"]) for r in rows] == [
        ("A", "label_1", "ok"),
        ("A", "label_2", "ok"),
        ("B", "", "error"),
    ]
    # No file path in the research export: the missing image is named by its role.
    assert "<image>" in rows[2]["error"]
    assert "image" not in rows[0]
    assert "mask" not in rows[0]
    assert rows[0]["RNU0"] > 0
    meta = frame.schema.metadata
    assert meta[b"nenscope_version"].decode() == __version__
    assert json.loads(meta[b"radiomics_settings"])["name"] == "pet-suv"
    assert (tmp_path / "features.parquet.settings.json").is_file()
    # Resume: A is skipped (already ok), B is retried and fails again.
    second = CliRunner().invoke(
        app,
        [
            "radiomics-batch",
            str(table),
            "--out",
            str(out),
            "--config",
            "pet-suv",
            "--format",
            "json",
        ],
    )
    assert second.exit_code == 0, second.output
    again = json.loads(second.stdout)
    assert again["resumed_cases"] == 1
    assert again["new_rows"] == 1
    assert again["rows"] == 3


def test_batch_table_needs_image_and_mask_columns(tmp_path: Path) -> None:
    table = tmp_path / "bad.csv"
    table.write_text("img,mask\nx,y\n", encoding="utf-8")
    result = CliRunner().invoke(
        app,
        ["radiomics-batch", str(table), "--out", str(tmp_path / "o.parquet"), "--config", "ct-hu"],
    )
    assert result.exit_code == 2
    assert "image" in result.stderr


def test_radiomics_text_table_and_unknown_label(tmp_path: Path) -> None:
    image = str(_require(PHANTOM / "image" / "phantom.nii.gz"))
    mask = str(_require(PHANTOM / "mask" / "mask.nii.gz"))
    text = CliRunner().invoke(app, ["radiomics", image, mask, "--config", "ibsi-phantom"])
    assert text.exit_code == 0, text.output
    assert "Q4LE" in text.stdout
    assert "stat_mean" in text.stdout
    bad = CliRunner().invoke(
        app, ["radiomics", image, mask, "--config", "ibsi-phantom", "--label", "GTV"]
    )
    assert bad.exit_code == 2
    assert "no mask named 'GTV'" in bad.stderr


def test_batch_text_restart_and_table_errors(tmp_path: Path) -> None:
    table = _batch_inputs(tmp_path)
    out = tmp_path / "f.parquet"
    args = ["radiomics-batch", str(table), "--out", str(out), "--config", "pet-suv"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "3 row(s) written" in first.stdout
    assert "error B" in first.stdout  # the case id names the row; no path is kept
    again = CliRunner().invoke(app, [*args, "--restart", "--format", "json"])
    assert json.loads(again.stdout)["resumed_cases"] == 0
    dup = tmp_path / "dup.csv"
    dup.write_text("id,image,mask\nA,x,y\nA,x,y\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["radiomics-batch", str(dup), "--out", str(out), "--config", "pet-suv"]
    )
    assert result.exit_code == 2
    assert "duplicate id" in result.stderr
    missing = CliRunner().invoke(
        app,
        ["radiomics-batch", str(tmp_path / "no.csv"), "--out", str(out), "--config", "pet-suv"],
    )
    assert missing.exit_code == 2


def test_batch_on_real_pet_with_the_pet_preset(tmp_path: Path) -> None:
    # IBSI validation PET (soft-tissue sarcoma, SUV): the pet-suv chain (3 mm resampling,
    # range [0, inf), FBS 0.25) runs end to end and gives self-consistent values.
    base = DATA / "ibsi_validation_pet" / "nifti"
    table = tmp_path / "sts.csv"
    lines = ["id,image,mask"]
    for case in ("STS_001", "STS_002", "STS_003"):
        folder = _require(base / case)
        lines.append(f"{case},{folder / 'PET_image.nii.gz'},{folder / 'PET_mask.nii.gz'}")
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "sts.parquet"
    result = CliRunner().invoke(
        app, ["radiomics-batch", str(table), "--out", str(out), "--config", "pet-suv"]
    )
    assert result.exit_code == 0, result.output
    rows = pq.read_table(out).to_pylist()
    assert [r["status"] for r in rows] == ["ok", "ok", "ok"]
    for r in rows:
        # Mesh and voxel-count volumes of a smooth 3 mm ROI agree within 2 %.
        assert abs(r["RNU0"] / r["YEKZ"] - 1) < 0.02
        assert r["YEKZ"] == pytest.approx(r["n_voxels"] * 27.0)
        # Peaks lie between the mean and the maximum SUV.
        assert r["Q4LE"] <= r["0F91"] <= r["84IY"]
        assert r["VJGA"] <= r["0F91"]


def test_settings_for_another_unit_are_refused(tmp_path: Path) -> None:
    # pet-suv declares unit g/mL: a CT in HU is refused with the reason, not computed with a
    # 0.25 "SUV" bin width on HU values.
    array = np.arange(64.0).reshape(4, 4, 4)
    image = _write(tmp_path / "ct.nii.gz", array, Unit.HU)
    mask = _write(tmp_path / "m.nii.gz", np.ones((4, 4, 4), dtype=np.uint8))
    result = CliRunner().invoke(app, ["radiomics", str(image), str(mask), "--config", "pet-suv"])
    assert result.exit_code == 2
    assert "g/mL" in result.stderr
    assert "HU" in result.stderr
    assert "ct.nii.gz" in result.stderr


def test_pet_series_in_bqml_is_converted_to_suv_for_suv_settings(tmp_path: Path) -> None:
    from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study

    truth = write_phantom_study(tmp_path / "study", PhantomSettings(size="small"))
    lesion = truth.lesions[0]
    result = CliRunner().invoke(
        app,
        [
            "radiomics",
            str(tmp_path / "study" / "PET"),
            str(tmp_path / "study" / "labels_pet.nii.gz"),
            "--label",
            f"label_{lesion.label}",
            "--config",
            "pet-suv",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["unit"] == "g/mL"
    assert any("SUVbw" in note for note in payload["notes"])
    # Noise-free phantom: the maximum SUV is the lesion's; 3 mm trilinear resampling of the
    # 4 mm grid can only lower it.
    assert 0.5 * lesion.suvmax <= payload["features"]["84IY"] <= lesion.suvmax * (1 + 1e-6)
