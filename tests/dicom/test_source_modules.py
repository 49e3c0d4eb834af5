"""Header mutations on the writer side: bad patient/study/trial attributes give valid SEG and SR.

Slices of the shared GE PET are saved again with one attribute emptied, given a wrong VR, made
too long or malformed (with pydicom, explicit VR so that a wrong VR survives in the file); the
writers must still give objects that dciodvfy accepts and that read back, and the bad value
must be emptied, dropped or repaired as ``nenscope.dicom.source_modules`` documents.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import pydicom
import pytest
from pydicom import config
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.uid import ExplicitVRLittleEndian

from nenscope.core.errors import DicomDeviationWarning, WorkbenchError
from nenscope.dicom.seg_sr import write_seg
from nenscope.dicom.source_modules import clean_source_headers
from tests.conftest import shared_data_path
from tests.dicom.test_writers_matrix import SEGMENTS, _labels, write_and_check

N_SLICES = 12
Mutation = Callable[[pydicom.Dataset], None]


def _set(keyword: str, vr: str, value: object) -> Mutation:
    def mutate(ds: pydicom.Dataset) -> None:
        tag = pydicom.datadict.tag_for_keyword(keyword)
        assert tag is not None
        ds[tag] = DataElement(tag, vr, value)

    return mutate


def _set_raw(keyword: str, vr: str, value: bytes) -> Mutation:
    """Store bytes that pydicom would refuse to convert (e.g. a DS that is no number)."""

    def mutate(ds: pydicom.Dataset) -> None:
        tag = pydicom.tag.Tag(keyword)
        ds[tag] = RawDataElement(tag, vr, len(value), value, 0, False, True)

    return mutate


def _delete(keyword: str) -> Mutation:
    def mutate(ds: pydicom.Dataset) -> None:
        if keyword in ds:
            delattr(ds, keyword)

    return mutate


def _trial(**values: str) -> Mutation:
    def mutate(ds: pydicom.Dataset) -> None:
        for keyword, value in values.items():
            setattr(ds, keyword, value)

    return mutate


def _identity_removed_without_method(ds: pydicom.Dataset) -> None:
    ds.PatientIdentityRemoved = "YES"
    for keyword in ("DeidentificationMethod", "DeidentificationMethodCodeSequence"):
        if keyword in ds:
            delattr(ds, keyword)


# keyword checked in the outputs -> expected value there (None = absent), per mutation.
CASES: dict[str, tuple[Mutation, str, str | None]] = {
    "name-empty": (_set("PatientName", "PN", ""), "PatientName", ""),
    "name-wrong-vr-valid": (_set("PatientName", "LO", "DOE^JANE"), "PatientName", "DOE^JANE"),
    "name-wrong-vr-binary": (_set("PatientName", "US", 5), "PatientName", ""),
    "name-too-long": (_set("PatientName", "PN", "A" * 70 + "^B"), "PatientName", ""),
    "name-two-values": (_set("PatientName", "PN", "A^B\\C^D"), "PatientName", ""),
    "id-missing": (_delete("PatientID"), "PatientID", ""),
    "id-too-long": (_set("PatientID", "LO", "9" * 65), "PatientID", ""),
    "study-id-too-long": (_set("StudyID", "SH", "STUDY-1234567890X"), "StudyID", ""),
    "accession-too-long": (
        _set("AccessionNumber", "SH", "ACC12345678901234"),
        "AccessionNumber",
        "",
    ),
    "accession-wrong-vr": (_set("AccessionNumber", "UN", b"A1 "), "AccessionNumber", "A1"),
    "birth-date-impossible": (_set("PatientBirthDate", "DA", "19601345"), "PatientBirthDate", ""),
    "birth-date-feb-30": (_set("PatientBirthDate", "DA", "19600230"), "PatientBirthDate", ""),
    "birth-date-iso": (_set("PatientBirthDate", "DA", "1960-01-16"), "PatientBirthDate", ""),
    "birth-date-acr-nema": (
        _set("PatientBirthDate", "DA", "1960.01.16"),
        "PatientBirthDate",
        "19600116",
    ),
    "study-date-text": (_set("StudyDate", "DA", "yesterday"), "StudyDate", ""),
    "study-time-25h": (_set("StudyTime", "TM", "250000"), "StudyTime", ""),
    "study-time-colons": (_set("StudyTime", "TM", "09:56:40"), "StudyTime", "095640"),
    "sex-lowercase-word": (_set("PatientSex", "CS", "male"), "PatientSex", ""),
    "sex-unknown-code": (_set("PatientSex", "CS", "X"), "PatientSex", ""),
    "referring-wrong-vr": (
        _set("ReferringPhysicianName", "SH", "WHO^DR"),
        "ReferringPhysicianName",
        "WHO^DR",
    ),
    "weight-text": (_set_raw("PatientWeight", "DS", b"seventy "), "PatientWeight", None),
    "age-no-unit": (_set("PatientAge", "AS", "45Y"), "PatientAge", None),
    "description-backslash": (
        _set("StudyDescription", "LO", "PET\\CT"),
        "StudyDescription",
        None,
    ),
    "trial-incomplete": (
        _trial(ClinicalTrialSponsorName="", ClinicalTrialProtocolID="6668"),
        "ClinicalTrialProtocolID",
        None,
    ),
    "trial-subject-id-too-long": (
        _trial(
            ClinicalTrialSponsorName="ACRIN",
            ClinicalTrialProtocolID="6668",
            ClinicalTrialSubjectID="S" * 65,
        ),
        "ClinicalTrialSponsorName",
        None,
    ),
    "trial-complete": (
        _trial(
            ClinicalTrialSponsorName="ACRIN",
            ClinicalTrialProtocolID="6668",
            ClinicalTrialSubjectID="042",
            ClinicalTrialTimePointID="",
        ),
        "ClinicalTrialSubjectID",
        "042",
    ),
    "identity-removed-without-method": (
        _identity_removed_without_method,
        "PatientIdentityRemoved",
        None,
    ),
}


@pytest.fixture(scope="module")
def source_files() -> list[Path]:
    folder = shared_data_path("dicom", "tcia-sts-001-ge-petct", "PT_cropped_GML")
    files = sorted(folder.glob("*.dcm"))
    slices = sorted(
        files,
        key=lambda p: float(pydicom.dcmread(p, stop_before_pixels=True).ImagePositionPatient[2]),
    )
    return slices[:N_SLICES]


def _mutated(files: list[Path], mutate: Mutation, folder: Path) -> list[pydicom.Dataset]:
    folder.mkdir()
    for path in files:
        ds = pydicom.dcmread(path)
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        # Writing deliberately invalid values is the point of this test.
        with config.disable_value_validation(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mutate(ds)
            ds.save_as(folder / path.name, enforce_file_format=True)
    return [pydicom.dcmread(folder / p.name, stop_before_pixels=True) for p in files]


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_mutated_source_gives_valid_outputs(
    case: str, source_files: list[Path], tmp_path: Path
) -> None:
    mutate, keyword, expected = CASES[case]
    headers = _mutated(source_files, mutate, tmp_path / "src")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        seg, sr = write_and_check(headers, tmp_path / "out")
    foreign = [w for w in caught if not issubclass(w.category, DicomDeviationWarning)]
    assert foreign == [], [str(w.message) for w in foreign]
    for ds in (seg, sr):
        if expected is None:
            assert keyword not in ds
        else:
            assert str(ds[keyword].value) == expected
            assert pydicom.datadict.dictionary_VR(keyword) == ds[keyword].VR


def test_deviation_names_the_attribute_never_its_value(
    source_files: list[Path], tmp_path: Path
) -> None:
    secret = "SECRET-ID-1234567890-TOO-LONG-FOR-AN-SH-VALUE"
    headers = _mutated(source_files, _set("StudyID", "SH", secret), tmp_path / "src")
    clean = clean_source_headers(headers)
    assert clean.deviations == (
        "StudyID (0020,0010) emptied: its value does not conform to VR SH (PS3.5 6.2) or VM.",
    )
    assert secret not in repr(clean.deviations)
    # The sources are not modified (raw bytes: reading the value would warn about its length).
    assert headers[0].get_item("StudyID").value.strip() == secret.encode()


def test_invalid_study_uid_is_refused(source_files: list[Path], tmp_path: Path) -> None:
    headers = _mutated(source_files, _set("StudyInstanceUID", "UI", "1.2.abc"), tmp_path / "src")
    labels = _labels((len(headers), int(headers[0].Rows), int(headers[0].Columns)))
    with pytest.raises(WorkbenchError, match=r"StudyInstanceUID \(0020,000D\)"):
        write_seg(tmp_path / "seg.dcm", labels, SEGMENTS, headers)
