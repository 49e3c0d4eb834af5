"""Registry of the IBSI 1 features: one frozen :class:`FeatureSpec` per feature (STYLE 4.8).

Features are plain functions grouped by family; each family function computes every feature
of its family at once (the matrices are shared), and the registry lists, per feature, its
IBSI identifier, family, unit and the family function that produces it. Nothing is
discovered by reflection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from nenscope.radiomics import glcm, gldzm, glrlm, glszm, ngldm, ngtdm
from nenscope.radiomics.histogram import HISTOGRAM_IDS, compute_histogram_features
from nenscope.radiomics.ivh import compute_ivh_features
from nenscope.radiomics.local_intensity import compute_local_intensity_features
from nenscope.radiomics.morphology import compute_morphology_features
from nenscope.radiomics.processing import PreparedRoi
from nenscope.radiomics.statistics import STATISTICS_IDS, compute_statistics_features

__all__ = [
    "FAMILY_COMPUTE",
    "FEATURES",
    "Family",
    "FamilyCompute",
    "FeatureSpec",
    "features_of",
]


class Family(StrEnum):
    """IBSI 1 feature families (reference manual chapter 3)."""

    MORPHOLOGY = "morphology"
    LOCAL_INTENSITY = "local_intensity"
    STATISTICS = "statistics"
    INTENSITY_HISTOGRAM = "intensity_histogram"
    IVH = "intensity_volume_histogram"
    GLCM = "glcm"
    GLRLM = "glrlm"
    GLSZM = "glszm"
    GLDZM = "gldzm"
    NGTDM = "ngtdm"
    NGLDM = "ngldm"


FamilyCompute = Callable[[PreparedRoi], dict[str, float]]
"""A family function: prepared ROI in, ``{KEY: value}`` out (KEY = IBSI id [+ suffix])."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FeatureSpec:
    """One IBSI feature.

    Parameters
    ----------
    name
        snake_case name, e.g. ``"intensity_mean"``.
    ibsi_id
        IBSI 4-character identifier (e.g. ``"Q4LE"``); ``None`` marks a non-IBSI feature.
    family
        Feature family.
    unit
        Unit in words: ``"mm3"``, ``"image unit"``, ``"1"`` (dimensionless) …
    compute
        The family function whose output holds this feature (under ``ibsi_id``, with the
        DESIGN.md aggregation suffix for GLCM/GLRLM/GLSZM/GLDZM/NGTDM/NGLDM).
    """

    name: str
    ibsi_id: str | None
    family: Family
    unit: str
    compute: FamilyCompute


_MORPHOLOGY: tuple[tuple[str, str, str], ...] = (
    ("morph_volume", "RNU0", "mm3"),
    ("morph_approx_volume", "YEKZ", "mm3"),
    ("morph_area", "C0JK", "mm2"),
    ("morph_surface_volume_ratio", "2PR5", "1/mm"),
    ("morph_compactness_1", "SKGS", "1"),
    ("morph_compactness_2", "BQWJ", "1"),
    ("morph_spherical_disproportion", "KRCK", "1"),
    ("morph_sphericity", "QCFX", "1"),
    ("morph_asphericity", "25C7", "1"),
    ("morph_centre_of_mass_shift", "KLMA", "mm"),
    ("morph_max_3d_diameter", "L0JK", "mm"),
    ("morph_major_axis_length", "TDIC", "mm"),
    ("morph_minor_axis_length", "P9VJ", "mm"),
    ("morph_least_axis_length", "7J51", "mm"),
    ("morph_elongation", "Q3CK", "1"),
    ("morph_flatness", "N17B", "1"),
    ("morph_volume_density_aabb", "PBX1", "1"),
    ("morph_area_density_aabb", "R59B", "1"),
    ("morph_volume_density_aee", "6BDE", "1"),
    ("morph_area_density_aee", "RDD2", "1"),
    ("morph_volume_density_convex_hull", "R3ER", "1"),
    ("morph_area_density_convex_hull", "7T7F", "1"),
    ("morph_integrated_intensity", "99N0", "image unit × mm3"),
    ("morph_moran_i", "N365", "1"),
    ("morph_geary_c", "NPT7", "1"),
)

_IVH: tuple[tuple[str, str, str], ...] = (
    ("ivh_volume_fraction_at_10_percent_intensity", "BC2M_V10", "1"),
    ("ivh_volume_fraction_at_90_percent_intensity", "BC2M_V90", "1"),
    ("ivh_intensity_at_10_percent_volume", "GBPN_I10", "IVH grey level"),
    ("ivh_intensity_at_90_percent_volume", "GBPN_I90", "IVH grey level"),
    ("ivh_volume_fraction_difference_v10_v90", "DDTU", "1"),
    ("ivh_intensity_difference_i10_i90", "CNV2", "IVH grey level"),
    ("ivh_area_under_curve", "9CMM", "1"),
)

