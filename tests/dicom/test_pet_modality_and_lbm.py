"""A non-PET series is refused as such; --lbm-formula speaks its own vocabulary."""

from __future__ import annotations

import warnings

import pytest
from pydicom.dataset import Dataset

from nenscope.core.errors import OptionError, UnitError, WorkbenchWarning
from nenscope.dicom.pet import compute_suv_from_headers
from nenscope.quantification.bodysize import LbmFormula
from tests.dicom.test_pet_fixtures import synthetic_headers


def _as_ct(units: str | None) -> list[Dataset]:
    headers = synthetic_headers()
    for ds in headers:
        ds.Modality = "CT"
        if units is None:
            del ds.Units
        else:
            ds.Units = units
    return headers


@pytest.mark.parametrize("units", [None, "HU"])
def test_a_ct_series_is_refused_as_not_pet(units: str | None) -> None:
    with pytest.raises(UnitError) as caught:
        compute_suv_from_headers(_as_ct(units))
    message = str(caught.value)
    assert "Modality CT" in message
    assert "Modality PT" in message
    assert "NM with Units BQML" in message
    assert "is missing" not in message


def test_a_non_pt_series_with_bqml_is_still_trusted_with_a_warning() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", WorkbenchWarning)
        result = compute_suv_from_headers(_as_ct("BQML"))
    assert result.suv_bw_factor is not None
    assert any("not PT" in str(w.message) for w in caught)


@pytest.mark.parametrize(
    ("text", "formula"),
    [
        ("james", LbmFormula.JAMES),
        ("James", LbmFormula.JAMES),
        ("janmahasatian", LbmFormula.JANMAHASATIAN),
        ("morgan", LbmFormula.MORGAN),
        ("LBMJAMES128", LbmFormula.JAMES),
        ("lbmjanma", LbmFormula.JANMAHASATIAN),
        (LbmFormula.JAMES, LbmFormula.JAMES),
    ],
)
def test_lbm_formula_by_name_or_dicom_term(text: str, formula: LbmFormula) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WorkbenchWarning)
        result = compute_suv_from_headers(synthetic_headers(), lbm_formula=text)
    assert result.lbm_formula == formula.value


def test_unknown_lbm_formula_suggests_the_option_value() -> None:
    with pytest.raises(OptionError) as caught:
        compute_suv_from_headers(synthetic_headers(), lbm_formula="jamez")
    message = str(caught.value)
    assert "'jamez'" in message
    assert "Did you mean 'james'?" in message
    assert "Valid: james, janmahasatian, morgan." in message
