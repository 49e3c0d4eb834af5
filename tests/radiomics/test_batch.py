"""Batch engine: one row per lesion, errors become rows, resume skips finished cases."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from nenscope.core import ImageVolume, Unit, affine_from_spacing
from nenscope.core.errors import DicomImportError
from nenscope.radiomics.batch import (
    BatchCase,
    BatchRow,
    rows_to_columns,
    run_batch,
    split_connected,
)
from nenscope.radiomics.registry import Family
from nenscope.radiomics.settings import RadiomicsSettings, ResegmentSettings

FAMILIES = [Family.STATISTICS]


def _case_data() -> tuple[ImageVolume, dict[str, npt.NDArray[np.bool_]]]:
    array = np.arange(125.0).reshape(5, 5, 5)
    a = np.zeros(array.shape, dtype=bool)
    a[1:3, 1:3, 1:3] = True
    b = np.zeros(array.shape, dtype=bool)
    b[3:5, 3:5, 3:5] = True
    vol = ImageVolume(array=array, affine=affine_from_spacing((1.0, 1.0, 1.0)), unit=Unit.HU)
    return vol, {"label_1": a, "label_2": b}


def _load(case: BatchCase) -> tuple[ImageVolume, dict[str, npt.NDArray[np.bool_]]]:
    if case.image == "broken":
        raise DicomImportError("broken: not a DICOM file")
    return _case_data()


def test_rows_errors_and_resume() -> None:
    cases = [
        BatchCase(case_id="a", image="ok", mask="m"),
        BatchCase(case_id="b", image="broken", mask="m"),
        BatchCase(case_id="c", image="ok", mask="m", label="label_9"),
        BatchCase(case_id="d", image="ok", mask="m", label="label_2"),
    ]
    seen: list[BatchRow] = []
    progressed: list[str] = []
    rows = run_batch(
        cases,
        load=_load,
        settings=RadiomicsSettings(),
        on_row=seen.append,
        on_case=lambda c: progressed.append(c.case_id),
        families=FAMILIES,
    )
    assert seen == rows
    assert progressed == ["a", "b", "c", "d"]
    assert [(r.case_id, r.lesion, r.status) for r in rows] == [
        ("a", "label_1", "ok"),
        ("a", "label_2", "ok"),
        ("b", "", "error"),
        ("c", "label_9", "error"),
        ("d", "label_2", "ok"),
    ]
    assert "DicomImportError" in rows[2].error
    assert "label_1, label_2" in rows[3].error
    # By hand: label_1 holds z, y, x in {1, 2} with values 25z + 5y + x, so its mean is
    # 25 * 1.5 + 5 * 1.5 + 1.5 = 46.5.
    assert rows[0].features["Q4LE"] == 46.5
    assert rows[0].n_voxels == 8
    resumed = run_batch(
        cases,
        load=_load,
        settings=RadiomicsSettings(),
        done=frozenset({"a", "d"}),
        families=FAMILIES,
    )
    assert [r.case_id for r in resumed] == ["b", "c"]


def test_extraction_errors_become_rows() -> None:
    settings = RadiomicsSettings(resegment=ResegmentSettings(range_min=1e6))
    rows = run_batch(
        [BatchCase(case_id="a", image="ok", mask="m")],
        load=_load,
        settings=settings,
        families=FAMILIES,
    )
    assert [r.status for r in rows] == ["error", "error"]
    assert "EmptyRegionError" in rows[0].error


def test_records_and_columns() -> None:
    row = BatchRow(
        case_id="a",
        image="i",
        mask="m",
        lesion="l",
        status="ok",
        features={"Q4LE": 1.0, "N365": math.nan},
    )
    record = row.to_record()
    assert record["N365"] is None
    cols = rows_to_columns([record, {"case_id": "b", "status": "error", "error": "x"}])
    assert cols["case_id"] == ["a", "b"]
    assert cols["Q4LE"] == [1.0, None]


def test_split_components_gives_one_row_per_lesion() -> None:
    vol, masks = _case_data()
    merged = {"mask": masks["label_1"] | masks["label_2"]}
    # The two cubes touch only at a corner (2,2,2)-(3,3,3): 26-connected, so one lesion.
    assert list(split_connected(merged)) == ["mask"]
    apart = masks["label_1"].copy()
    apart[4, 4, 4] = True  # a separate one-voxel lesion
    rows = run_batch(
        [BatchCase(case_id="a", image="ok", mask="m")],
        load=lambda case: (vol, {"mask": apart}),
        settings=RadiomicsSettings(),
        families=FAMILIES,
        split_components=True,
    )
    assert [(r.lesion, r.n_voxels) for r in rows] == [("mask#1", 8), ("mask#2", 1)]
