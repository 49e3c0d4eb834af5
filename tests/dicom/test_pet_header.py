"""The per-slice consistency check of the SUV header reader, on headers as read from files.

``read_pet_header`` compares the series-level attributes of slices 1..n with slice 0 by their
stored bytes and converts only what is stored differently (see ``_pet_header``). These tests
read headers back from encoded files, so that their values are still raw as in
``DicomSeries.headers``, and check that

* a slice whose PatientWeight or RadionuclideTotalDose differs is still refused, with the same
  message as on fully converted headers (the reader's behaviour before the byte comparison);
* values that differ only in formatting ("70" vs "70.0") still count as equal;
* slices stored alike are not converted (the speed the byte comparison exists for).
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import pydicom
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset

from nenscope.core.errors import WorkbenchError, WorkbenchWarning
from nenscope.dicom._pet_header import read_pet_header
from nenscope.dicom.pet import SuvResult, compute_suv_from_headers
from tests.dicom.test_pet_fixtures import BASE_FACTOR, synthetic_headers

N_SLICES = 6

ENCODINGS = {"explicit": False, "implicit": True}
"""Transfer syntax of the round trip: explicit VR keeps the radiopharmaceutical sequence as
raw bytes, implicit VR (as the GE series) has pydicom parse it into items when reading."""


def _radio(ds: Dataset) -> Dataset:
    item: Dataset = ds.RadiopharmaceuticalInformationSequence[0]
    return item


def _set(ds: Dataset, keyword: str, text: str) -> None:
    target = _radio(ds) if keyword.startswith("Radio") else ds
    setattr(target, keyword, text)


def _round_trip(ds: Dataset, *, implicit: bool) -> Dataset:
    buffer = io.BytesIO()
    pydicom.dcmwrite(buffer, ds, implicit_vr=implicit, little_endian=True)
    buffer.seek(0)
    return pydicom.dcmread(buffer, force=True)


def _read_headers(changes: dict[int, dict[str, str]], *, implicit: bool = False) -> list[Dataset]:
    """Synthetic series with ``changes[slice][keyword] = text``, written and read back raw."""
    headers = synthetic_headers(N_SLICES)
    for index, values in changes.items():
        for keyword, text in values.items():
            _set(headers[index], keyword, text)
    return [_round_trip(ds, implicit=implicit) for ds in headers]


def _convert_all(ds: Dataset) -> None:
    """Convert every element, nested items included (iterating a Dataset converts)."""
    for elem in ds:
        if elem.VR == "SQ":
            for item in elem.value:
                _convert_all(item)


Outcome = tuple[SuvResult, tuple[str, ...]] | tuple[str, str]


def _outcome(headers: list[Dataset]) -> Outcome:
    """The result and its nenscope warnings, or the refusal's type and message."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = compute_suv_from_headers(headers)
        except WorkbenchError as err:
            return type(err).__name__, str(err)
    return result, tuple(
        str(w.message) for w in caught if issubclass(w.category, WorkbenchWarning)
    )


def _refusal(outcome: Outcome) -> str:
    assert outcome[0] == "DicomImportError", outcome
    return str(outcome[1])


def _reference_outcome(changes: dict[int, dict[str, str]], *, implicit: bool) -> Outcome:
    """The outcome on the same headers with every value converted: a value-by-value check."""
    headers = _read_headers(changes, implicit=implicit)
    for ds in headers:
        _convert_all(ds)
    return _outcome(headers)


@pytest.fixture(params=list(ENCODINGS), ids=list(ENCODINGS))
def implicit(request: pytest.FixtureRequest) -> bool:
    return ENCODINGS[request.param]


def test_raw_round_trip_gives_the_hand_factor(implicit: bool) -> None:
    result = compute_suv_from_headers(_read_headers({}, implicit=implicit))
    np.testing.assert_allclose(result.suv_bw_factor or 0.0, BASE_FACTOR, rtol=1e-12)
    assert result.warnings == ()


