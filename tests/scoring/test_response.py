"""PERCIST, RECIST and Choi: every category boundary (definitions in the module docstrings)."""

from __future__ import annotations

import pytest

from nenscope.core import NotComputableError
from nenscope.scoring import (
    ChoiCategory,
    PercistCategory,
    PercistScan,
    RecistCategory,
    RecistLesion,
    choi_response,
    percist_blood_pool_threshold,
    percist_measurable_threshold,
    percist_response,
    recist_response,
    select_target_lesions,
)

# ---------------------------------------------------------------- PERCIST (Wahl 2009, Table 6)


def _scan(
    *peaks: float, liver: float = 1.0, sd: float = 0.1, tlgs: tuple[float, ...] = ()
) -> PercistScan:
    return PercistScan(sulpeaks=peaks, liver_mean=liver, liver_sd=sd, tlgs=tlgs)


def test_percist_thresholds_by_hand() -> None:
    assert percist_measurable_threshold(2.0, 0.25) == pytest.approx(3.5, rel=1e-12)
    assert percist_blood_pool_threshold(1.5, 0.25) == pytest.approx(3.5, rel=1e-12)
    with pytest.raises(ValueError, match="liver_mean"):
        percist_measurable_threshold(0.0, 0.1)
    with pytest.raises(ValueError, match="blood_mean"):
        percist_blood_pool_threshold(1.0, -0.1)


@pytest.mark.parametrize(
    ("base", "follow", "expected"),
    [
        (10.0, 7.0, PercistCategory.PMR),  # -30 % exactly and -3.0 SUL: "minimum of 30 %"
        (10.0, 7.01, PercistCategory.SMD),  # -29.9 %
        (2.5, 1.7, PercistCategory.PMR),  # -32 % and -0.8 SUL exactly: "at least 0.8"
        (2.5, 1.75, PercistCategory.SMD),  # -30 % but -0.75 SUL < 0.8
        (10.0, 13.0, PercistCategory.SMD),  # +30 % exactly: PMD needs > 30 %
        (10.0, 13.01, PercistCategory.PMD),  # +30.1 % and +3.01 SUL
        (2.5, 3.3, PercistCategory.SMD),  # +32 % but +0.8 exactly: PMD needs > 0.8
        (2.5, 3.31, PercistCategory.PMD),
        (10.0, 1.0, PercistCategory.CMR),  # at the liver mean (1.0)
        (10.0, 1.01, PercistCategory.PMR),
    ],
)
def test_percist_boundaries(base: float, follow: float, expected: PercistCategory) -> None:
    result = percist_response(_scan(base), _scan(follow))
    assert result.category is expected
    assert result.relative_change == pytest.approx(follow / base - 1, rel=1e-12)


def test_percist_new_lesions_tlg_empty_followup_and_errors() -> None:
    assert percist_response(_scan(5.0), _scan(2.0), new_lesions=True).category is (
        PercistCategory.PMD
    )
    # Summed TLG of the 5 hottest: 100 -> 176 is +76 % > 75 %: PMD although SULpeak is stable.
    tlg = percist_response(_scan(5.0, tlgs=(100.0,)), _scan(5.0, tlgs=(176.0,)))
    assert tlg.category is PercistCategory.PMD
    same = percist_response(_scan(5.0, tlgs=(100.0,)), _scan(5.0, tlgs=(175.0,)))
    assert same.category is PercistCategory.SMD
    # No lesion left at follow-up: CMR.
    assert percist_response(_scan(5.0), _scan()).category is PercistCategory.CMR
    # Baseline lesion below 1.5 × 1.0 + 2 × 0.1 = 1.7: not measurable.
    with pytest.raises(NotComputableError, match="measurable"):
        percist_response(_scan(1.69), _scan(1.0))
    with pytest.raises(ValueError, match="tlgs"):
        _scan(1.0, 2.0, tlgs=(1.0,))
    with pytest.raises(ValueError, match="liver_mean"):
        _scan(3.0, liver=0.0)


def test_percist_warnings() -> None:
    # Liver 1.0 -> 1.25: +25 % > 20 % -> warning; 1.0 -> 1.2 is exactly 20 % and 0.2 SUL: none.
    drift = percist_response(_scan(5.0), _scan(5.0, liver=1.25))
    assert any("liver SULmean" in w for w in drift.warnings)
    ok = percist_response(_scan(5.0), _scan(5.0, liver=1.2))
    assert ok.warnings == ()
    big = percist_response(_scan(5.0, liver=2.0), _scan(5.0, liver=2.3))  # 15 % but 0.3 SUL
    assert any("liver SULmean" in w for w in big.warnings)
    sstr = percist_response(_scan(5.0), _scan(5.0), is_fdg=False)
    assert any("exploratory" in w for w in sstr.warnings)


# ---------------------------------------------------------------- RECIST 1.1 (Eisenhauer 2009)


def _lesion(lid: str, organ: str, ld: float, sa: float, node: bool = False) -> RecistLesion:
    return RecistLesion(
        lesion_id=lid, organ=organ, is_node=node, longest_diameter_mm=ld, short_axis_mm=sa
    )


