"""Derived clinical facts ("tags") of a scenario: what the rule data cannot express itself.

Rules in ``data/rules.toml`` test scenario fields directly and these named tags, each defined
once here with a plain-language description (shown by ``--explain`` and in docs/knowledge.md).
Thresholds come from the guidelines cited in the descriptions.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from nenscope.knowledge.scenario import Scenario
from nenscope.knowledge.vocab import (
    Differentiation,
    ExamId,
    Finding,
    Grade,
    Hereditary,
    MetastaticSite,
    PrimarySite,
    PriorResult,
    Resection,
    RiskFactor,
    Syndrome,
    TumorType,
)

__all__ = ["CONVENTIONAL_IMAGING", "SSTR_EXAMS", "TAGS", "TagSpec", "derive_tags"]

CONVENTIONAL_IMAGING: tuple[ExamId, ...] = (
    ExamId.CT_CAP,
    ExamId.CT_MULTIPHASE,
    ExamId.CT_DUODENUM,
    ExamId.MRI_PANCREAS,
    ExamId.MRI_LIVER,
    ExamId.MRI_LIVER_HEPATOBILIARY,
    ExamId.MRI_NONCONTRAST,
    ExamId.EUS,
)
"""Exams that count as conventional (morphological) imaging of the pancreas and liver."""

SSTR_EXAMS: tuple[ExamId, ...] = (
    ExamId.GA68_SSTR_PET,
    ExamId.CU64_SSTR_PET,
    ExamId.IN111_SSTR_SPECT,
    ExamId.SSTR_ANTAGONIST_PET,
)
"""Exams that image somatostatin receptors."""

SMALL_PRIMARY_CM = 1.0
"""Size below which an appendiceal, rectal or type-1 gastric NET is low risk (ENETS 2023)."""

LARGE_PRIMARY_CM = 2.0
"""Size above which an appendiceal, rectal or gastric NET needs full staging (ENETS 2023)."""

MTC_PET_CALCITONIN_PG_ML = 150.0
"""Postoperative calcitonin above which whole-body imaging / PET is indicated (ATA 2015, EANM)."""

MTC_EXTENSIVE_CALCITONIN_PG_ML = 500.0
"""Preoperative calcitonin above which distant staging is indicated (ATA 2015)."""

AGGRESSIVE_DOUBLING_MONTHS = 12.0
"""Calcitonin/CEA doubling time below which MTC is treated as aggressive (FDG PET useful)."""

CHI_MAX_AGE_YEARS = 5.0
"""Age below which hyperinsulinaemic hypoglycaemia is read as congenital hyperinsulinism.

CHI is the most frequent cause of persistent hypoglycaemia in neonates, infants and early
childhood (Banerjee 2019; Balogova 2013 for 18F-DOPA); beyond early childhood an insulinoma is
looked for as in adults (MRI/EUS, then GLP-1R PET; ENETS 2023)."""

HIGH_KI67_G2_PERCENT = 10.0
"""Ki-67 above which a G2 NET also gets FDG PET (ESMO 2020, ENETS 2022 advisory)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TagSpec:
    """A derived fact: its name, meaning, and the predicate over a scenario."""

    name: str
    description: str
    test: Callable[[Scenario, frozenset[str]], bool]


def _in(value: object, options: Collection[object]) -> bool:
    return value is not None and value in options


def _prior_is(s: Scenario, exams: Collection[ExamId], result: PriorResult) -> bool:
    return any(s.prior.get(e.value) is result for e in exams)


def _size_lt(s: Scenario, limit: float) -> bool:
    return s.size_cm is not None and s.size_cm < limit


def _size_gt(s: Scenario, limit: float) -> bool:
    return s.size_cm is not None and s.size_cm > limit


def _low_grade(s: Scenario) -> bool:
    return s.effective_grade in (None, Grade.G1)


def _is_ppgl(s: Scenario) -> bool:
    carrier_only = s.tumor_type is None and _in(
        s.hereditary, (Hereditary.SDHB, Hereditary.SDHD, Hereditary.SDHX, Hereditary.EPAS1)
    )
    return (
        carrier_only
        or _in(s.tumor_type, (TumorType.PHEOCHROMOCYTOMA, TumorType.PARAGANGLIOMA))
        or s.syndrome is Syndrome.CATECHOLAMINE_EXCESS
        or _in(
            s.primary_site,
            (PrimarySite.HEAD_NECK_PARAGANGLIA, PrimarySite.THORACO_ABDOMINAL_PARAGANGLIA),
        )
    )


