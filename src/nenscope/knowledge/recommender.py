"""The recommender: a validated :class:`Scenario` in, a ranked imaging :class:`Plan` out.

Steps, each recorded for ``--explain``:

1. derive the scenario's tags (:mod:`nenscope.knowledge.facts`) and the centre's exams;
2. evaluate every rule of ``data/rules.toml`` in order (fired or the reason it did not);
3. merge the proposals of the fired rules (highest priority wins per exam);
4. replace each exam that is avoided for this patient or not available at the centre by its
   first allowed, available substitute, and say so; drop it when none is left;
5. apply adjustments (e.g. pregnancy demotes ionising exams), keep investigational exams last;
6. rank, and add activity, uptake time and effective dose for this patient, preparation,
   tracer-specific warnings and, given a pre-test probability, post-test probabilities.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from nenscope.core.errors import NotComputableError
from nenscope.knowledge.bayes import compute_post_test_probability
from nenscope.knowledge.facts import SSTR_EXAMS, derive_tags
from nenscope.knowledge.kb import Exam, KnowledgeBase, PerformanceRow, load_knowledge_base
from nenscope.knowledge.physics import (
    ADULT_AGE_YEARS,
    compute_effective_dose_msv,
    prescribe_activity,
)
from nenscope.knowledge.rules import Context, Proposal, Rule
from nenscope.knowledge.scenario import Scenario, grade_warnings
from nenscope.knowledge.vocab import (
    ClinicalStatus,
    Contrast,
    ExamId,
    Modality,
    OnSsa,
    PrimarySite,
    PriorResult,
    Question,
    Strength,
)

__all__ = ["AvoidItem", "Plan", "PlanItem", "PostTest", "RuleTrace", "recommend"]

INVESTIGATIONAL_MAX_PRIORITY = 30
"""Investigational exams never rank above this priority (never sole first-line)."""

_NUCLEAR = (Modality.PET, Modality.SPECT, Modality.SCINTIGRAPHY)


@dataclass(frozen=True, slots=True, kw_only=True)
class PostTest:
    """Post-test probabilities of one exam for this patient's pre-test probability."""

    pretest: float
    positive: float
    negative: float
    lr_positive: float
    lr_negative: float
    performance_id: str
    evidence: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanItem:
    """One exam of the plan (DESIGN.md JSON contract, plus explanatory extras)."""

    rank: int
    exam: ExamId
    name: str
    strength: Strength
    rationale: str
    evidence: tuple[str, ...]
    activity_mbq: float | None = None
    uptake_min: float | None = None
    effective_dose_msv: float | None = None
    radiopharmaceutical: str | None = None
    notes: tuple[str, ...] = ()
    preparation: tuple[str, ...] = ()
    substituted_for: ExamId | None = None
    rules: tuple[str, ...] = ()
    post_test: PostTest | None = None
    activity_derivation: str | None = None
    dose_caveat: str | None = None

    def to_contract(self) -> dict[str, Any]:
        """Return the JSON object of this item (contract keys first; absent numbers omitted)."""
        out: dict[str, Any] = {
            "rank": self.rank,
            "exam": self.exam.value,
            "strength": self.strength.value,
            "rationale": self.rationale,
            "evidence": list(self.evidence),
        }
        for key in ("activity_mbq", "uptake_min", "effective_dose_msv"):
            value = getattr(self, key)
            if value is not None:
                out[key] = round(value, 2)
        out["name"] = self.name
        if self.activity_derivation:
            out["activity_derivation"] = self.activity_derivation
        if self.dose_caveat:
            out["dose_caveat"] = self.dose_caveat
        if self.radiopharmaceutical:
            out["radiopharmaceutical"] = self.radiopharmaceutical
        if self.notes:
            out["notes"] = list(self.notes)
        if self.preparation:
            out["preparation"] = list(self.preparation)
        if self.substituted_for is not None:
            out["substituted_for"] = self.substituted_for.value
        out["rules"] = list(self.rules)
        if self.post_test is not None:
            pt = self.post_test
            out["post_test_probability"] = {
                "pretest": pt.pretest,
                "if_positive": round(pt.positive, 3),
                "if_negative": round(pt.negative, 3),
                "lr_positive": round(pt.lr_positive, 2),
                "lr_negative": round(pt.lr_negative, 2),
                "performance": pt.performance_id,
                "evidence": list(pt.evidence),
            }
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class AvoidItem:
    """An exam not to do for this patient, with the reason and the rules that said so."""

    exam: ExamId
    reason: str
    rules: tuple[str, ...]

    def to_contract(self) -> dict[str, Any]:
        """Return the JSON object of this item."""
        return {"exam": self.exam.value, "reason": self.reason, "rules": list(self.rules)}


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleTrace:
    """Whether one rule fired, and why (or why not)."""

    rule: str
    title: str
    fired: bool
    detail: str
    source: tuple[str, ...]
    section: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """The recommender's answer."""

    items: tuple[PlanItem, ...]
    avoid: tuple[AvoidItem, ...]
    warnings: tuple[str, ...]
    trace: tuple[RuleTrace, ...]
    steps: tuple[str, ...]
    tags: frozenset[str]
    knowledge_base_version: str

    @property
    def total_effective_dose_msv(self) -> float:
        """Effective dose, mSv, if every exam of the plan with a known dose is done."""
        return sum(i.effective_dose_msv or 0.0 for i in self.items)

    @property
    def recommended_effective_dose_msv(self) -> float:
        """Effective dose, mSv, of the items of strength ``recommended`` only."""
        return sum(
            i.effective_dose_msv or 0.0 for i in self.items if i.strength is Strength.RECOMMENDED
        )

    def to_contract(self, *, explain: bool = False) -> dict[str, Any]:
        """``{"plan": [...], "avoid": [...], "warnings": [...]}`` (+ ``explain`` on request)."""
        out: dict[str, Any] = {
            "plan": [i.to_contract() for i in self.items],
            "avoid": [a.to_contract() for a in self.avoid],
            "warnings": list(self.warnings),
        }
        if explain:
            out["explain"] = {
                "knowledge_base_version": self.knowledge_base_version,
                "total_effective_dose_msv": round(self.total_effective_dose_msv, 2),
                "recommended_effective_dose_msv": round(self.recommended_effective_dose_msv, 2),
                "tags": sorted(self.tags),
                "rules": [
                    {
                        "rule": t.rule,
                        "fired": t.fired,
                        "detail": t.detail,
                        "source": list(t.source),
                        "section": t.section,
                    }
                    for t in self.trace
                ],
                "steps": list(self.steps),
            }
        return out


