"""Derived tags (knowledge/facts.py): thresholds at their guideline boundaries."""

from __future__ import annotations

from typing import Any

import pytest

from nenscope.knowledge.facts import TAGS, derive_tags
from nenscope.knowledge.scenario import parse_scenario


def _tags(**fields: Any) -> frozenset[str]:
    return derive_tags(parse_scenario({"question": "staging", **fields}))


def test_every_tag_has_a_description() -> None:
    for name, spec in TAGS.items():
        assert spec.name == name
        assert len(spec.description) > 5


@pytest.mark.parametrize(
    ("fields", "present", "absent"),
    [
        ({"ki67_percent": 2}, {"wd-net"}, {"high-grade"}),
        ({"ki67_percent": 21}, {"g3-net", "high-grade"}, {"wd-net", "nec"}),
        ({"ki67_percent": 10.5, "grade": "G2"}, {"g2-high-ki67"}, set()),
        ({"ki67_percent": 10.0, "grade": "G2"}, set(), {"g2-high-ki67"}),  # > 10 %, not >=
        ({"tumor_type": "minen"}, {"nec", "high-grade"}, {"wd-net"}),
        ({"differentiation": "poor"}, {"nec"}, {"g3-net"}),
        ({"age_years": 17.9}, {"child", "young"}, set()),
        ({"age_years": 18}, {"young"}, {"child"}),
        ({"egfr_ml_min": 29.9}, {"renal-severe", "renal-prrt-limit"}, set()),
        ({"egfr_ml_min": 45}, {"renal-prrt-limit"}, {"renal-severe"}),
        (
            {"primary_site": "appendix", "size_cm": 0.9},
            {"appendix-low-risk"},
            {"appendix-intermediate"},
        ),
        (
            {"primary_site": "appendix", "size_cm": 1.0},
            {"appendix-intermediate"},
            {"appendix-low-risk"},
        ),
        ({"primary_site": "appendix", "size_cm": 2.1}, {"appendix-high-risk"}, set()),
        (
            {
                "primary_site": "appendix",
                "size_cm": 0.8,
                "risk_factors": ["mesoappendix-invasion"],
            },
            {"appendix-high-risk"},
            {"appendix-low-risk"},
        ),
        (
            {"primary_site": "rectum", "size_cm": 0.8, "grade": "G2"},
            {"rectal-high-risk"},
            {"rectal-low-risk"},
        ),
        (
            {"primary_site": "stomach", "gastric_type": 1, "size_cm": 1.0},
            {"gastric-type1-low-risk"},
            set(),
        ),
        (
            {"primary_site": "stomach", "gastric_type": 1, "size_cm": 1.2},
            {"gastric-type1-high-risk"},
            set(),
        ),
        ({"gastric_type": 2}, {"gastrinoma"}, set()),
        ({"syndrome": "insulinoma"}, {"insulinoma-benign"}, {"insulinoma-malignant"}),
        (
            {"syndrome": "insulinoma", "metastatic": True},
            {"insulinoma-malignant"},
            {"insulinoma-benign"},
        ),
        (
            {"syndrome": "hyperinsulinaemic-hypoglycaemia", "age_years": 1},
            {"congenital-hyperinsulinism"},
            {"insulinoma"},
        ),
        ({"tumor_type": "pheochromocytoma"}, {"ppgl", "pheo"}, {"ppgl-extensive", "wd-net"}),
        (
            {"tumor_type": "pheochromocytoma", "hereditary": "sdhd"},
            {"ppgl-extensive", "sdhx"},
            set(),
        ),
        ({"hereditary": "sdhb"}, {"ppgl", "sdhb"}, {"wd-net"}),  # carrier without a tumour
        ({"primary_site": "head-neck-paraganglia"}, {"hn-pgl"}, set()),
        ({"tumor_type": "mtc", "calcitonin_pg_ml": 150}, {"mtc"}, {"mtc-ctn-high"}),
        ({"tumor_type": "mtc", "calcitonin_pg_ml": 151}, {"mtc-ctn-high"}, {"mtc-ctn-very-high"}),
        ({"tumor_type": "mtc", "cea_doubling_months": 11}, {"mtc-aggressive"}, set()),
        ({"primary_site": "lung", "grade": "G2"}, {"lung-carcinoid", "atypical-carcinoid"}, set()),
        ({"primary_site": "lung", "grade": "G1"}, {"lung-carcinoid"}, {"atypical-carcinoid"}),
        ({"prior": {"ct-cap": "negative", "eus": "negative"}}, {"ci-negative", "ci-done"}, set()),
        ({"prior": {"ct-cap": "negative", "eus": "positive"}}, {"ci-done"}, {"ci-negative"}),
        ({"prior": {"ga68-sstr-pet": "negative"}}, {"sstr-negative", "sstr-done"}, set()),
        ({"findings": ["discordant-lesion"]}, {"sstr-mismatch"}, set()),
        ({"metastatic_sites": ["mesentery"]}, {"desmoplastic"}, set()),
    ],
)
def test_tag_boundaries(fields: dict[str, Any], present: set[str], absent: set[str]) -> None:
    tags = _tags(**fields)
    assert present <= tags, f"missing {present - tags} in {sorted(tags)}"
    assert not absent & tags, f"unexpected {absent & tags}"
