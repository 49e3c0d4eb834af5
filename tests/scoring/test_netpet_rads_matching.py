"""NETPET, SSTR-RADS and lesion matching (scoring/netpet.py, sstr_rads.py, matching.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nenscope.scoring import (
    AnatomicFinding,
    NetpetGrade,
    NetpetLesion,
    SstrRads,
    Uptake,
    UptakeSite,
    match_lesions,
    netpet_grade,
    sstr_rads_category,
    sstr_rads_overall,
    sstr_rads_uptake,
)


def _both(sstr: float, fdg: float) -> NetpetLesion:
    return NetpetLesion(
        sstr_positive=True, fdg_positive=True, sstr_intensity=sstr, fdg_intensity=fdg
    )


SSTR_ONLY = NetpetLesion(sstr_positive=True, fdg_positive=False)
FDG_ONLY = NetpetLesion(sstr_positive=False, fdg_positive=True)
NEITHER = NetpetLesion(sstr_positive=False, fdg_positive=False)


@pytest.mark.parametrize(
    ("lesions", "grade"),
    [
        ([], NetpetGrade.P0),
        ([NEITHER], NetpetGrade.P0),
        ([SSTR_ONLY], NetpetGrade.P1),
        ([SSTR_ONLY, _both(10.0, 7.9)], NetpetGrade.P2),  # ratio 0.79 < 0.8
        ([_both(10.0, 8.0)], NetpetGrade.P3),  # ratio 0.8: equal within 20 %
        ([_both(10.0, 12.0)], NetpetGrade.P3),  # ratio 1.2: equal
        ([_both(10.0, 7.0), _both(10.0, 10.0)], NetpetGrade.P3),  # worst lesion counts
        ([_both(10.0, 12.1)], NetpetGrade.P4A),
        ([_both(10.0, 13.0), _both(5.0, 7.0)], NetpetGrade.P4A),  # 2 FDG-dominant
        ([_both(10.0, 13.0), _both(5.0, 7.0), _both(2.0, 3.0)], NetpetGrade.P4B),  # 3
        ([SSTR_ONLY, _both(10.0, 20.0), FDG_ONLY], NetpetGrade.P5),
    ],
    ids=["none", "neg", "P1", "P2", "P3-low", "P3-high", "worst", "P4a", "P4a-2", "P4b", "P5"],
)
def test_netpet_grades(lesions: list[NetpetLesion], grade: NetpetGrade) -> None:
    result = netpet_grade(lesions)
    assert result.grade is grade
    expected = {"P0": "not suitable", "P5": "not suitable", "P4b": "maybe"}
    assert result.prrt_suitability.startswith(expected.get(grade.value, "probably"))


def test_netpet_errors() -> None:
    with pytest.raises(ValueError, match="intensities"):
        netpet_grade([NetpetLesion(sstr_positive=True, fdg_positive=True)])
    with pytest.raises(ValueError, match="sstr_intensity"):
        netpet_grade([_both(0.0, 1.0)])
    with pytest.raises(ValueError, match="equal_tolerance"):
        netpet_grade([], equal_tolerance=1.0)


T, A = UptakeSite.TYPICAL, UptakeSite.ATYPICAL
N, S, B = AnatomicFinding.NONE, AnatomicFinding.SUSPICIOUS, AnatomicFinding.BENIGN


@pytest.mark.parametrize(
    ("uptake", "site", "anatomy", "bone", "variant", "category"),
    [
        (Uptake.NONE, T, B, False, False, SstrRads.R1A),
        (Uptake.INTENSE, T, B, False, False, SstrRads.R1B),
        (Uptake.EQUIVOCAL, A, N, False, False, SstrRads.R2),
        (Uptake.INTENSE, T, N, False, True, SstrRads.R2),  # physiological variant
        (Uptake.EQUIVOCAL, T, N, False, False, SstrRads.R3A),
        (Uptake.EQUIVOCAL, T, N, True, False, SstrRads.R3B),
        (Uptake.INTENSE, A, N, False, False, SstrRads.R3C),
        (Uptake.NONE, T, S, False, False, SstrRads.R3D),
        (Uptake.INTENSE, T, N, False, False, SstrRads.R4),
        (Uptake.INTENSE, T, S, True, False, SstrRads.R5),
    ],
)
def test_sstr_rads_categories(
    uptake: Uptake,
    site: UptakeSite,
    anatomy: AnatomicFinding,
    bone: bool,
    variant: bool,
    category: SstrRads,
) -> None:
    got = sstr_rads_category(
        uptake=uptake, site=site, anatomy=anatomy, is_bone=bone, physiological_variant=variant
    )
    assert got is category


def test_sstr_rads_uptake_overall_and_errors() -> None:
    # Boundaries: <= blood pool none; <= 2 × blood pool equivocal; above intense.
    levels = [sstr_rads_uptake(v, blood_pool_mean=2.0) for v in (2.0, 2.01, 4.0, 4.01)]
    assert levels == [Uptake.NONE, Uptake.EQUIVOCAL, Uptake.EQUIVOCAL, Uptake.INTENSE]
    assert sstr_rads_overall([SstrRads.R1B, SstrRads.R3D, SstrRads.R3A]) is SstrRads.R3D
    assert sstr_rads_overall([SstrRads.R5, SstrRads.R4]) is SstrRads.R5
    with pytest.raises(ValueError, match="at least one"):
        sstr_rads_overall([])
    with pytest.raises(ValueError, match="at most 5"):
        sstr_rads_overall([SstrRads.R2] * 6)
    with pytest.raises(ValueError, match="no lesion"):
        sstr_rads_category(uptake=Uptake.NONE, site=T, anatomy=N)
    with pytest.raises(ValueError, match="blood_pool_mean"):
        sstr_rads_uptake(1.0, blood_pool_mean=0.0)


def test_matching_by_hand_with_transform_and_distance() -> None:
    base = [(0.0, 0.0, 0.0), (30.0, 0.0, 0.0), (100.0, 0.0, 0.0)]
    # Follow-up shifted by +10 mm in y (patient moved); the transform moves it back.
    follow = [(30.0, 10.0, 0.0), (1.0, 10.0, 0.0), (300.0, 0.0, 0.0)]
    shift = np.eye(4)
    shift[1, 3] = -10.0
    r = match_lesions(base, follow, followup_to_baseline=shift, max_distance_mm=5.0)
    assert [(p.baseline, p.followup) for p in r.pairs] == [(0, 1), (1, 0)]
    assert r.pairs[0].distance_mm == pytest.approx(1.0)
    assert r.unmatched_baseline == (2,)
    assert r.new == (2,)
    # Without the transform the 10 mm shift exceeds 5 mm: nothing matches.
    none = match_lesions(base, follow, max_distance_mm=5.0)
    assert none.pairs == ()
    assert match_lesions([], follow).new == (0, 1, 2)
    with pytest.raises(ValueError, match="max_distance_mm"):
        match_lesions(base, follow, max_distance_mm=0.0)
    with pytest.raises(ValueError, match="4x4"):
        match_lesions(base, follow, followup_to_baseline=np.eye(3))
    with pytest.raises(ValueError, match="finite"):
        match_lesions([(np.nan, 0.0, 0.0)], follow)


def test_matching_prefers_global_optimum_over_greedy() -> None:
    # Distances b0-f0 4, b0-f1 6, b1-f0 4, b1-f1 14 mm (max 7): greedy nearest-first may take
    # b0-f0 and strand b1; the optimal assignment keeps both lesions matched.
    base = [(0.0, 0.0, 0.0), (8.0, 0.0, 0.0)]
    follow = [(4.0, 0.0, 0.0), (-6.0, 0.0, 0.0)]
    r = match_lesions(base, follow, max_distance_mm=7.0)
    # Pairs b0-f1 (6 mm) + b1-f0 (4 mm) = 10 mm beats b0-f0 (4 mm) alone.
    assert {(p.baseline, p.followup) for p in r.pairs} == {(0, 1), (1, 0)}


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.tuples(*[st.floats(-200, 200, allow_nan=False)] * 3), min_size=1, max_size=8),
    st.permutations(range(8)),
)
def test_matching_recovers_a_permutation(
    points: list[tuple[float, float, float]], perm: list[int]
) -> None:
    order = [i for i in perm if i < len(points)]
    follow = [points[i] for i in order]
    # Every follow-up point equals a baseline point: all are matched at distance 0.
    r = match_lesions(points, follow, max_distance_mm=1e-6)
    assert len(r.pairs) == len(points)
    assert r.new == ()
    for p in r.pairs:
        np.testing.assert_allclose(points[p.baseline], follow[p.followup], atol=1e-9)