@dataclass(slots=True)
class _Candidate:
    """Working state of one exam while the plan is assembled (local to one call)."""

    exam: ExamId
    priority: int
    strength: Strength
    rationale: str
    order: int
    evidence: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    substitutes: tuple[ExamId, ...] | None = None
    substituted_for: ExamId | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Avoided:
    """One reason to avoid an exam.

    The rule's text, its id, and whether the rule named the exam itself (True) or reached it
    through a group selector such as ``@ionising``.
    """

    reason: str
    rule: str
    named: bool


def _select(kb: KnowledgeBase, token: str) -> list[ExamId]:
    exams = kb.exams.values()
    if not token.startswith("@"):
        return [ExamId(token)]
    tests: dict[str, Callable[[Exam], bool]] = {
        "@ionising": lambda e: e.ionising,
        "@ct": lambda e: e.modality is Modality.CT,
        "@iodinated": lambda e: e.contrast is Contrast.IODINATED,
        "@gadolinium": lambda e: e.contrast in (Contrast.GADOLINIUM, Contrast.GADOXETATE),
        "@nuclear": lambda e: e.modality in _NUCLEAR,
        "@radioiodine": lambda e: (
            e.radiopharmaceutical is not None and e.radiopharmaceutical.nuclide.id.startswith("I-")
        ),
    }
    return [e.id for e in exams if tests[token](e)]


def _add_unique(target: list[str], values: Iterable[str]) -> None:
    for v in values:
        if v not in target:
            target.append(v)


