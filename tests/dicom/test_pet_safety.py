"""Issue 14 part 1: no silent wrong SUV from a corrupted PET header or pixel data.

Each case is one reproduced report of the issue, on the real files of an IBSI SUV DRO or the
GE Discovery ST series (shared/data): the reader must refuse naming the attribute, or warn
naming it; it must never return a different SUV without a word. Plus a fixed-seed sample of
the mutation fuzz of :mod:`tests.dicom.suv_fuzz` (the full 3,000-case run is measured from the
command line, see that module).
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset

from nenscope.core.errors import (
    DicomImportError,
    ImpossibleValueError,
    MissingAttributeError,
    NotComputableError,
    WorkbenchError,
    WorkbenchWarning,
)
from nenscope.core.patient import ADMINISTERED_ACTIVITY_RANGE_MBQ, BODY_WEIGHT_RANGE_KG
from nenscope.dicom.pet import SuvOverrides, SuvResult, compute_suv
from nenscope.dicom.series import read_series
from tests.conftest import shared_data_path
from tests.dicom import suv_fuzz

Edit = Callable[[Dataset, int], None]


def _copy(tmp_path: Path, folder: str, edit: Edit | None = None) -> Path:
    source = shared_data_path("dicom", *folder.split("/"))
    out = tmp_path / "series"
    out.mkdir()
    for index, path in enumerate(sorted(source.glob("*.dcm"))):
        if edit is None:
            shutil.copy(path, out / path.name)
            continue
        ds = pydicom.dcmread(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid values written on purpose
            edit(ds, index)
            ds.save_as(out / path.name, enforce_file_format=False)
    return out


def _suv(folder: Path, overrides: SuvOverrides | None = None) -> tuple[SuvResult, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        series = read_series(folder)
        result = compute_suv(series, overrides=overrides)
    assert all(issubclass(w.category, WorkbenchWarning) for w in caught)
    return result, [str(w.message) for w in caught]


def _radio(ds: Dataset) -> Dataset:
    item: Dataset = ds.RadiopharmaceuticalInformationSequence[0]
    return item


DRO = "ibsi-suv-dro/DRO_0_0/PT"
DRO_3_2 = "ibsi-suv-dro/DRO_3_2/PT"
GE_GML = "tcia-sts-001-ge-petct/PT_cropped_GML"


def test_dro_reference_is_four(tmp_path: Path) -> None:
    # IBSI DRO_list.csv: SUVmax 4.00 for every DRO.
    result, _ = _suv(_copy(tmp_path, DRO))
    assert result.suvmax_bw == pytest.approx(4.0, rel=1e-4)


@pytest.mark.parametrize(
    ("edit", "error", "named"),
    [
        (lambda ds, i: ds.pop("RescaleSlope"), MissingAttributeError, "RescaleSlope (0028,1053)"),
        (lambda ds, i: setattr(ds, "RescaleSlope", "0"), ImpossibleValueError, "RescaleSlope"),
        (lambda ds, i: setattr(ds, "RescaleSlope", "-2"), ImpossibleValueError, "RescaleSlope"),
        (
            lambda ds, i: setattr(ds, "RescaleIntercept", "1e17") if i == 3 else None,
            ImpossibleValueError,
            "RescaleIntercept",
        ),
        (lambda ds, i: setattr(ds, "Units", "GML"), ImpossibleValueError, "Units (0054,1001)"),
        (lambda ds, i: setattr(ds, "Rows", 128), DicomImportError, "Rows (0028,0010)"),
        (lambda ds, i: setattr(ds, "Rows", 0), DicomImportError, "Rows (0028,0010)"),
        (
            lambda ds, i: ds.pop("Columns") if i == 7 else None,
            MissingAttributeError,
            "Columns (0028,0011)",
        ),
        (
            lambda ds, i: setattr(ds, "PixelData", ds.PixelData + ds.PixelData[:512]),
            DicomImportError,
            "PixelData (7FE0,0010) holds",
        ),
        (
            lambda ds, i: (
                setattr(ds, "RadiopharmaceuticalInformationSequence", None)
                or ds.__setitem__(
                    0x00540016, pydicom.DataElement(0x00540016, "LO", "F-18 FDG 370 MBq")
                )
            ),
            DicomImportError,
            "RadiopharmaceuticalInformationSequence (0054,0016)",
        ),
        (
            lambda ds, i: ds.__setitem__(0x00280051, pydicom.DataElement(0x00280051, "FD", 2.0)),
            NotComputableError,
            "CorrectedImage (0028,0051)",
        ),
    ],
    ids=[
        "slope-missing",
        "slope-zero",
        "slope-negative",
        "intercept-1e17-one-slice",
        "units-gml-on-bqml",
        "rows-changed-every-slice",
        "rows-zero",
        "columns-deleted-one-slice",
        "pixeldata-longer",
        "radiopharmaceutical-sequence-as-text",
        "corrected-image-fd",
    ],
)
def test_corruption_refused_naming_attribute(
    tmp_path: Path, edit: Edit, error: type[WorkbenchError], named: str
) -> None:
    folder = _copy(tmp_path, DRO, edit)
    with pytest.raises(error, match=named.replace("(", r"\(").replace(")", r"\)")):
        _suv(folder)


def test_ge_gml_without_slope_refused(tmp_path: Path) -> None:
    # Issue 14: GE GML int16 values taken with slope 1 gave SUVmax 32,767.
    folder = _copy(tmp_path, GE_GML, lambda ds, i: ds.pop("RescaleSlope"))
    with pytest.raises(MissingAttributeError, match="RescaleSlope"):
        _suv(folder)


@pytest.mark.parametrize(
    ("weight", "dose"),
    [("351", None), ("1000", None), (None, "0.1"), (None, "1e11"), (None, "1e15")],
    ids=["weight-351", "weight-1000", "dose-0.1", "dose-1e11", "dose-1e15"],
)
def test_impossible_header_values_refused_unless_overridden(
    tmp_path: Path, weight: str | None, dose: str | None
) -> None:
    def edit(ds: Dataset, index: int) -> None:
        if weight is not None:
            ds.PatientWeight = weight
        if dose is not None:
            _radio(ds).RadionuclideTotalDose = dose

    folder = _copy(tmp_path, DRO, edit)
    keyword = "PatientWeight" if weight else "RadionuclideTotalDose"
    with pytest.raises(WorkbenchError, match=f"{keyword}.*(not a possible|implausible)"):
        _suv(folder)
    # The user's values (the DRO's true 70 kg, 368.08 MBq) give the right SUV again.
    override = SuvOverrides(weight_kg=70.0) if weight else SuvOverrides(injected_mbq=368.08)
    result, _ = _suv(folder, override)
    assert result.suvmax_bw == pytest.approx(4.0, rel=1e-4)


def test_override_held_to_the_same_range(tmp_path: Path) -> None:
    folder = _copy(tmp_path, DRO)
    high = ADMINISTERED_ACTIVITY_RANGE_MBQ[1]
    with pytest.raises(ImpossibleValueError, match="--injected-mbq"):
        _suv(folder, SuvOverrides(injected_mbq=high * 10))
    with pytest.raises(ImpossibleValueError, match="--weight-kg"):
        _suv(folder, SuvOverrides(weight_kg=BODY_WEIGHT_RANGE_KG[1] + 1))
    with pytest.raises(ImpossibleValueError, match="--height-cm"):
        _suv(folder, SuvOverrides(height_cm=1.75))


@pytest.mark.parametrize(
    ("keyword", "value"),
    [("AcquisitionTime", "b79"), ("AcquisitionTime", None), ("SeriesTime", "b79")],
    ids=["acquisition-garbled", "acquisition-missing", "series-time-garbled"],
)
def test_dro_3_2_time_corruption_is_named(tmp_path: Path, keyword: str, value: str | None) -> None:
    # IBSI DRO_3_2: SeriesTime after AcquisitionTime; the reference is back-computed (4.00).
    def edit(ds: Dataset, index: int) -> None:
        if value is None:
            ds.pop(keyword)
        else:
            ds[keyword].value = value

    result, messages = _suv(_copy(tmp_path, DRO_3_2, edit))
    if abs((result.suvmax_bw or 0.0) / 4.0 - 1.0) > 0.01:
        assert any(keyword in m for m in messages), messages


def test_intercept_on_pet_is_warned(tmp_path: Path) -> None:
    folder = _copy(tmp_path, DRO, lambda ds, i: setattr(ds, "RescaleIntercept", "100"))
    _, messages = _suv(folder)
    assert any("RescaleIntercept (0028,1052)" in m for m in messages)


def test_implausibly_low_suv_warned(tmp_path: Path) -> None:
    def edit(ds: Dataset, index: int) -> None:
        ds.RescaleSlope = f"{float(ds.RescaleSlope) * 1e-3:.6g}"

    result, messages = _suv(_copy(tmp_path, DRO, edit))
    np.testing.assert_allclose(result.suvmax_bw or 0.0, 4.0e-3, rtol=1e-3)
    assert any("RescaleSlope" in m and "no voxel reaches" in m for m in messages)


@pytest.mark.slow
def test_mutation_fuzz_sample_has_no_traceback_and_no_silent_wrong_suv() -> None:
    # A fixed-seed CI sample of the 3,000-case measurement (tests/dicom/suv_fuzz.py).
    outcomes = suv_fuzz.run_fuzz(suv_fuzz.draw_cases(200, seed=14))
    bad = [o for o in outcomes if o.kind in ("traceback", "silent")]
    assert not bad, "\n".join(f"{o.kind} {o.case} {o.detail}" for o in bad)
    counts = suv_fuzz.summarise(outcomes)
    assert counts.get("refused", 0) > 100  # the sample does exercise the refusals
