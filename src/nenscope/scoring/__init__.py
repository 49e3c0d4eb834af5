"""Clinical scores from quantitative inputs: Krenning, SSTR-RADS, NETPET, PERCIST, RECIST, Choi.

Every function is pure; each module docstring cites the definition it implements.
"""

from nenscope.scoring.choi import ChoiCategory, ChoiResult, choi_response
from nenscope.scoring.krenning import (
    KRENNING_LOW_FRACTION,
    PRRT_MIN_SCORE,
    PRRT_PREFERRED_SCORE,
    KrenningReferences,
    PatientKrenning,
    krenning_score,
    patient_krenning,
)
from nenscope.scoring.matching import LesionMatch, MatchResult, match_lesions
from nenscope.scoring.netpet import NetpetGrade, NetpetLesion, NetpetResult, netpet_grade
from nenscope.scoring.percist import (
    PercistCategory,
    PercistResult,
    PercistScan,
    percist_blood_pool_threshold,
    percist_measurable_threshold,
    percist_response,
)
from nenscope.scoring.recist import (
    RecistCategory,
    RecistLesion,
    RecistResult,
    recist_response,
    select_target_lesions,
)
from nenscope.scoring.sstr_rads import (
    AnatomicFinding,
    SstrRads,
    Uptake,
    UptakeSite,
    sstr_rads_category,
    sstr_rads_overall,
    sstr_rads_uptake,
)

__all__ = [
    "KRENNING_LOW_FRACTION",
    "PRRT_MIN_SCORE",
    "PRRT_PREFERRED_SCORE",
    "AnatomicFinding",
    "ChoiCategory",
    "ChoiResult",
    "KrenningReferences",
    "LesionMatch",
    "MatchResult",
    "NetpetGrade",
    "NetpetLesion",
    "NetpetResult",
    "PatientKrenning",
    "PercistCategory",
    "PercistResult",
    "PercistScan",
    "RecistCategory",
    "RecistLesion",
    "RecistResult",
    "SstrRads",
    "Uptake",
    "UptakeSite",
    "choi_response",
    "krenning_score",
    "match_lesions",
    "netpet_grade",
    "patient_krenning",
    "percist_blood_pool_threshold",
    "percist_measurable_threshold",
    "percist_response",
    "recist_response",
    "select_target_lesions",
    "sstr_rads_category",
    "sstr_rads_overall",
    "sstr_rads_uptake",
]