def _merge(cands: dict[ExamId, _Candidate], rule: Rule, p: Proposal, order: int) -> None:
    evidence = list(p.evidence) or list(rule.source)
    current = cands.get(p.exam)
    if current is None or p.priority > current.priority:
        new = _Candidate(
            exam=p.exam,
            priority=p.priority,
            strength=p.strength,
            rationale=p.rationale,
            order=order,
            substitutes=p.substitutes,
        )
        if current is not None:
            _add_unique(new.evidence, current.evidence)
            _add_unique(new.rules, current.rules)
        current = new
        cands[p.exam] = current
    _add_unique(current.evidence, evidence)
    _add_unique(current.rules, [rule.id])


def _collect(
    kb: KnowledgeBase, ctx: Context
) -> tuple[list[Rule], list[RuleTrace], dict[ExamId, _Candidate], dict[ExamId, list[_Avoided]]]:
    fired: list[Rule] = []
    trace: list[RuleTrace] = []
    cands: dict[ExamId, _Candidate] = {}
    avoid: dict[ExamId, list[_Avoided]] = {}
    order = 0
    for rule in kb.rules:
        why = rule.why_not(ctx)
        trace.append(
            RuleTrace(
                rule=rule.id,
                title=rule.title,
                fired=why is None,
                detail=why or f"fired: {rule.when.describe()}",
                source=rule.source,
                section=rule.section,
            )
        )
        if why is not None:
            continue
        fired.append(rule)
        for p in rule.propose:
            order += 1
            _merge(cands, rule, p, order)
        for a in rule.avoid:
            for token in a.exams:
                for exam in _select(kb, token):
                    avoid.setdefault(exam, []).append(
                        _Avoided(reason=a.reason, rule=rule.id, named=not token.startswith("@"))
                    )
    return fired, trace, cands, avoid


def _resolve(
    kb: KnowledgeBase,
    cands: dict[ExamId, _Candidate],
    avoid: dict[ExamId, list[_Avoided]],
    available: frozenset[str],
) -> tuple[dict[ExamId, _Candidate], list[str], list[str]]:
    """Replace avoided or unavailable exams by substitutes; return plan, warnings, steps."""
    final: dict[ExamId, _Candidate] = {}
    warnings: list[str] = []
    steps: list[str] = []
    for cand in sorted(cands.values(), key=lambda c: (-c.priority, c.order)):
        exam = cand.exam
        blocked = None
        if exam in avoid:
            blocked = (
                f"ruled out for this patient by rule {avoid[exam][0].rule}, see the avoid list"
            )
        elif exam.value not in available:
            blocked = "not available at this centre"
        if blocked is None:
            _place(final, cand, exam)
            continue
        chain = cand.substitutes if cand.substitutes is not None else kb.exams[exam].substitutes
        if exam in avoid and cand.substitutes is None and kb.exams[exam].modality in _NUCLEAR:
            # A tracer is avoided for what it images (e.g. SSTR in benign insulinoma): another
            # tracer of the same family would share the reason, so no default substitution.
            chain = ()
        chosen = next((s for s in chain if s.value in available and s not in avoid), None)
        if chosen is None:
            steps.append(f"{exam}: {blocked}; no allowed, available substitute — dropped")
            if exam not in avoid and kb.exams[exam].status is ClinicalStatus.ROUTINE:
                warnings.append(
                    f"{exam} is recommended but not available here and no listed alternative "
                    "is available: refer the patient to a centre that offers it."
                    if cand.strength is Strength.RECOMMENDED
                    else f"{exam} ({cand.strength.value}) is not available here and no listed "
                    "alternative is: refer the patient to a centre that offers it if it is needed."
                )
            continue
        steps.append(f"{exam}: {blocked}; substituted by {chosen}")
        if exam not in avoid and chosen not in cands:
            warnings.append(
                f"{exam} is not available at this centre: {chosen} is ranked in its place."
            )
        sub = _Candidate(
            exam=chosen,
            priority=cand.priority,
            strength=cand.strength,
            rationale=f"In place of {exam} ({blocked}), proposed because: {cand.rationale}",
            order=cand.order,
            evidence=list(cand.evidence),
            rules=list(cand.rules),
            substituted_for=exam,
        )
        _place(final, sub, chosen)
    return final, warnings, steps


_WITH_NO_IMAGING = (ExamId.NO_IMAGING, ExamId.ENDOSCOPY)
"""Items that may accompany a first-ranked ``no-imaging`` (endoscopic surveillance)."""

