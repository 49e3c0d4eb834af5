"""Closed vocabularies of the knowledge base and of clinical scenarios (DESIGN.md tables).

Every value a user can type is a member of one of these ``StrEnum`` classes; user strings are
converted once, at the boundary, by :func:`nenscope.core.enums.parse_option` (STYLE 3.1, 8.4).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ClinicalStatus",
    "Contrast",
    "Differentiation",
    "ExamId",
    "Finding",
    "Grade",
    "Hereditary",
    "Mechanism",
    "MetastaticSite",
    "Modality",
    "OnSsa",
    "PrimarySite",
    "PriorResult",
    "Question",
    "Resection",
    "RiskFactor",
    "Sex",
    "Strength",
    "Syndrome",
    "Target",
    "TumorType",
]


class ExamId(StrEnum):
    """Canonical exam ids (DESIGN.md, "Canonical exam ids")."""

    CT_CAP = "ct-cap"
    CT_MULTIPHASE = "ct-multiphase"
    CT_CHEST = "ct-chest"
    CT_NECK_CHEST = "ct-neck-chest"
    CT_DUODENUM = "ct-duodenum"
    CT_ENTEROGRAPHY = "ct-enterography"
    MR_ENTEROGRAPHY = "mr-enterography"
    MRI_PANCREAS = "mri-pancreas"
    MRI_LIVER_HEPATOBILIARY = "mri-liver-hepatobiliary"
    MRI_LIVER = "mri-liver"
    MRI_NONCONTRAST = "mri-noncontrast"
    MRI_PELVIS = "mri-pelvis"
    MRI_SKELETON = "mri-skeleton"
    BONE_SCAN = "bone-scan"
    US_NECK = "us-neck"
    EUS = "eus"
    ENDOSCOPY = "endoscopy"
    ASVS = "asvs"
    BIOPSY = "biopsy"
    GA68_SSTR_PET = "ga68-sstr-pet"
    CU64_SSTR_PET = "cu64-sstr-pet"
    IN111_SSTR_SPECT = "in111-sstr-spect"
    SSTR_ANTAGONIST_PET = "sstr-antagonist-pet"
    FDG_PET = "fdg-pet"
    FDOPA_PET = "fdopa-pet"
    EXENDIN_PET = "exendin-pet"
    EXENDIN_SPECT = "exendin-spect"
    MIBG_SCAN = "mibg-scan"
    FAPI_PET = "fapi-pet"
    CXCR4_PET = "cxcr4-pet"
    CCK2R_PET = "cck2r-pet"
    GIPR_IMAGING = "gipr-imaging"
    NO_IMAGING = "no-imaging"


class Question(StrEnum):
    """The clinical question a scenario asks."""

    DIAGNOSIS = "diagnosis"
    LOCALISATION = "localisation"
    STAGING = "staging"
    RESTAGING = "restaging"
    PRRT_ELIGIBILITY = "prrt-eligibility"
    MIBG_THERAPY_ELIGIBILITY = "mibg-therapy-eligibility"
    LIVER_DIRECTED_THERAPY = "liver-directed-therapy"
    RESPONSE = "response"
    SURVEILLANCE = "surveillance"
    RECURRENCE = "recurrence"


class Sex(StrEnum):
    """Sex of the patient."""

    MALE = "male"
    FEMALE = "female"


class PrimarySite(StrEnum):
    """Site of the primary tumour."""

    PANCREAS = "pancreas"
    SMALL_INTESTINE = "small-intestine"
    STOMACH = "stomach"
    DUODENUM = "duodenum"
    APPENDIX = "appendix"
    COLON = "colon"
    RECTUM = "rectum"
    LUNG = "lung"
    THYMUS = "thymus"
    THYROID = "thyroid"
    ADRENAL = "adrenal"
    HEAD_NECK_PARAGANGLIA = "head-neck-paraganglia"
    THORACO_ABDOMINAL_PARAGANGLIA = "thoraco-abdominal-paraganglia"
    UNKNOWN = "unknown"


class TumorType(StrEnum):
    """Tumour type."""

    NET = "net"
    NEC = "nec"
    MINEN = "minen"
    PHEOCHROMOCYTOMA = "pheochromocytoma"
    PARAGANGLIOMA = "paraganglioma"
    MTC = "mtc"


class Differentiation(StrEnum):
    """Histological differentiation."""

    WELL = "well"
    POOR = "poor"


class Grade(StrEnum):
    """WHO grade."""

    G1 = "G1"
    G2 = "G2"
    G3 = "G3"


class Syndrome(StrEnum):
    """Hormonal syndrome."""

    NONE = "none"
    INSULINOMA = "insulinoma"
    HYPERINSULINAEMIC_HYPOGLYCAEMIA = "hyperinsulinaemic-hypoglycaemia"
    GASTRINOMA = "gastrinoma"
    CARCINOID = "carcinoid"
    GLUCAGONOMA = "glucagonoma"
    VIPOMA = "vipoma"
    CATECHOLAMINE_EXCESS = "catecholamine-excess"
    OTHER = "other"


class Hereditary(StrEnum):
    """Hereditary syndrome or germline variant."""

    NONE = "none"
    MEN1 = "men1"
    MEN2 = "men2"
    VHL = "vhl"
    NF1 = "nf1"
    SDHB = "sdhb"
    SDHD = "sdhd"
    SDHX = "sdhx"
    EPAS1 = "epas1"


class MetastaticSite(StrEnum):
    """Site of known metastases."""

    LIVER = "liver"
    BONE = "bone"
    LYMPH_NODE = "lymph-node"
    LUNG = "lung"
    PERITONEUM = "peritoneum"
    MESENTERY = "mesentery"
    BRAIN = "brain"


class Resection(StrEnum):
    """Status of the primary after surgery or endoscopy."""

    NONE = "none"
    COMPLETE = "complete"
    INCOMPLETE = "incomplete"


class RiskFactor(StrEnum):
    """Pathological risk factor of a small primary (appendix, rectum, stomach)."""

    LYMPHOVASCULAR_INVASION = "lymphovascular-invasion"
    MESOAPPENDIX_INVASION = "mesoappendix-invasion"
    POSITIVE_MARGIN = "positive-margin"
    MUSCULARIS_INVASION = "muscularis-invasion"


class OnSsa(StrEnum):
    """Current somatostatin-analogue treatment."""

    NONE = "none"
    LONG_ACTING = "long-acting"
    SHORT_ACTING = "short-acting"


class PriorResult(StrEnum):
    """Result of a prior exam."""

    POSITIVE = "positive"
    NEGATIVE = "negative"
    EQUIVOCAL = "equivocal"


class Finding(StrEnum):
    """Finding that changes the choice of imaging."""

    SSTR_NEGATIVE_LESION = "sstr-negative-lesion"
    DISCORDANT_LESION = "discordant-lesion"
    BONE_PREDOMINANT = "bone-predominant"
    LIVER_ONLY = "liver-only"
    DESMOPLASTIC_MESENTERIC_MASS = "desmoplastic-mesenteric-mass"
    INDETERMINATE_LIVER_LESION = "indeterminate-liver-lesion"
    RISING_MARKERS = "rising-markers"


class Strength(StrEnum):
    """Strength of a plan item (DESIGN.md JSON contract)."""

    RECOMMENDED = "recommended"
    CONSIDER = "consider"
    INVESTIGATIONAL = "investigational"


class ClinicalStatus(StrEnum):
    """Regulatory and clinical status of an exam or radiopharmaceutical."""

    ROUTINE = "routine"
    INVESTIGATIONAL = "investigational"
    PRECLINICAL = "preclinical"


class Target(StrEnum):
    """Molecular target of a radiopharmaceutical."""

    SSTR2 = "SSTR2"
    SSTR3 = "SSTR3"
    SSTR5 = "SSTR5"
    GLP1R = "GLP-1R"
    NET_TRANSPORTER = "NET transporter"
    LAT1_AADC = "LAT1/DOPA decarboxylase"
    GLUCOSE_METABOLISM = "glucose metabolism"
    FAP = "FAP"
    CXCR4 = "CXCR4"
    CCK2R = "CCK2R"
    GIPR = "GIPR"
    BONE_MINERAL = "bone mineral (osteoblastic activity)"


class Mechanism(StrEnum):
    """How a radiopharmaceutical binds its target."""

    AGONIST = "agonist"
    ANTAGONIST = "antagonist"
    SUBSTRATE = "substrate"
    INHIBITOR = "inhibitor"


class Modality(StrEnum):
    """Imaging modality or procedure family of an exam."""

    CT = "ct"
    MRI = "mri"
    US = "us"
    ENDOSCOPY = "endoscopy"
    PROCEDURE = "procedure"
    PET = "pet"
    SPECT = "spect"
    SCINTIGRAPHY = "scintigraphy"
    NONE = "none"


class Contrast(StrEnum):
    """Contrast agent an exam needs."""

    NONE = "none"
    IODINATED = "iodinated"
    GADOLINIUM = "gadolinium"
    GADOXETATE = "gadoxetate"
