"""CLI with a DICOM SEG mask on a DICOM PET series: one row per segment, named by its label."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow.parquet as pq
import pydicom
from typer.testing import CliRunner

from nenscope.cli.app import app
from nenscope.dicom.seg_sr import SegmentKind, SegmentSpec, write_seg
from tests.dicom_factories import write_pet_series

N_SLICES, ROWS, COLS = 8, 20, 24


def _pet_series(folder: Path, values: npt.NDArray[np.uint16]) -> list[pydicom.Dataset]:
    return write_pet_series(folder, values, slice_spacing_mm=3.0, patient=("TEST^RAD", "RAD1"))


def test_seg_segments_become_rows(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    values = rng.integers(100, 1000, size=(N_SLICES, ROWS, COLS)).astype(np.uint16)
    labels = np.zeros((N_SLICES, ROWS, COLS), dtype=np.uint8)
    labels[1:4, 3:8, 4:9] = 1
    labels[5:8, 12:16, 14:20] = 2
    headers = _pet_series(tmp_path / "PET", values)
    segments = (
        SegmentSpec(number=1, label="Lesion 1", kind=SegmentKind.LESION),
        SegmentSpec(number=2, label="Lesion 2", kind=SegmentKind.LESION),
    )
    write_seg(tmp_path / "seg.dcm", labels, segments, headers)
    # The test series has no dose or weight (no SUV), so the settings keep its Bq/mL values:
    # pet-suv without its unit.
    config = tmp_path / "bqml.yaml"
    config.write_text(
        "approach: 3d\nresample:\n  spacing_mm: [3.0, 3.0, 3.0]\n"
        "discretise:\n  method: fixed-bin-number\n  bins: 16\n",
        encoding="utf-8",
    )
    single = CliRunner().invoke(
        app,
        [
            "radiomics",
            str(tmp_path / "PET"),
            str(tmp_path / "seg.dcm"),
            "--config",
            str(config),
            "--label",
            "Lesion 2",
            "--format",
            "json",
        ],
    )
    assert single.exit_code == 0, single.output
    payload = json.loads(single.stdout)
    assert payload["roi"] == "Lesion 2"
    # The 3 x 4 x 6 voxels of 4 x 4 x 3 mm (72 x 48 = 3,456 mm3) resampled to the preset's
    # 3 mm grid (trilinear mask, threshold 0.5): 138 voxels of 27 mm3 = 3,726 mm3 (the box
    # edges fall between new voxel centres); the mesh volume is 3,528 mm3.
    assert abs(payload["features"]["YEKZ"] / 3456.0 - 1) < 0.1
    assert abs(payload["features"]["RNU0"] / 3456.0 - 1) < 0.1
    table = tmp_path / "cases.csv"
    table.write_text(
        f"id,image,mask\np1,{tmp_path / 'PET'},{tmp_path / 'seg.dcm'}\n", encoding="utf-8"
    )
    out = tmp_path / "f.parquet"
    batch = CliRunner().invoke(
        app, ["radiomics-batch", str(table), "--out", str(out), "--config", "ibsi-phantom"]
    )
    assert batch.exit_code == 0, batch.output
    rows = pq.read_table(out).to_pylist()
    assert [(r["lesion"], r["status"], r["n_voxels"]) for r in rows] == [
        ("Lesion 1", "ok", 3 * 5 * 5),
        ("Lesion 2", "ok", 3 * 4 * 6),
    ]
    # ibsi-phantom: no processing; the maximum is the largest pixel value in the segment.
    assert rows[0]["84IY"] == float(values[labels == 1].max())