_ONE_OFF_QUESTIONS = (Question.DIAGNOSIS, Question.LOCALISATION, Question.STAGING)


_REPEAT_IS_THE_POINT = (Question.RESPONSE, Question.SURVEILLANCE)
"""Questions answered by repeating an exam (comparison with the prior one)."""

PRIOR_CURRENT_MONTHS = 6.0
"""A prior result younger than this is taken as current: the exam is not proposed first again.
A convention of this knowledge base (imaging before a treatment decision is usually repeated
when older than about 3-6 months), not a guideline value; an older result is repeated."""

_CLEAR_RESULTS = (PriorResult.POSITIVE, PriorResult.NEGATIVE)


def _family(exam: ExamId) -> tuple[ExamId, ...]:
    """Exams that answer the same question as ``exam`` (SSTR imaging is one family)."""
    return SSTR_EXAMS if exam in SSTR_EXAMS else (exam,)


def _current_prior(scenario: Scenario, exam: ExamId) -> tuple[ExamId, PriorResult] | None:
    """Return a prior exam of ``exam``'s family with a clear, current result, or None."""
    for member in _family(exam):
        result = scenario.prior.get(member.value)
        if result is None or result not in _CLEAR_RESULTS:
            continue
        age = scenario.prior_months_ago.get(member.value)
        if age is None or age < PRIOR_CURRENT_MONTHS:
            return member, result
    return None


def _already_done(scenario: Scenario, cands: dict[ExamId, _Candidate]) -> list[str]:
    """Keep exams already done with a clear, current result from leading the plan.

    For one-off questions (diagnosis, localisation, staging) such an exam is dropped; for the
    others it is ranked after every exam that answers what remains, with a note. Response and
    surveillance repeat exams on purpose, and a result older than
    :data:`PRIOR_CURRENT_MONTHS` (``months_ago`` or ``date`` in ``prior``) is repeated.
    """
    if scenario.question in _REPEAT_IS_THE_POINT:
        return []
    steps = []
    lowest = min((c.priority for c in cands.values()), default=0)
    for exam in sorted(cands, key=lambda e: (-cands[e].priority, cands[e].order)):
        found = _current_prior(scenario, exam)
        if found is None:
            continue
        done, result = found
        when = _prior_when(scenario, done)
        if scenario.question in _ONE_OFF_QUESTIONS:
            del cands[exam]
            steps.append(f"{exam}: {done} already done ({result}{when}) — not repeated")
            continue
        cand = cands[exam]
        cand.priority = min(cand.priority, lowest - 1)
        cand.notes.append(
            f"{done} is already reported ({result}{when}): repeat it only if that result is "
            f"older than {PRIOR_CURRENT_MONTHS:g} months or the disease has changed since."
        )
        steps.append(f"{exam}: {done} already done ({result}{when}) — ranked last")
    return steps


def _prior_when(scenario: Scenario, exam: ExamId) -> str:
    age = scenario.prior_months_ago.get(exam.value)
    return "" if age is None else f", {age:.0f} months ago"


def _builds_on(scenario: Scenario, first: _Candidate) -> str | None:
    """Return a note for the first item naming the prior results the plan builds on."""
    if scenario.question in _REPEAT_IS_THE_POINT:
        return None
    done = []
    for key, result in scenario.prior.items():
        if ":" in key or result not in _CLEAR_RESULTS or key == first.exam.value:
            continue
        age = scenario.prior_months_ago.get(key)
        if age is None or age < PRIOR_CURRENT_MONTHS:
            done.append(f"{key} ({result}{_prior_when(scenario, ExamId(key))})")
    if not done:
        return None
    return f"Builds on the prior {', '.join(done)}: this exam answers what they left open."


