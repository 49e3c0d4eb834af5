"""Krenning grades: every boundary of the scale (scoring/krenning.py module table)."""

from __future__ import annotations

import pytest

from nenscope.scoring import KrenningReferences, krenning_score, patient_krenning

REFS = KrenningReferences(liver_mean=8.0, spleen_mean=20.0, background_mean=1.5)


@pytest.mark.parametrize(
    ("suvmax", "grade"),
    [
        (1.5, 0),  # = background -> no uptake
        (1.51, 1),
        (3.99, 1),  # < 0.5 × liver (4.0)
        (4.0, 2),  # = 0.5 × liver
        (8.0, 2),  # = liver
        (8.01, 3),
        (20.0, 3),  # = spleen
        (20.01, 4),
    ],
)
def test_lesion_grade_boundaries(suvmax: float, grade: int) -> None:
    assert krenning_score(suvmax, REFS) == grade


def test_no_background_never_gives_zero_and_kidney_replaces_spleen() -> None:
    refs = KrenningReferences(liver_mean=8.0, kidney_mean=12.0)
    assert krenning_score(0.1, refs) == 1
    assert krenning_score(12.0, refs) == 3
    assert krenning_score(12.5, refs) == 4


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"liver_mean": 0.0, "spleen_mean": 5.0}, "liver_mean"),
        ({"liver_mean": 5.0}, "spleen"),
        ({"liver_mean": 5.0, "spleen_mean": 4.0}, "below the liver"),
        ({"liver_mean": 5.0, "spleen_mean": 9.0, "low_fraction": 1.0}, "low_fraction"),
    ],
)
def test_invalid_references_refused(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        KrenningReferences(**kwargs)


def test_patient_score_and_prrt_statement() -> None:
    preferred = patient_krenning([3, 4, 4])
    assert (preferred.score, preferred.meets_minimum, preferred.meets_preferred) == (4, True, True)
    assert "above normal liver" in preferred.statement
    minimum = patient_krenning([2, 4])
    assert (minimum.meets_minimum, minimum.meets_preferred, minimum.n_below_preferred) == (
        True,
        False,
        1,
    )
    assert "minimum criterion" in minimum.statement
    low = patient_krenning([1, 4, 3])
    assert (low.meets_minimum, low.n_below_minimum, low.score) == (False, 1, 4)
    assert "not met" in low.statement
    none = patient_krenning([])
    assert (none.score, none.meets_minimum, none.n_lesions) == (0, None, 0)
    with pytest.raises(ValueError, match=r"0\.\.4"):
        patient_krenning([5])