@pytest.mark.parametrize(
    ("keyword", "slice0", "other", "tag"),
    [
        ("PatientWeight", "70", "71", "(0010,1030)"),
        ("PatientWeight", "70", "70.5", "(0010,1030)"),
        ("RadionuclideTotalDose", "368080000.0", "368080001.0", "(0018,1074)"),
        ("RadionuclideTotalDose", "368080000.0", "3.7e8", "(0018,1074)"),
    ],
    ids=["weight-71", "weight-70.5", "dose-plus-1-bq", "dose-3.7e8"],
)
@pytest.mark.parametrize("index", [1, 4], ids=["slice-1", "slice-4"])
def test_slice_with_other_weight_or_dose_refused(
    implicit: bool, keyword: str, slice0: str, other: str, tag: str, index: int
) -> None:
    changes = {index: {keyword: other}}
    outcome = _outcome(_read_headers(changes, implicit=implicit))
    message = _refusal(outcome)
    assert f"{keyword} {tag} differs between slices" in message
    assert f"on slice 0, '{other}' on slice {index})" in message
    assert f"('{slice0}' on slice 0" in message
    assert outcome == _reference_outcome(changes, implicit=implicit)


@pytest.mark.parametrize(
    ("keyword", "texts"),
    [
        ("PatientWeight", ("70.0", "70", " 70", "7.0e1", "70.000")),
        ("RadionuclideTotalDose", ("368080000", "3.6808e8", "368080000.0", "3.68080E+08")),
    ],
    ids=["weight", "dose"],
)
def test_formatting_only_differences_count_as_equal(
    implicit: bool, keyword: str, texts: tuple[str, ...]
) -> None:
    # Slice 0 keeps the fixture's text; the others each carry another spelling of it.
    changes = {i: {keyword: text} for i, text in enumerate(texts, start=1)}
    outcome = _outcome(_read_headers(changes, implicit=implicit))
    result = outcome[0]
    assert isinstance(result, SuvResult), outcome
    np.testing.assert_allclose(result.suv_bw_factor or 0.0, BASE_FACTOR, rtol=1e-12)
    assert outcome[1] == ()
    assert outcome == _reference_outcome(changes, implicit=implicit)


def test_formatting_difference_followed_by_a_real_one_is_refused(implicit: bool) -> None:
    # Slice 1 is equal in value only ("70.0"), slice 2 is stored as slice 1 and slice 3
    # differs: the check must go on after slices it skipped or compared as values.
    changes = {1: {"PatientWeight": "70.0"}, 2: {"PatientWeight": "70.0"}}
    changes[3] = {"PatientWeight": "75"}
    outcome = _outcome(_read_headers(changes, implicit=implicit))
    assert "('70' on slice 0, '75' on slice 3)" in _refusal(outcome)
    assert outcome == _reference_outcome(changes, implicit=implicit)


def test_slices_stored_alike_are_not_converted(implicit: bool) -> None:
    headers = _read_headers({}, implicit=implicit)
    header = read_pet_header(headers)
    assert len(header.slices) == N_SLICES
    for ds in headers[1:]:
        assert isinstance(ds.get_item("PatientWeight"), RawDataElement)
    # FrameReferenceTime differs between the two beds (slices 0-2, 3-5): each distinct stored
    # value is converted once, on the first slice that has it.
    converted = [
        index
        for index, ds in enumerate(headers)
        if not isinstance(ds.get_item("FrameReferenceTime"), RawDataElement)
    ]
    assert converted == [0, 3]


def test_repeated_reads_give_the_same_header(implicit: bool) -> None:
    # The first read converts slice 0's values; the second compares raw slices with it.
    headers = _read_headers({}, implicit=implicit)
    assert read_pet_header(headers) == read_pet_header(headers)


SPELLINGS = {
    "PatientWeight": ("70", "70.0", "70.", " 70", "71", "69.99"),
    "RadionuclideTotalDose": ("368080000.0", "3.6808e8", "368080000", "3.6808e+08", "3.7e8"),
    "Units": ("BQML", "BQML ", "CNTS"),
    "SeriesTime": ("110000.000000", "110000", "110001"),
    "RadiopharmaceuticalStartTime": ("100000.000000", "100000", "095959"),
    "PatientSex": ("M", "F"),
}


@settings(max_examples=60, deadline=None)
@given(
    picks=st.dictionaries(
        st.integers(0, N_SLICES - 1),
        st.sampled_from(sorted(SPELLINGS)).flatmap(
            lambda kw: st.tuples(st.just(kw), st.sampled_from(SPELLINGS[kw]))
        ),
        max_size=4,
    ),
    implicit=st.booleans(),
)
def test_byte_comparison_agrees_with_value_comparison(
    picks: dict[int, tuple[str, str]], implicit: bool
) -> None:
    # Oracle (STYLE 9.3 c): the same headers fully converted, compared value by value.
    changes = {index: {keyword: text} for index, (keyword, text) in picks.items()}
    expected = _reference_outcome(changes, implicit=implicit)
    assert _outcome(_read_headers(changes, implicit=implicit)) == expected