def _one_ct_per_region(
    kb: KnowledgeBase, ordered: list[_Candidate], steps: list[str]
) -> list[_Candidate]:
    """Fold a contrast CT whose regions overlap a higher-ranked contrast CT into that one.

    Two contrast CTs of the same region (e.g. CT enterography and a multiphase liver CT for a
    small-intestine NET) double the dose for one anatomical question: the radiologist runs
    one examination with both protocols' phases. The lower-ranked exam leaves the plan and
    the kept one says what to add.
    """
    kept: list[_Candidate] = []
    for cand in ordered:
        exam = kb.exams[cand.exam]
        host = next(
            (
                k
                for k in kept
                if exam.contrast is Contrast.IODINATED
                and kb.exams[k.exam].contrast is Contrast.IODINATED
                and set(exam.regions) & set(kb.exams[k.exam].regions)
            ),
            None,
        )
        if host is None:
            kept.append(cand)
            continue
        extra = sorted(set(exam.regions) - set(kb.exams[host.exam].regions))
        cover = f"; extend the field of view to the {' and '.join(extra)}" if extra else ""
        host.notes.append(
            f"One contrast CT per anatomical region: {cand.exam} ({exam.name}) was also "
            f"proposed ({cand.rationale.rstrip('.')}) — add its phases to this CT{cover} "
            "instead of a second examination."
        )
        _add_unique(host.evidence, cand.evidence)
        _add_unique(host.rules, cand.rules)
        steps.append(f"{cand.exam}: folded into {host.exam} (one contrast CT per region)")
    return kept


def _place(final: dict[ExamId, _Candidate], cand: _Candidate, exam: ExamId) -> None:
    existing = final.get(exam)
    if existing is None:
        final[exam] = cand
        return
    _add_unique(existing.evidence, cand.evidence)
    _add_unique(existing.rules, cand.rules)


def _adjust(
    kb: KnowledgeBase, fired: list[Rule], final: dict[ExamId, _Candidate], steps: list[str]
) -> None:
    for rule in fired:
        for adj in rule.adjust:
            targets = {e for token in adj.exams for e in _select(kb, token)}
            for exam in targets & set(final):
                cand = final[exam]
                cand.priority += adj.priority_delta
                if adj.strength is not None:
                    cand.strength = adj.strength
                if adj.note:
                    cand.notes.append(adj.note)
                _add_unique(cand.rules, [rule.id])
                steps.append(f"{exam}: adjusted by {rule.id} ({adj.priority_delta:+d})")
    for exam, cand in final.items():
        if kb.exams[exam].status is not ClinicalStatus.ROUTINE:
            cand.strength = Strength.INVESTIGATIONAL
            cand.priority = min(cand.priority, INVESTIGATIONAL_MAX_PRIORITY)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Dose:
    activity_mbq: float | None = None
    uptake_min: float | None = None
    effective_dose_msv: float | None = None
    notes: tuple[str, ...] = ()
    derivation: str | None = None
    caveat: str | None = None


def _nuclear_details(exam: Exam, scenario: Scenario, warnings: list[str]) -> _Dose:
    tracer = exam.radiopharmaceutical
    if tracer is None:
        child = scenario.age_years is not None and scenario.age_years < ADULT_AGE_YEARS
        caveat = (
            f"Child: {exam.typical_effective_dose_msv:g} mSv is a typical ADULT dose of this "
            "exam; a paediatric protocol's dose differs (ask the CT team)."
            if child and exam.ionising and exam.typical_effective_dose_msv is not None
            else None
        )
        return _Dose(effective_dose_msv=exam.typical_effective_dose_msv, caveat=caveat)
    notes: list[str] = []
    try:
        presc = prescribe_activity(
            tracer.activity,
            paediatric=tracer.paediatric_activity,
            weight_kg=scenario.weight_kg,
            age_years=scenario.age_years,
        )
    except NotComputableError as err:
        warnings.append(f"{exam.id} ({tracer.name}): {err}")
        return _Dose(uptake_min=tracer.typical_uptake_min, notes=(str(err),))
    notes.extend(presc.notes)
    if presc.paediatric:
        notes.append("paediatric weight-based activity")
    dose = None
    coefficient = tracer.dose_coefficient(scenario.age_years)
    if coefficient is not None:
        dose = compute_effective_dose_msv(
            presc.activity_mbq, coefficient_msv_per_mbq=coefficient.msv_per_mbq
        )
        notes.append(
            f"effective dose of the radiopharmaceutical ({coefficient.basis}); the CT of a "
            "PET/CT adds a few mSv (low-dose) to ~10 mSv (diagnostic)"
        )
        if coefficient.caveat:
            notes.append(coefficient.caveat)
            warnings.append(f"{exam.id}: {coefficient.caveat}")
    else:
        notes.append("no published effective-dose coefficient in the knowledge base")
    return _Dose(
        activity_mbq=presc.activity_mbq,
        uptake_min=tracer.typical_uptake_min,
        effective_dose_msv=dose,
        notes=tuple(notes),
        derivation=presc.derivation or None,
        caveat=None if coefficient is None else coefficient.caveat,
    )


