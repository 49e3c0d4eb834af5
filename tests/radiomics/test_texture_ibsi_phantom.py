"""The six texture families on the IBSI 1 digital phantom: every reference value, key contract.

One parametrised test per (family, feature, aggregation) row of the IBSI reference table; the
hand-derived and edge-case tests of each family stay in ``test_<family>.py``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest

from nenscope.radiomics import Approach, gldzm, glrlm, glszm, ngldm, ngtdm
from nenscope.radiomics import glcm as glcm_module
from tests.radiomics._texture_fixtures import (
    PHANTOM_N_LEVELS,
    PHANTOM_SPACING_MM,
    ReferenceRow,
    ibsi_doc_values,
    phantom_levels,
    phantom_reference,
    round_3_significant,
    tag_id,
)

Compute = Callable[..., dict[str, float]]

AVERAGED_AND_MERGED = {
    Approach.D2: ("_2D_avg", "_2D_smrg"),
    Approach.D25: ("_2.5D_dmrg", "_2.5D_mrg"),
    Approach.D3: ("_3D_avg", "_3D_mrg"),
}
"""DESIGN.md key suffixes of GLCM and GLRLM: both IBSI aggregation methods per approach."""

PLAIN = {Approach.D2: ("_2D",), Approach.D25: ("_2.5D",), Approach.D3: ("_3D",)}
"""Key suffix of the families IBSI aggregates one way per approach."""


@dataclass(frozen=True)
class Family:
    name: str
    tag_prefix: str  # prefix of the MIRP/IBSI reference-table tags
    compute: Compute
    codes: tuple[str, ...]
    suffixes: dict[Approach, tuple[str, ...]]
    n_rows: int  # reference rows in the IBSI manual for the digital phantom


def _codes(features: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    return tuple(code for _, code in features)


FAMILIES = (
    # Rows: 25 GLCM features x 6 aggregations, 16 GLRLM x 6, 16 GLSZM/GLDZM x 3,
    # 5 NGTDM x 3, 17 NGLDM x 3.
    Family(
        "glcm",
        "cm_",
        glcm_module.compute_glcm_features,
        _codes(glcm_module.FEATURES),
        AVERAGED_AND_MERGED,
        150,
    ),
    Family(
        "glrlm",
        "rlm_",
        glrlm.compute_glrlm_features,
        _codes(glrlm.FEATURES),
        AVERAGED_AND_MERGED,
        96,
    ),
    Family("glszm", "szm_", glszm.compute_glszm_features, _codes(glszm.FEATURES), PLAIN, 48),
    Family("gldzm", "dzm_", gldzm.compute_gldzm_features, _codes(gldzm.FEATURES), PLAIN, 48),
    Family("ngtdm", "ngt_", ngtdm.compute_ngtdm_features, _codes(ngtdm.FEATURES), PLAIN, 15),
    Family("ngldm", "ngl_", ngldm.compute_ngldm_features, _codes(ngldm.FEATURES), PLAIN, 51),
)
BY_NAME = {f.name: f for f in FAMILIES}
ROWS = [(f.name, row) for f in FAMILIES for row in phantom_reference(f.tag_prefix, f.codes)]


@functools.cache
def phantom_features(family: str, approach: Approach) -> dict[str, float]:
    levels: npt.NDArray[np.int64] = phantom_levels()
    return BY_NAME[family].compute(
        levels, n_levels=PHANTOM_N_LEVELS, spacing_mm=PHANTOM_SPACING_MM, approach=approach
    )


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_every_phantom_reference_row_is_tested(family: Family) -> None:
    assert len(phantom_reference(family.tag_prefix, family.codes)) == family.n_rows


@pytest.mark.parametrize(
    ("family", "row"), ROWS, ids=lambda v: v if isinstance(v, str) else tag_id(v)
)
def test_ibsi_digital_phantom(family: str, row: ReferenceRow) -> None:
    # IBSI/MIRP check: 3 significant digits, then |x - ref| <= tolerance (0 for the phantom).
    value = phantom_features(family, row.approach)[row.key]
    assert abs(round_3_significant(value) - row.value) <= row.tolerance, (
        f"{row.key} ({row.tag}): computed {value}, IBSI {row.value} +- {row.tolerance}"
    )


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_codes_agree_with_the_ibsi_documentation(family: Family) -> None:
    # The IBSI doc table lists the code, the MIRP CSV the tag: same value <=> same feature.
    doc = ibsi_doc_values()
    rows = phantom_reference(family.tag_prefix, family.codes)
    wrong = [r.tag for r in rows if doc.get((r.code, r.doc_aggregation)) != r.value]
    assert wrong == []


@pytest.mark.parametrize("approach", list(Approach))
@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
def test_keys_are_codes_with_the_aggregation_suffixes(family: Family, approach: Approach) -> None:
    features = phantom_features(family.name, approach)
    expected = {f"{code}{s}" for code in family.codes for s in family.suffixes[approach]}
    assert set(features) == expected
    assert all(type(v) is float and np.isfinite(v) for v in features.values())


@pytest.mark.parametrize("approach", list(Approach))
def test_ngldm_every_phantom_voxel_has_a_neighbourhood(approach: Approach) -> None:
    # 6XV8 (dependence count percentage) is 1 when every ROI voxel has a neighbourhood.
    assert phantom_features("ngldm", approach)[f"6XV8{PLAIN[approach][0]}"] == 1.0
