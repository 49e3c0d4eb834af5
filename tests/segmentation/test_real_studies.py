"""Issue 10 on real patients: the automatic analysis of the shared FDG PET/CT studies.

GE Discovery ST (TCIA Soft-tissue-Sarcoma STS_001; CT only over the thigh, so the rest of the
anatomy comes from the PET alone) and ACRIN-NSCLC-FDG-PET 042 (CT over the whole PET). The
goals of the issue: the real lesion found, nothing left in the brain, heart, kidneys, urinary
tract or liver, and few other candidates (GE: at most 3, ACRIN: at most 10).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from nenscope.core import ImageVolume
from nenscope.pipeline import AnalysisOptions, load_study
from nenscope.segmentation import (
    LesionDetection,
    ReferenceRegions,
    detect_lesions,
    place_reference_regions,
)
from nenscope.segmentation.patterns import tracer_family
from nenscope.segmentation.sites import lesion_site
from tests.conftest import shared_data_path

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Analysed:
    suv: ImageVolume
    regions: ReferenceRegions
    detection: LesionDetection
    candidates: list[tuple[np.ndarray, float, float]]  # centroid LPS, SUVmax, volume mL


def _analyse(folder: str) -> Analysed:
    study = load_study(shared_data_path("dicom", folder), AnalysisOptions())
    ct = None if study.ct is None else study.ct.volume
    regions = place_reference_regions(study.suv, ct)
    detection = detect_lesions(
        study.suv,
        references=regions,
        tracer=tracer_family(study.tracer, study.tracer_family),
    )
    values = np.asarray(study.suv.array)
    out = []
    for label in range(1, detection.n_lesions + 1):
        mask = detection.labels == label
        centre = study.suv.index_to_lps(np.argwhere(mask).mean(axis=0)[None])[0]
        out.append(
            (centre, float(values[mask].max()), float(mask.sum()) * study.suv.voxel_volume_ml)
        )
    return Analysed(study.suv, regions, detection, out)


@pytest.fixture(scope="module")
def ge() -> Analysed:
    return _analyse("tcia-sts-001-ge-petct")


@pytest.fixture(scope="module")
def acrin() -> Analysed:
    return _analyse("tcia-acrin-nsclc-fdg-042")


def _no_candidate_in_found_organs(a: Analysed) -> None:
    anatomy = a.detection.anatomy
    assert anatomy is not None
    for organ in ("brain", "myocardium"):
        mask = anatomy.mask(organ)
        if mask is not None:
            overlap = np.count_nonzero(mask & (a.detection.labels > 0))
            assert overlap == 0, f"a candidate lies in the {organ}"
    liver = a.regions.organs.liver if a.regions.organs is not None else None
    assert liver is not None, "the liver must be found (PET alone where the CT does not cover it)"
    for label in range(1, a.detection.n_lesions + 1):
        mask = a.detection.labels == label
        assert np.count_nonzero(mask & liver) < 0.5 * mask.sum(), f"candidate {label} in the liver"
    # The urinary tract (renal pelves, ureters, bladder) is listed as physiological, never kept:
    # no candidate is as hot as the collecting system.
    urinary = [
        p for p in a.detection.physiological if p.organ in {"kidney", "urinary bladder", "ureter"}
    ]
    assert urinary, "the urinary tract must be found"
    hottest_urine = max(p.suvmax for p in urinary)
    assert hottest_urine > 25.0
    assert all(s < hottest_urine for _, s, _ in a.candidates)


def test_ge_sarcoma_found_and_at_most_three_other_candidates(ge: Analysed) -> None:
    # The sarcoma (MIRP/TCIA GTV_Mass: SUVbw max 7.9-8.0) in the left thigh, ~144 mL.
    sarcoma = [c for c in ge.candidates if c[0][2] < -700.0 and 7.5 <= c[1] <= 8.5]
    assert len(sarcoma) == 1, ge.candidates
    assert sarcoma[0][2] > 50.0
    assert len(ge.candidates) <= 4, [(np.round(c), s, v) for c, s, v in ge.candidates]


def test_ge_no_candidate_in_brain_heart_kidneys_urinary_tract_or_liver(ge: Analysed) -> None:
    _no_candidate_in_found_organs(ge)
    excluded = set(ge.detection.segmentation.excluded_organs)
    assert {"brain", "myocardium"} <= excluded  # both located on the PET alone
    anatomy = ge.detection.anatomy
    assert anatomy is not None
    assert anatomy.sources["head (brain)"].startswith("PET alone")


def test_ge_sarcoma_site_is_the_left_lower_limb(ge: Analysed) -> None:
    label = next(
        i for i, c in enumerate(ge.candidates, start=1) if c[0][2] < -700.0 and c[1] > 7.5
    )
    site = lesion_site(ge.suv, ge.detection.labels == label, ge.detection.anatomy)
    assert site == "left lower limb (soft tissue)"


def test_acrin_hilar_tumour_found_and_at_most_ten_candidates(acrin: Analysed) -> None:
    # Right hilar/mediastinal tumour, SUVmax ~42 (README), right of the midline (LPS x < 0).
    tumour = [c for c in acrin.candidates if c[1] > 35.0]
    assert len(tumour) == 1, acrin.candidates
    centre = tumour[0][0]
    assert centre[0] < -20.0
    assert -160.0 < centre[2] < -80.0
    assert len(acrin.candidates) <= 10, [(np.round(c), s, v) for c, s, v in acrin.candidates]


def test_acrin_no_candidate_in_urinary_tract_myocardium_brain_or_liver(acrin: Analysed) -> None:
    _no_candidate_in_found_organs(acrin)
    assert "myocardium" in acrin.detection.segmentation.excluded_organs
    # Both renal collecting systems (SUVmax 51 and 38) are physiological.
    kidneys = sorted(p.suvmax for p in acrin.detection.physiological if p.organ == "kidney")
    assert kidneys[-1] > 45.0
    assert kidneys[-2] > 30.0
    anatomy = acrin.detection.anatomy
    assert anatomy is not None
    assert anatomy.sources["thorax (lungs)"] == "CT"