_SSA_LONG = {
    ExamId.CU64_SSTR_PET: "the 64Cu-DOTATATE (Detectnet) label asks to stop it 28 days "
    "before; SNMMI 2023 allows 3-4 weeks and data suggest withdrawal may be unnecessary, so at "
    "least schedule the scan just before the next injection",
    ExamId.IN111_SSTR_SPECT: "schedule the scan just before the next long-acting injection "
    "(SNMMI 2023 allows 3-4 weeks' withdrawal; data suggest it may be unnecessary)",
}
"""Long-acting SSA advice for tracers whose own label differs from NETSPOT's."""

_SSA_SHORT = {
    ExamId.CU64_SSTR_PET: "stop short-acting octreotide 2 days before (64Cu-DOTATATE label; "
    "SNMMI 2023: 12 h)",
    ExamId.IN111_SSTR_SPECT: "stop short-acting octreotide 72 h before (OctreoScan practice; "
    "SNMMI 2023: 12 h)",
}
"""Short-acting SSA advice for tracers whose own label differs from NETSPOT's."""


def _ssa_warning(exam: Exam, scenario: Scenario) -> list[str]:
    """SSA timing for the tracer of this exam, its own label first (clinical-facts §6.1)."""
    if exam.id not in SSTR_EXAMS or scenario.on_ssa in (None, OnSsa.NONE):
        return []
    if scenario.on_ssa is OnSsa.LONG_ACTING:
        advice = _SSA_LONG.get(
            exam.id,
            "schedule the scan just before the next long-acting injection (NETSPOT label; "
            "SNMMI 2023 allows 3-4 weeks' withdrawal, data suggest it may be unnecessary; the "
            "64Cu-DOTATATE label asks for 28 days)",
        )
    else:
        advice = _SSA_SHORT.get(
            exam.id,
            "stop short-acting octreotide 24 h before (NETSPOT label; SNMMI 2023: 12 h; 64Cu "
            "label: 2 days; OctreoScan practice: 72 h)",
        )
    return [f"Somatostatin analogue, {exam.id}: {advice}."]


def _exam_specific_warning(exam: Exam, scenario: Scenario, tags: frozenset[str]) -> list[str]:
    if exam.id in (ExamId.EXENDIN_PET, ExamId.EXENDIN_SPECT):
        return [
            f"Hypoglycaemia risk, {exam.id}: exendin-4 is a GLP-1R agonist — run a glucose "
            "infusion and monitor glucose; transient nausea and vomiting are common."
        ]
    if exam.id is ExamId.FDOPA_PET and "congenital-hyperinsulinism" in tags:
        return ["18F-DOPA for congenital hyperinsulinism: do not give carbidopa."]
    if exam.id is ExamId.FDOPA_PET and (
        "insulinoma" in tags or scenario.primary_site is PrimarySite.PANCREAS
    ):
        return [
            "18F-DOPA for an insulinoma or pancreatic NET: carbidopa 100-200 mg orally 1 h "
            "before lowers pancreatic background."
        ]
    if exam.id is ExamId.MIBG_SCAN:
        return [
            "123I-MIBG: thyroid blockade with stable iodine; withdraw interfering drugs "
            "(labetalol, reserpine, tricyclics, sympathomimetics, some calcium-channel blockers)."
        ]
    return []


def _tracer_warnings(exam: Exam, scenario: Scenario, tags: frozenset[str]) -> list[str]:
    tracer = exam.radiopharmaceutical
    if tracer is None:
        return []
    out = [*_ssa_warning(exam, scenario), *_exam_specific_warning(exam, scenario, tags)]
    if scenario.breastfeeding and tracer.breastfeeding:
        out.insert(0, f"Breastfeeding, {exam.id}: {tracer.breastfeeding}")
    if tracer.status is not ClinicalStatus.ROUTINE:
        out.append(
            f"{exam.id} is investigational: only within a clinical trial or under ethics approval."
        )
    if "pregnant" in tags and exam.modality in _NUCLEAR:
        out.append(
            f"Pregnancy, {exam.id}: only if essential; lowest diagnostic activity, hydration and "
            "frequent voiding (fetal dose, e.g. FDG ~0.022 mGy/MBq in early pregnancy)."
        )
    return out