_STAT_UNITS = {
    "variance": "image unit2",
    "energy": "image unit2",
    "skewness": "1",
    "kurtosis": "1",
    "coefficient_of_variation": "1",
    "quartile_coefficient_of_dispersion": "1",
}

FAMILY_COMPUTE: dict[Family, FamilyCompute] = {
    Family.MORPHOLOGY: compute_morphology_features,
    Family.LOCAL_INTENSITY: compute_local_intensity_features,
    Family.STATISTICS: compute_statistics_features,
    Family.INTENSITY_HISTOGRAM: compute_histogram_features,
    Family.IVH: compute_ivh_features,
}


def _texture(
    fn: Callable[..., dict[str, float]],
) -> FamilyCompute:
    """Adapt a texture family (``levels, *, n_levels, spacing_mm, approach``) to a ROI."""

    def compute(roi: PreparedRoi) -> dict[str, float]:
        return fn(
            roi.levels, n_levels=roi.n_levels, spacing_mm=roi.spacing_mm, approach=roi.approach
        )

    compute.__name__ = fn.__name__
    compute.__doc__ = fn.__doc__
    return compute


_TEXTURE_MODULES = {
    Family.GLCM: (glcm.FEATURES, glcm.compute_glcm_features),
    Family.GLRLM: (glrlm.FEATURES, glrlm.compute_glrlm_features),
    Family.GLSZM: (glszm.FEATURES, glszm.compute_glszm_features),
    Family.GLDZM: (gldzm.FEATURES, gldzm.compute_gldzm_features),
    Family.NGTDM: (ngtdm.FEATURES, ngtdm.compute_ngtdm_features),
    Family.NGLDM: (ngldm.FEATURES, ngldm.compute_ngldm_features),
}
for _family, (_, _fn) in _TEXTURE_MODULES.items():
    FAMILY_COMPUTE[_family] = _texture(_fn)


def _compute_gldzm(roi: PreparedRoi) -> dict[str, float]:
    """GLDZM with distances measured in the morphological mask (IBSI 1 section 3.9)."""
    return gldzm.compute_gldzm_features(
        roi.levels,
        n_levels=roi.n_levels,
        spacing_mm=roi.spacing_mm,
        approach=roi.approach,
        morphological_mask=roi.morph_mask,
    )


FAMILY_COMPUTE[Family.GLDZM] = _compute_gldzm
"""Family → the function that computes all its features from a :class:`PreparedRoi`."""


_TEXTURE_UNITS = {
    # Texture features are dimensionless or in grey levels / counts; the few with a unit:
    "60VM": "grey level",  # joint average
    "ZGXS": "grey level",  # sum average
    "TF7R": "grey level",  # difference average
}

_IH_DIMENSIONLESS = ("entropy", "uniformity", "skewness", "kurtosis")


def _family_specs(family: Family, rows: list[tuple[str, str, str]]) -> list[FeatureSpec]:
    """Specs of one family from (name, IBSI id, unit) rows."""
    compute = FAMILY_COMPUTE[family]
    return [
        FeatureSpec(name=name, ibsi_id=code, family=family, unit=unit, compute=compute)
        for name, code, unit in rows
    ]


def _specs() -> tuple[FeatureSpec, ...]:
    tables: dict[Family, list[tuple[str, str, str]]] = {
        Family.MORPHOLOGY: list(_MORPHOLOGY),
        Family.LOCAL_INTENSITY: [
            ("loc_local_peak", "VJGA", "image unit"),
            ("loc_global_peak", "0F91", "image unit"),
        ],
        Family.STATISTICS: [
            (f"stat_{name}", code, _STAT_UNITS.get(name, "image unit"))
            for name, code in STATISTICS_IDS.items()
        ],
        Family.INTENSITY_HISTOGRAM: [
            (f"ih_{name}", code, "1" if name in _IH_DIMENSIONLESS else "grey level")
            for name, code in HISTOGRAM_IDS.items()
        ],
        Family.IVH: list(_IVH),
    }
    for family, (names, _) in _TEXTURE_MODULES.items():
        tables[family] = [(name, code, _TEXTURE_UNITS.get(code, "1")) for name, code in names]
    specs: list[FeatureSpec] = []
    for family in Family:
        specs.extend(_family_specs(family, tables[family]))
    return tuple(specs)


FEATURES: tuple[FeatureSpec, ...] = _specs()
"""Every registered feature, in IBSI family order."""


def features_of(family: Family) -> tuple[FeatureSpec, ...]:
    """Return the registered features of one family.

    Examples
    --------
    >>> [f.ibsi_id for f in features_of(Family.LOCAL_INTENSITY)]
    ['VJGA', '0F91']
    """
    return tuple(f for f in FEATURES if f.family is family)
