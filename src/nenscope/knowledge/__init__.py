"""Decision support: knowledge base, recommender (Scenario → Plan) and dose physics.

The knowledge base is data (``knowledge/data/*.toml``), parsed once into frozen objects by
:func:`load_knowledge_base`; :func:`recommend` turns a validated :class:`Scenario` into a ranked
:class:`Plan`; :mod:`~nenscope.knowledge.physics` and :mod:`~nenscope.knowledge.calculators`
hold the decay, activity and dose calculators. See ``docs/knowledge.md``.
"""

from nenscope.knowledge.bayes import compute_post_test_probability
from nenscope.knowledge.calculators import (
    ExamDose,
    ScheduleDose,
    compute_exam_dose,
    compute_follow_up_dose,
    find_nuclide,
    find_tracer,
)
from nenscope.knowledge.facts import TAGS, derive_tags
from nenscope.knowledge.kb import (
    Exam,
    KnowledgeBase,
    Nuclide,
    PerformanceRow,
    Radiopharmaceutical,
    Reference,
    load_knowledge_base,
    parse_knowledge_base,
)
from nenscope.knowledge.physics import (
    ActivityRule,
    ActivityRuleKind,
    PhysicsInputError,
    Prescription,
    ScheduledExam,
    compute_decay_factor,
    compute_decayed_activity_mbq,
    compute_effective_dose_msv,
    compute_fdg_activity_eanm_mbq,
    compute_latest_time_with_activity,
    compute_schedule_dose_msv,
    prescribe_activity,
)
from nenscope.knowledge.recommender import (
    AvoidItem,
    Plan,
    PlanItem,
    PostTest,
    RuleTrace,
    recommend,
)
from nenscope.knowledge.rules import Rule
from nenscope.knowledge.scenario import Scenario, grade_from_ki67, parse_scenario
from nenscope.knowledge.scenario_io import list_examples, load_example, load_scenario

__all__ = [
    "TAGS",
    "ActivityRule",
    "ActivityRuleKind",
    "AvoidItem",
    "Exam",
    "ExamDose",
    "KnowledgeBase",
    "Nuclide",
    "PerformanceRow",
    "PhysicsInputError",
    "Plan",
    "PlanItem",
    "PostTest",
    "Prescription",
    "Radiopharmaceutical",
    "Reference",
    "Rule",
    "RuleTrace",
    "Scenario",
    "ScheduleDose",
    "ScheduledExam",
    "compute_decay_factor",
    "compute_decayed_activity_mbq",
    "compute_effective_dose_msv",
    "compute_exam_dose",
    "compute_fdg_activity_eanm_mbq",
    "compute_follow_up_dose",
    "compute_latest_time_with_activity",
    "compute_post_test_probability",
    "compute_schedule_dose_msv",
    "derive_tags",
    "find_nuclide",
    "find_tracer",
    "grade_from_ki67",
    "list_examples",
    "load_example",
    "load_knowledge_base",
    "load_scenario",
    "parse_knowledge_base",
    "parse_scenario",
    "prescribe_activity",
    "recommend",
]
