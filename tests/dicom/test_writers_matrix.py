"""Strict writers (issue 15): SEG and SR from every shared PET/SPECT input are valid DICOM.

Each source series gets a small label map (two lesions) written with ``write_seg`` and an SR
with known numbers written with ``write_sr``; dciodvfy must report no error, and highdicom must
read the label map and every number back. Whole analyses (``analyze`` on the real ACRIN study,
on PET-only phantoms) are in ``test_writers_pipeline.py``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pydicom
import pytest

from nenscope.core.errors import DicomDeviationWarning
from nenscope.dicom.seg_sr import (
    SegmentKind,
    SegmentSpec,
    SrMeasurementGroup,
    read_seg,
    read_sr,
    write_seg,
    write_sr,
)
from nenscope.dicom.series import read_series
from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study
from tests.conftest import shared_data_path
from tests.dicom_validation import SOURCE_DEFECT_FRAME_EQUALS_STUDY, dciodvfy, errors

DRO_NAMES = (
    "DRO_0_0",
    "DRO_1_0",
    "DRO_2_0",
    "DRO_2_1",
    "DRO_2_2",
    "DRO_2_3",
    "DRO_2_4",
    "DRO_2_5",
    "DRO_3_0",
    "DRO_3_1",
    "DRO_3_2",
    "DRO_3_3",
    "DRO_3_4",
    "DRO_4_0",
    "DRO_4_1",
    "DRO_4_2",
    "DRO_5_0",
)
SHARED_SERIES = {
    **{f"ibsi-{name}": ("ibsi-suv-dro", name, "PT") for name in DRO_NAMES},
    "ge-sts-bqml": ("tcia-sts-001-ge-petct", "PT_raw_BQML"),
    "ge-sts-gml": ("tcia-sts-001-ge-petct", "PT_cropped_GML"),
    "acrin-pt": ("tcia-acrin-nsclc-fdg-042", "PT"),
    "lu177-spect": ("lu177-dotatate-spect-xspect-subset", "PT_xSPECT_BQML_slab"),
}
"""Every PET/SPECT series in shared/ that nenscope reads (PT_NAC of the ACRIN study has Units
PROPCNTS, which the reader refuses, so no SEG/SR is ever written on it)."""
PHANTOMS = {
    "phantom-siemens": PhantomSettings(vendor="siemens", size="small"),
    "phantom-ge": PhantomSettings(vendor="ge", size="small", tracer="fdg"),
    "phantom-philips-cnts": PhantomSettings(vendor="philips", size="small", pet_units="CNTS"),
}

SEGMENTS = (
    SegmentSpec(number=1, label="Lesion 1", kind=SegmentKind.LESION),
    SegmentSpec(number=2, label="Lesion 2", kind=SegmentKind.LESION),
    SegmentSpec(number=3, label="liver reference", kind=SegmentKind.LIVER),
)


def _labels(shape: tuple[int, ...]) -> npt.NDArray[np.uint8]:
    """Two lesions and a liver region, placed relative to the grid so any series holds them."""
    labels = np.zeros(shape, dtype=np.uint8)
    z, y, x = (s // 2 for s in shape)
    labels[z : z + 2, y : y + 3, x : x + 3] = 1
    labels[max(z - 3, 0) : max(z - 1, 1), y + 5 : y + 8, x - 6 : x - 3] = 2
    labels[z : z + 1, y - 8 : y - 4, x + 4 : x + 8] = 3
    return labels


def _groups(tracking: dict[int, str]) -> list[SrMeasurementGroup]:
    # Values exactly representable as DS strings, so the read-back is exact.
    return [
        SrMeasurementGroup(
            segment_number=1,
            tracking_id="Lesion 1",
            tracking_uid=tracking[1],
            kind=SegmentKind.LESION,
            suvmax=12.5,
            suvpeak=9.75,
            suvmean=6.125,
            volume_ml=2.048,
            tlg=12.544,
            krenning=3,
        ),
        SrMeasurementGroup(
            segment_number=2,
            tracking_id="Lesion 2",
            tracking_uid=tracking[2],
            kind=SegmentKind.LESION,
            suvmax=3.5,
            suvmean=2.25,
            volume_ml=0.768,
            tlg=1.728,
        ),
        SrMeasurementGroup(
            segment_number=3,
            tracking_id="liver reference",
            tracking_uid=tracking[3],
            kind=SegmentKind.LIVER,
            suvmean=5.5,
            volume_ml=0.96,
        ),
    ]


def write_and_check(
    headers: list[pydicom.Dataset], out: Path, *, accepted: tuple[str, ...] = ()
) -> tuple[pydicom.Dataset, pydicom.Dataset]:
    """Write SEG + SR on ``headers``; assert dciodvfy finds no error and the read-back matches.

    Returns the written SEG and SR datasets.
    """
    out.mkdir(parents=True, exist_ok=True)
    labels = _labels((len(headers), int(headers[0].Rows), int(headers[0].Columns)))
    info = write_seg(out / "seg.dcm", labels, SEGMENTS, headers)
    groups = _groups(info.tracking_uids)
    write_sr(out / "sr.dcm", groups, seg_path=out / "seg.dcm", source_images=headers)
    for name in ("seg.dcm", "sr.dcm"):
        assert errors(dciodvfy(out / name), accepted=accepted) == [], name
    read_labels, names = read_seg(out / "seg.dcm", [str(h.SOPInstanceUID) for h in headers])
    np.testing.assert_array_equal(read_labels, labels)
    assert names == {s.number: s.label for s in SEGMENTS}
    assert read_sr(out / "sr.dcm") == groups
    return pydicom.dcmread(out / "seg.dcm"), pydicom.dcmread(out / "sr.dcm")


def _accepted_source_defects(headers: list[pydicom.Dataset]) -> tuple[str, ...]:
    first = headers[0]
    if str(first.get("FrameOfReferenceUID", "")) == str(first.StudyInstanceUID):
        return (SOURCE_DEFECT_FRAME_EQUALS_STUDY,)
    return ()


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SHARED_SERIES), ids=list(SHARED_SERIES))
def test_writers_on_shared_series(name: str, tmp_path: Path) -> None:
    series = read_series(shared_data_path("dicom", *SHARED_SERIES[name]))
    headers = list(series.headers)
    accepted = _accepted_source_defects(headers)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        seg, sr = write_and_check(headers, tmp_path, accepted=accepted)
    unexpected = [w for w in caught if not issubclass(w.category, DicomDeviationWarning)]
    assert unexpected == [], [str(w.message) for w in unexpected]
    for ds in (seg, sr):
        assert ds.StudyInstanceUID == headers[0].StudyInstanceUID
        assert ds.PatientID == headers[0].get("PatientID", "")
    assert seg.FrameOfReferenceUID == headers[0].FrameOfReferenceUID


def test_acrin_incomplete_trial_modules_left_out_and_said(tmp_path: Path) -> None:
    # The source of issue 15: ClinicalTrialSponsorName empty, ClinicalTrialSubjectID absent.
    folder = shared_data_path("dicom", "tcia-acrin-nsclc-fdg-042", "PT")
    headers = list(read_series(folder).headers)
    assert headers[0].ClinicalTrialSponsorName == ""
    assert "ClinicalTrialSubjectID" not in headers[0]
    with pytest.warns(DicomDeviationWarning, match="Clinical Trial Subject .* not copied"):
        seg, sr = write_and_check(headers, tmp_path)
    for ds in (seg, sr):
        assert "ClinicalTrialSponsorName" not in ds
        assert "ClinicalTrialProtocolID" not in ds
        assert "ClinicalTrialTimePointID" not in ds
        # The source says it was de-identified; the derived objects say so too.
        assert ds.PatientIdentityRemoved == "YES"


@pytest.fixture(scope="module")
def phantoms(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("phantoms")
    out = {}
    for name, settings in PHANTOMS.items():
        write_phantom_study(root / name, settings)
        out[name] = root / name / "PET"
    return out


@pytest.mark.parametrize("name", list(PHANTOMS), ids=list(PHANTOMS))
def test_writers_on_generated_vendor_styles(
    name: str, phantoms: dict[str, Path], tmp_path: Path
) -> None:
    headers = list(read_series(phantoms[name]).headers)
    write_and_check(headers, tmp_path)