def test_target_selection_rules() -> None:
    lesions = [
        _lesion("l1", "liver", 50, 30),
        _lesion("l2", "liver", 40, 20),
        _lesion("l3", "liver", 60, 40),  # third liver lesion: largest two only
        _lesion("n1", "node", 30, 15, node=True),  # short axis 15: measurable node
        _lesion("n2", "node", 30, 14.9, node=True),  # pathological, not measurable
        _lesion("p1", "lung", 10, 5),  # LD 10: measurable
        _lesion("p2", "lung", 9.9, 5),
        _lesion("b1", "bone", 20, 15),
        _lesion("s1", "spleen", 12, 10),
    ]
    chosen = [t.lesion_id for t in select_target_lesions(lesions)]
    # Sorted by RECIST diameter (SA for nodes): l3 60, l1 50, (l2 40 skipped: 2 per organ),
    # b1 20, n1 15, s1 12 -> five targets; p1 (10) is left out by the total of 5.
    assert chosen == ["l3", "l1", "b1", "n1", "s1"]
    assert _lesion("n", "node", 30, 15, node=True).diameter_mm == 15
    with pytest.raises(ValueError, match="diameters"):
        _lesion("x", "liver", -1, 0)


def _follow(targets: list[RecistLesion], scale: float) -> dict[str, RecistLesion]:
    return {
        t.lesion_id: _lesion(
            t.lesion_id, t.organ, t.longest_diameter_mm * scale, t.short_axis_mm * scale, t.is_node
        )
        for t in targets
    }


TARGETS = [_lesion("a", "liver", 60.0, 30.0), _lesion("b", "lung", 40.0, 20.0)]  # sum 100 mm


@pytest.mark.parametrize(
    ("scale", "nadir", "expected"),
    [
        (0.70, None, RecistCategory.PR),  # -30 % exactly
        (0.71, None, RecistCategory.SD),
        (1.20, None, RecistCategory.PD),  # +20 % and +20 mm
        (1.19, None, RecistCategory.SD),
        (0.36, 30.0, RecistCategory.PD),  # 36 mm vs nadir 30: +20 % and +6 mm
        (0.34, 28.0, RecistCategory.PD),  # 34 vs nadir 28: +21 % and +6 mm; PD beats PR
        (0.24, 20.0, RecistCategory.PR),  # 24 vs 20: +20 % but only +4 mm -> not PD; -76 % PR
        (0.0, None, RecistCategory.CR),
    ],
)
def test_recist_boundaries(scale: float, nadir: float | None, expected: RecistCategory) -> None:
    result = recist_response(TARGETS, _follow(TARGETS, scale), nadir_sum_mm=nadir)
    assert result.category is expected
    assert result.baseline_sum_mm == pytest.approx(100.0)
    assert result.followup_sum_mm == pytest.approx(100.0 * scale)


def test_recist_nodes_new_lesions_and_errors() -> None:
    node = [_lesion("n", "node", 30.0, 20.0, node=True)]
    small = {"n": _lesion("n", "node", 12.0, 9.9, node=True)}
    assert recist_response(node, small).category is RecistCategory.CR  # SA < 10 mm
    ten = {"n": _lesion("n", "node", 12.0, 10.0, node=True)}
    assert recist_response(node, ten).category is RecistCategory.PR  # 10 mm: not normal; -50 %
    same = _follow(TARGETS, 1.0)
    assert recist_response(TARGETS, same, new_lesions=True).category is RecistCategory.PD
    assert recist_response(TARGETS, same, non_target_progression=True).category is (
        RecistCategory.PD
    )
    with pytest.raises(ValueError, match="at least one"):
        recist_response([], {})
    with pytest.raises(ValueError, match="No follow-up"):
        recist_response(TARGETS, {})


# ---------------------------------------------------------------- Choi (JCO 2007, Table 3)


@pytest.mark.parametrize(
    ("follow_mm", "base_hu", "follow_hu", "expected"),
    [
        (90.0, None, None, ChoiCategory.PR),  # -10 % size exactly
        (91.0, None, None, ChoiCategory.SD),
        (100.0, 100.0, 85.0, ChoiCategory.PR),  # -15 % density exactly
        (100.0, 100.0, 86.0, ChoiCategory.SD),
        (110.0, None, None, ChoiCategory.PD),  # +10 % size exactly
        (109.0, None, None, ChoiCategory.SD),
        (110.0, 100.0, 85.0, ChoiCategory.PR),  # +10 % size but PR by density: not PD
        (0.0, None, None, ChoiCategory.CR),
    ],
)
def test_choi_boundaries(
    follow_mm: float, base_hu: float | None, follow_hu: float | None, expected: ChoiCategory
) -> None:
    result = choi_response(
        baseline_sum_mm=100.0,
        followup_sum_mm=follow_mm,
        baseline_hu=base_hu,
        followup_hu=follow_hu,
    )
    assert result.category is expected
    assert result.size_change == pytest.approx(follow_mm / 100.0 - 1.0, rel=1e-12, abs=1e-12)


def test_choi_findings_and_errors() -> None:
    assert choi_response(baseline_sum_mm=100, followup_sum_mm=50, new_lesions=True).category is (
        ChoiCategory.PD
    )
    nodules = choi_response(
        baseline_sum_mm=100, followup_sum_mm=50, new_intratumoural_nodules=True
    )
    assert nodules.category is ChoiCategory.PD
    blocked = choi_response(
        baseline_sum_mm=100, followup_sum_mm=50, nonmeasurable_progression=True
    )
    assert blocked.category is ChoiCategory.SD
    with pytest.raises(ValueError, match="baseline sum"):
        choi_response(baseline_sum_mm=0, followup_sum_mm=1)
    with pytest.raises(ValueError, match="HU"):
        choi_response(baseline_sum_mm=10, followup_sum_mm=10, baseline_hu=0, followup_hu=10)