def _post_test(
    kb: KnowledgeBase, exam: ExamId, scenario: Scenario, tags: frozenset[str]
) -> PostTest | None:
    p = scenario.pretest_probability
    if p is None:
        return None
    context = set(tags)
    if scenario.primary_site is not None:
        context.add(scenario.primary_site.value)
    if "liver-mets" in tags or scenario.question == "liver-directed-therapy":
        context.add("liver-question")
    rows: list[PerformanceRow] = [
        r for r in kb.performance if r.exam is exam and r.likelihood_ratios is not None
    ]
    matching = [r for r in rows if context & set(r.applies_to)]
    if not matching:
        return None
    row = matching[0]
    lrs = row.likelihood_ratios
    if lrs is None:  # pragma: no cover - filtered above
        return None
    lr_pos, lr_neg = lrs
    return PostTest(
        pretest=p,
        positive=compute_post_test_probability(p, lr_pos),
        negative=compute_post_test_probability(p, lr_neg),
        lr_positive=lr_pos,
        lr_negative=lr_neg,
        performance_id=row.id,
        evidence=row.evidence,
    )


def _available_exams(kb: KnowledgeBase, scenario: Scenario) -> tuple[frozenset[str], str]:
    """Return the exams the centre offers, and a note when something was assumed.

    ``no-imaging`` is always possible. A list that names only nuclear-medicine exams describes
    the centre's tracers: its routine CT, MRI, ultrasound and endoscopy are then assumed (and
    the plan says so).
    """
    if scenario.available is None:
        return kb.routine_exams() | {ExamId.NO_IMAGING.value}, ""
    given = {e.value for e in scenario.available} | {ExamId.NO_IMAGING.value}
    if all(kb.exams[e].modality in (*_NUCLEAR, Modality.NONE) for e in scenario.available):
        non_nuclear = {
            e.value
            for e, exam in kb.exams.items()
            if exam.modality not in _NUCLEAR and exam.status is ClinicalStatus.ROUTINE
        }
        note = (
            "'available' lists only nuclear-medicine exams: routine CT, MRI, ultrasound and "
            "endoscopy were assumed available; list them to restrict them too."
        )
        return frozenset(given | non_nuclear), note
    return frozenset(given), ""