def _is_nec(s: Scenario) -> bool:
    return (
        _in(s.tumor_type, (TumorType.NEC, TumorType.MINEN))
        or s.differentiation is Differentiation.POOR
    )


def _is_mtc(s: Scenario) -> bool:
    return s.tumor_type is TumorType.MTC or (
        s.primary_site is PrimarySite.THYROID and s.tumor_type in (None, TumorType.NET)
    )


def _high_risk_small_primary(s: Scenario) -> bool:
    return (
        _size_gt(s, LARGE_PRIMARY_CM)
        or bool(s.risk_factors)
        or _in(s.effective_grade, (Grade.G2, Grade.G3))
        or s.resection is Resection.INCOMPLETE
        or bool(s.metastatic)
    )


def _low_risk_small_primary(s: Scenario) -> bool:
    return (
        not s.findings
        and _size_lt(s, SMALL_PRIMARY_CM)
        and not s.risk_factors
        and _low_grade(s)
        and s.resection is not Resection.INCOMPLETE
        and not s.metastatic
    )


def _intermediate_small_primary(s: Scenario) -> bool:
    return (
        s.size_cm is not None
        and SMALL_PRIMARY_CM <= s.size_cm <= LARGE_PRIMARY_CM
        and not _high_risk_small_primary(s)
    )


_LOCAL_ONLY_RISKS = frozenset({RiskFactor.POSITIVE_MARGIN})
"""Risk factors that call for local re-staging (EUS/pelvic MRI, re-resection), not whole-body
staging, of an otherwise low-risk rectal NET (ENETS 2023 colorectal: full staging for > 20 mm,
G2/G3, muscularis invasion or lymphovascular invasion)."""


def _rectal_high_risk(s: Scenario) -> bool:
    return (
        _size_gt(s, LARGE_PRIMARY_CM)
        or any(r not in _LOCAL_ONLY_RISKS for r in s.risk_factors)
        or _in(s.effective_grade, (Grade.G2, Grade.G3))
        or bool(s.metastatic)
    )


def _rectal_local_restaging(s: Scenario) -> bool:
    """Tell whether a rectal NET up to 2 cm needs only local staging (R1 margin or 1-2 cm)."""
    margin = s.resection is Resection.INCOMPLETE or bool(set(s.risk_factors) & _LOCAL_ONLY_RISKS)
    sized = s.size_cm is not None and s.size_cm >= SMALL_PRIMARY_CM
    small = s.size_cm is None or s.size_cm <= LARGE_PRIMARY_CM
    return not _rectal_high_risk(s) and small and (margin or sized)


def _site_tag(
    site: PrimarySite, predicate: Callable[[Scenario], bool]
) -> Callable[[Scenario, frozenset[str]], bool]:
    """Tag test: a well-differentiated NET of ``site`` for which ``predicate`` holds."""
    return lambda s, t: "wd-net" in t and s.primary_site is site and predicate(s)


def _mtc_aggressive(s: Scenario) -> bool:
    return any(
        v is not None and v < AGGRESSIVE_DOUBLING_MONTHS
        for v in (s.calcitonin_doubling_months, s.cea_doubling_months)
    )


