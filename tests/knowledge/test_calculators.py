"""Knowledge-base dose calculators (knowledge/calculators.py)."""

from __future__ import annotations

import numpy as np
import pytest

from nenscope.core.errors import OptionError
from nenscope.knowledge.calculators import (
    compute_exam_dose,
    compute_exam_effective_dose,
    compute_follow_up_dose,
    find_nuclide,
    find_tracer,
)
from nenscope.knowledge.kb import load_knowledge_base


@pytest.mark.parametrize("name", ["Ga-68", "ga68", "68Ga", "GA-68"])
def test_find_nuclide_spellings(name: str) -> None:
    assert find_nuclide(load_knowledge_base(), name).id == "Ga-68"


def test_unknown_names_refused_with_closest() -> None:
    kb = load_knowledge_base()
    with pytest.raises(OptionError, match="Did you mean 'F-18'"):
        find_nuclide(kb, "F-19")
    with pytest.raises(OptionError, match="Did you mean 'fdg-pet'"):
        find_tracer(kb, "fdg-pett")
    with pytest.raises(OptionError, match="uses no radiopharmaceutical"):
        find_tracer(kb, "ct-cap")


def test_dotatoc_label_values() -> None:
    kb = load_knowledge_base()
    adult = compute_exam_dose(kb, "ga68-dotatoc", weight_kg=90)
    # Ga 68 DOTATOC label: 148 MBq fixed adult activity; Hartmann 2009 0.023 mSv/MBq -> 3.404 mSv.
    np.testing.assert_allclose(adult.prescription.activity_mbq, 148.0, rtol=1e-12)
    np.testing.assert_allclose(adult.effective_dose_msv or 0.0, 3.404, rtol=1e-12)
    child = compute_exam_dose(kb, "ga68-dotatoc", weight_kg=25, age_years=9)
    np.testing.assert_allclose(child.prescription.activity_mbq, 39.75, rtol=1e-12)  # 1.59 x 25


def test_given_activity_overrides_rule() -> None:
    got = compute_exam_dose(load_knowledge_base(), "fdg-pet", activity_mbq=350.0)
    np.testing.assert_allclose(got.effective_dose_msv or 0.0, 350.0 * 0.019, rtol=1e-12)


def test_exam_effective_dose_kinds() -> None:
    kb = load_knowledge_base()
    nm = compute_exam_effective_dose(kb, "ga68-sstr-pet", weight_kg=75)
    np.testing.assert_allclose(nm.effective_dose_msv, 3.15, rtol=1e-12)  # NETSPOT label
    assert compute_exam_effective_dose(kb, "us-neck").effective_dose_msv == 0.0
    with pytest.raises(OptionError, match="Did you mean 'ct-cap'"):
        compute_exam_effective_dose(kb, "ct-cpa")


def test_follow_up_dose_counts_mri_as_zero() -> None:
    kb = load_knowledge_base()
    got = compute_follow_up_dose(
        kb, [("mri-liver", 6), ("ga68-sstr-pet", 24)], duration_months=48, weight_kg=100
    )
    # By hand: MRI 0 mSv x 9; SSTR PET 200 MBq x 0.021 = 4.2 mSv x 3 -> 12.6 mSv.
    assert got.counts == {"mri-liver": 9, "ga68-sstr-pet": 3}
    np.testing.assert_allclose(got.total_msv, 12.6, rtol=1e-12)