def _dedupe(values: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    _add_unique(out, values)
    return tuple(out)


def _plan_items(
    kb: KnowledgeBase,
    ordered: list[_Candidate],
    scenario: Scenario,
    tags: frozenset[str],
    warnings: list[str],
) -> list[PlanItem]:
    """Turn the ranked candidates into plan items with activity, dose and warnings."""
    items: list[PlanItem] = []
    for rank, cand in enumerate(ordered, start=1):
        exam = kb.exams[cand.exam]
        details = _nuclear_details(exam, scenario, warnings)
        warnings.extend(_tracer_warnings(exam, scenario, tags))
        tracer = exam.radiopharmaceutical
        notes = list(details.notes)
        if tracer is None and details.effective_dose_msv is not None:
            notes.append("typical adult effective dose of the exam (order of magnitude)")
        if details.caveat and tracer is None:
            notes.append(details.caveat)
        items.append(
            PlanItem(
                rank=rank,
                exam=cand.exam,
                name=exam.name,
                strength=cand.strength,
                rationale=cand.rationale,
                evidence=tuple(cand.evidence),
                activity_mbq=details.activity_mbq,
                uptake_min=details.uptake_min,
                effective_dose_msv=details.effective_dose_msv,
                radiopharmaceutical=None if tracer is None else tracer.name,
                notes=_dedupe([*cand.notes, *notes]),
                preparation=() if tracer is None else tracer.preparation,
                substituted_for=cand.substituted_for,
                rules=tuple(cand.rules),
                post_test=_post_test(kb, cand.exam, scenario, tags),
                activity_derivation=details.derivation,
                dose_caveat=details.caveat,
            )
        )
    return items


def _avoid_items(
    avoid: dict[ExamId, list[_Avoided]], *, proposed: frozenset[ExamId]
) -> tuple[AvoidItem, ...]:
    """Return the avoid list, items that share a reason together.

    It holds the exams a rule names, and the exams a group rule (``@ionising`` …) rules out
    that some rule proposed for this question. An exam nobody would consider here (e.g. an
    investigational tracer under a pregnancy rule) is not listed. Items sharing a reason keep
    the order of their first mention.
    """
    items = [
        AvoidItem(
            exam=exam,
            reason=" ".join(_dedupe(a.reason for a in reasons)),
            rules=_dedupe(a.rule for a in reasons),
        )
        for exam, reasons in avoid.items()
        if exam in proposed or any(a.named for a in reasons)
    ]
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        first.setdefault(item.reason, index)
    return tuple(sorted(items, key=lambda i: first[i.reason]))


def recommend(scenario: Scenario, *, kb: KnowledgeBase | None = None) -> Plan:
    """Recommend an imaging plan for a scenario.

    Parameters
    ----------
    scenario
        A validated scenario (see :func:`nenscope.knowledge.scenario.parse_scenario`).
    kb
        Knowledge base to use; defaults to the one shipped with nenscope.

    Returns
    -------
    Plan
        Ranked items (rank 1 first), the avoid list, warnings and the rule trace.

    Examples
    --------
    >>> from nenscope.knowledge.scenario import parse_scenario
    >>> plan = recommend(parse_scenario({"question": "staging", "primary_site":
    ...     "small-intestine", "grade": "G1", "weight_kg": 75}))
    >>> first = plan.items[0]
    >>> first.exam.value, first.activity_mbq, round(first.effective_dose_msv, 2)
    ('ga68-sstr-pet', 150.0, 3.15)
    >>> "fdg-pet" in [a.exam.value for a in plan.avoid]
    True
    """
    kb = kb if kb is not None else load_knowledge_base()
    available, availability_note = _available_exams(kb, scenario)
    tags = derive_tags(scenario)
    ctx = Context(scenario=scenario, tags=tags, available=available)
    fired, trace, cands, avoid = _collect(kb, ctx)
    done = _already_done(scenario, cands)
    final, warnings, steps = _resolve(kb, cands, avoid, available)
    steps[:0] = done
    warnings[:0] = grade_warnings(scenario)
    _adjust(kb, fired, final, steps)
    for rule in fired:
        warnings.extend(w.text for w in rule.warn if w.applies(scenario))
    ordered = sorted(final.values(), key=lambda c: (-c.priority, c.order))
    if ordered and ordered[0].exam is ExamId.NO_IMAGING:
        dropped = [c.exam.value for c in ordered if c.exam not in _WITH_NO_IMAGING]
        ordered = [c for c in ordered if c.exam in _WITH_NO_IMAGING]
        if dropped:
            steps.append(f"no-imaging ranked first: dropped {', '.join(dropped)}")
    ordered = _one_ct_per_region(kb, ordered, steps)
    if ordered:
        builds_on = _builds_on(scenario, ordered[0])
        if builds_on:
            ordered[0].notes.insert(0, builds_on)
    items = _plan_items(kb, ordered, scenario, tags, warnings)
    if availability_note:
        warnings.append(availability_note)
    if not items:
        warnings.append(
            "No rule of the knowledge base covers this combination of fields: discuss the case "
            "at a NET multidisciplinary tumour board (run with --explain to see which rules "
            "were checked)."
        )
    if "child" in tags:
        warnings.append(
            "Child: activities are weight-based paediatric prescriptions; prefer MRI or "
            "ultrasound where they answer the question, and count cumulative dose."
        )
    if scenario.read_as:
        warnings.extend(f"Scenario input {note}." for note in scenario.read_as)
    avoid_items = _avoid_items(avoid, proposed=frozenset(cands))
    return Plan(
        items=tuple(items),
        avoid=avoid_items,
        warnings=_dedupe(warnings),
        trace=tuple(trace),
        steps=tuple(steps),
        tags=tags,
        knowledge_base_version=kb.version,
    )