_SPECS: tuple[TagSpec, ...] = (
    TagSpec(
        name="child",
        description="age below 18 years: paediatric activity, prefer non-ionising imaging",
        test=lambda s, t: s.age_years is not None and s.age_years < 18.0,
    ),
    TagSpec(
        name="young",
        description="age below 40 years: MRI preferred for repeated surveillance (no radiation)",
        test=lambda s, t: s.age_years is not None and s.age_years < 40.0,
    ),
    TagSpec(
        name="pregnant",
        description="pregnant (any gestational age)",
        test=lambda s, t: bool(s.pregnant),
    ),
    TagSpec(
        name="breastfeeding", description="breastfeeding", test=lambda s, t: bool(s.breastfeeding)
    ),
    TagSpec(
        name="renal-severe",
        description="eGFR below 30 mL/min/1.73 m² (iodinated contrast and group-I gadolinium "
        "risk; ACR-NKF 2020)",
        test=lambda s, t: s.egfr_ml_min is not None and s.egfr_ml_min < 30.0,
    ),
    TagSpec(
        name="renal-prrt-limit",
        description="eGFR below 50 mL/min (PRRT needs creatinine clearance above 50 mL/min)",
        test=lambda s, t: s.egfr_ml_min is not None and s.egfr_ml_min < 50.0,
    ),
    TagSpec(
        name="ppgl",
        description="phaeochromocytoma or paraganglioma",
        test=lambda s, t: _is_ppgl(s),
    ),
    TagSpec(
        name="pheo",
        description="adrenal phaeochromocytoma",
        test=lambda s, t: (
            "ppgl" in t
            and (
                s.tumor_type is TumorType.PHEOCHROMOCYTOMA or s.primary_site is PrimarySite.ADRENAL
            )
        ),
    ),
    TagSpec(
        name="hn-pgl",
        description="head-and-neck (parasympathetic) paraganglioma",
        test=lambda s, t: "ppgl" in t and s.primary_site is PrimarySite.HEAD_NECK_PARAGANGLIA,
    ),
    TagSpec(
        name="sdhx",
        description="germline SDHx variant (SDHB, SDHD or other SDH subunit)",
        test=lambda s, t: _in(s.hereditary, (Hereditary.SDHB, Hereditary.SDHD, Hereditary.SDHX)),
    ),
    TagSpec(
        name="sdhb",
        description="germline SDHB variant",
        test=lambda s, t: s.hereditary is Hereditary.SDHB,
    ),
    TagSpec(
        name="epas1",
        description="EPAS1/HIF2A (polycythaemia-paraganglioma syndrome): SSTR PET detects only "
        "about a third of lesions",
        test=lambda s, t: s.hereditary is Hereditary.EPAS1,
    ),
    TagSpec(
        name="ppgl-extensive",
        description="PPGL that is extra-adrenal sympathetic, metastatic, suspected malignant or "
        "SDHx-related (EANM/SNMMI 2019 Table 3, last row)",
        test=lambda s, t: (
            "ppgl" in t
            and (
                s.primary_site is PrimarySite.THORACO_ABDOMINAL_PARAGANGLIA
                or bool(s.metastatic)
                or bool(s.suspected_malignant)
                or "sdhx" in t
            )
        ),
    ),
    TagSpec(name="mtc", description="medullary thyroid carcinoma", test=lambda s, t: _is_mtc(s)),
    TagSpec(
        name="mtc-ctn-high",
        description="calcitonin above 150 pg/mL (whole-body imaging; 18F-DOPA PET)",
        test=lambda s, t: (
            s.calcitonin_pg_ml is not None and s.calcitonin_pg_ml > MTC_PET_CALCITONIN_PG_ML
        ),
    ),
    TagSpec(
        name="mtc-ctn-very-high",
        description="calcitonin above 500 pg/mL (distant staging before surgery; ATA 2015)",
        test=lambda s, t: (
            s.calcitonin_pg_ml is not None and s.calcitonin_pg_ml > MTC_EXTENSIVE_CALCITONIN_PG_ML
        ),
    ),
    TagSpec(
        name="mtc-aggressive",
        description="calcitonin or CEA doubling time below 12 months",
        test=lambda s, t: _mtc_aggressive(s),
    ),
    TagSpec(
        name="nec", description="poorly differentiated NEC or MiNEN", test=lambda s, t: _is_nec(s)
    ),
    TagSpec(
        name="g3-net",
        description="well-differentiated NET G3 (Ki-67 above 20 %)",
        test=lambda s, t: (
            "nec" not in t and "ppgl" not in t and "mtc" not in t and s.effective_grade is Grade.G3
        ),
    ),
    TagSpec(
        name="high-grade",
        description="NEC or NET G3: glucose-avid, SSTR expression falls",
        test=lambda s, t: "nec" in t or "g3-net" in t,
    ),
    TagSpec(
        name="wd-net",
        description="well-differentiated NET G1/G2 (or grade not given), not PPGL or MTC",
        test=lambda s, t: not ({"ppgl", "mtc", "high-grade"} & t),
    ),
    TagSpec(
        name="hereditary-carrier",
        description="germline VHL, NF1 or MEN2 (RET) carrier with no tumour, syndrome, finding or "
        "metastasis given: surveillance of a carrier, not of a NET",
        test=lambda s, t: (
            _in(s.hereditary, (Hereditary.VHL, Hereditary.NF1, Hereditary.MEN2))
            and s.tumor_type is None
            and s.primary_site is None
            and s.syndrome in (None, Syndrome.NONE)
            and not s.metastatic
            and not s.findings
        ),
    ),
    TagSpec(
        name="g2-high-ki67",
        description="NET G2 with Ki-67 above 10 %: add FDG PET (prognosis, SSTR-negative disease)",
        test=lambda s, t: (
            "wd-net" in t and s.ki67_percent is not None and s.ki67_percent > HIGH_KI67_G2_PERCENT
        ),
    ),
    TagSpec(
        name="congenital-hyperinsulinism",
        description="hyperinsulinaemic hypoglycaemia in early childhood (under 5 years): focal vs "
        "diffuse CHI",
        test=lambda s, t: (
            _in(s.syndrome, (Syndrome.INSULINOMA, Syndrome.HYPERINSULINAEMIC_HYPOGLYCAEMIA))
            and s.age_years is not None
            and s.age_years < CHI_MAX_AGE_YEARS
        ),
    ),
    TagSpec(
        name="insulinoma",
        description="insulinoma or endogenous hyperinsulinaemic hypoglycaemia beyond early "
        "childhood (adults and older children)",
        test=lambda s, t: (
            _in(s.syndrome, (Syndrome.INSULINOMA, Syndrome.HYPERINSULINAEMIC_HYPOGLYCAEMIA))
            and "congenital-hyperinsulinism" not in t
            and not ({"ppgl", "mtc"} & t)
        ),
    ),
    TagSpec(
        name="insulinoma-malignant",
        description="metastatic, suspected malignant or high-grade insulinoma (SSTR2 more often "
        "than GLP-1R)",
        test=lambda s, t: (
            "insulinoma" in t and bool(s.metastatic or s.suspected_malignant or "high-grade" in t)
        ),
    ),
    TagSpec(
        name="insulinoma-benign",
        description="insulinoma not known or suspected to be malignant (GLP-1R dense)",
        test=lambda s, t: "insulinoma" in t and "insulinoma-malignant" not in t,
    ),
    TagSpec(
        name="gastrinoma",
        description="gastrinoma (Zollinger-Ellison) or type-2 gastric NET",
        test=lambda s, t: s.syndrome is Syndrome.GASTRINOMA or s.gastric_type == 2,
    ),
    TagSpec(
        name="men1",
        description="multiple endocrine neoplasia type 1 (germline MEN1)",
        test=lambda s, t: s.hereditary is Hereditary.MEN1,
    ),
    TagSpec(
        name="lung-carcinoid",
        description="well-differentiated lung or thymic NET (carcinoid)",
        test=lambda s, t: (
            "wd-net" in t and _in(s.primary_site, (PrimarySite.LUNG, PrimarySite.THYMUS))
        ),
    ),
    TagSpec(
        name="atypical-carcinoid",
        description="atypical lung carcinoid (G2) or thymic carcinoid: often FDG-avid",
        test=lambda s, t: (
            "lung-carcinoid" in t
            and (s.effective_grade is Grade.G2 or s.primary_site is PrimarySite.THYMUS)
        ),
    ),
    TagSpec(
        name="unknown-primary",
        description="primary site unknown",
        test=lambda s, t: s.primary_site is PrimarySite.UNKNOWN,
    ),
    TagSpec(
        name="appendix-low-risk",
        description="appendiceal NET below 1 cm, G1, no risk factor, completely removed",
        test=_site_tag(PrimarySite.APPENDIX, _low_risk_small_primary),
    ),
    TagSpec(
        name="appendix-intermediate",
        description="appendiceal NET 1-2 cm without risk factor",
        test=_site_tag(PrimarySite.APPENDIX, _intermediate_small_primary),
    ),
    TagSpec(
        name="appendix-high-risk",
        description="appendiceal NET above 2 cm, or with a risk factor, G2/G3, R1 or metastases",
        test=_site_tag(PrimarySite.APPENDIX, _high_risk_small_primary),
    ),
    TagSpec(
        name="rectal-low-risk",
        description="rectal NET below 1 cm, G1, no risk factor, completely removed",
        test=_site_tag(PrimarySite.RECTUM, _low_risk_small_primary),
    ),
    TagSpec(
        name="rectal-intermediate",
        description="rectal NET 1-2 cm, or up to 2 cm with a positive margin only, G1, no "
        "muscularis invasion or LVI: local staging (EUS, pelvic MRI)",
        test=_site_tag(PrimarySite.RECTUM, _rectal_local_restaging),
    ),
    TagSpec(
        name="rectal-high-risk",
        description="rectal NET above 2 cm, or with muscularis invasion or LVI, G2/G3 or "
        "metastases (ENETS 2023: pelvic MRI, CT and SSTR PET)",
        test=_site_tag(PrimarySite.RECTUM, _rectal_high_risk),
    ),
    TagSpec(
        name="gastric-type1-low-risk",
        description="type-1 gastric NET up to 1 cm, G1, no invasion, not metastatic",
        test=lambda s, t: (
            "wd-net" in t
            and s.gastric_type == 1
            and not s.findings
            and s.size_cm is not None
            and s.size_cm <= SMALL_PRIMARY_CM
            and _low_grade(s)
            and not s.risk_factors
            and not s.metastatic
        ),
    ),
    TagSpec(
        name="gastric-type1-high-risk",
        description="type-1 gastric NET above 1 cm, G2/G3, invasive or metastatic",
        test=lambda s, t: (
            "wd-net" in t and s.gastric_type == 1 and "gastric-type1-low-risk" not in t
        ),
    ),
    TagSpec(
        name="gastric-type3",
        description="sporadic type-3 gastric NET: staged like any NET",
        test=lambda s, t: s.gastric_type == 3,
    ),
    TagSpec(
        name="duodenal-small",
        description="non-functioning duodenal NET up to 1 cm, G1, not metastatic",
        test=lambda s, t: (
            "wd-net" in t
            and s.primary_site is PrimarySite.DUODENUM
            and not s.findings
            and s.size_cm is not None
            and s.size_cm <= SMALL_PRIMARY_CM
            and _low_grade(s)
            and s.syndrome in (None, Syndrome.NONE)
            and not s.metastatic
        ),
    ),
    TagSpec(
        name="desmoplastic",
        description="desmoplastic mesenteric mass or mesenteric metastasis",
        test=lambda s, t: (
            Finding.DESMOPLASTIC_MESENTERIC_MASS in s.findings
            or MetastaticSite.MESENTERY in s.metastatic_sites
        ),
    ),
    TagSpec(
        name="liver-mets",
        description="liver metastases",
        test=lambda s, t: (
            MetastaticSite.LIVER in s.metastatic_sites or Finding.LIVER_ONLY in s.findings
        ),
    ),
    TagSpec(
        name="sstr-mismatch",
        description="SSTR-negative or discordant lesion: look for FDG-avid disease",
        test=lambda s, t: (
            Finding.SSTR_NEGATIVE_LESION in s.findings or Finding.DISCORDANT_LESION in s.findings
        ),
    ),
    TagSpec(
        name="ci-negative",
        description="conventional imaging (CT, MRI or EUS) done and negative, none positive",
        test=lambda s, t: (
            _prior_is(s, CONVENTIONAL_IMAGING, PriorResult.NEGATIVE)
            and not _prior_is(s, CONVENTIONAL_IMAGING, PriorResult.POSITIVE)
        ),
    ),
    TagSpec(
        name="ci-done",
        description="conventional imaging already done (any result)",
        test=lambda s, t: any(e.value in s.prior for e in CONVENTIONAL_IMAGING),
    ),
    TagSpec(
        name="sstr-done",
        description="SSTR imaging already done (any result)",
        test=lambda s, t: any(e.value in s.prior for e in SSTR_EXAMS),
    ),
    TagSpec(
        name="sstr-negative",
        description="SSTR imaging done and negative",
        test=lambda s, t: (
            _prior_is(s, SSTR_EXAMS, PriorResult.NEGATIVE)
            and not _prior_is(s, SSTR_EXAMS, PriorResult.POSITIVE)
        ),
    ),
    TagSpec(
        name="postoperative",
        description="primary already removed (complete or incomplete)",
        test=lambda s, t: _in(s.resection, (Resection.COMPLETE, Resection.INCOMPLETE)),
    ),
    TagSpec(
        name="biochemical-evidence",
        description="hormonal syndrome or rising markers (biochemical evidence of NET)",
        test=lambda s, t: (
            s.syndrome not in (None, Syndrome.NONE) or Finding.RISING_MARKERS in s.findings
        ),
    ),
    TagSpec(
        name="muscularis-invasion",
        description="muscularis propria invasion",
        test=lambda s, t: RiskFactor.MUSCULARIS_INVASION in s.risk_factors,
    ),
)

TAGS: dict[str, TagSpec] = {spec.name: spec for spec in _SPECS}
"""Every derived tag by name, in evaluation order (a tag may use the tags before it)."""


def derive_tags(scenario: Scenario) -> frozenset[str]:
    """Evaluate every tag on a scenario.

    Examples
    --------
    >>> from nenscope.knowledge.scenario import parse_scenario
    >>> tags = derive_tags(parse_scenario({"question": "staging", "ki67_percent": 30}))
    >>> sorted(tags & {"g3-net", "high-grade", "wd-net"})
    ['g3-net', 'high-grade']
    """
    tags: set[str] = set()
    for spec in _SPECS:
        if spec.test(scenario, frozenset(tags)):
            tags.add(spec.name)
    return frozenset(tags)
