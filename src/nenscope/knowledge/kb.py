"""The knowledge base: versioned TOML data parsed once into frozen, validated objects.

:func:`load_knowledge_base` reads the files shipped in ``nenscope/knowledge/data`` (package
data, via :mod:`importlib.resources`); :func:`parse_knowledge_base` does the parsing and
validation from already-decoded documents, so tests can feed it broken data. Validation
refuses any citation id that does not resolve, any exam id of DESIGN.md without an entry, and
any reference between files that does not resolve (STYLE 1.4).
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from nenscope.core.enums import suggest
from nenscope.core.errors import KnowledgeBaseError
from nenscope.core.tracers import TracerTable, default_tracer_table
from nenscope.knowledge.physics import (
    ICRP_PHANTOM_AGES_YEARS,
    ActivityRule,
    ActivityRuleKind,
    DoseCoefficient,
    select_dose_coefficient,
)
from nenscope.knowledge.rules import Rule, parse_rules
from nenscope.knowledge.vocab import (
    ClinicalStatus,
    Contrast,
    ExamId,
    Mechanism,
    Modality,
    Target,
)
from nenscope.quantification.radionuclides import RADIONUCLIDES

__all__ = [
    "DATA_FILES",
    "Exam",
    "KnowledgeBase",
    "Nuclide",
    "PerformanceRow",
    "Radiopharmaceutical",
    "Reference",
    "load_knowledge_base",
    "parse_knowledge_base",
]

DATA_FILES = ("references", "radiopharmaceuticals", "exams", "performance", "rules")
"""Stem names of the TOML files under ``knowledge/data``."""

_IONISING = (Modality.CT, Modality.PET, Modality.SPECT, Modality.SCINTIGRAPHY)


@dataclass(frozen=True, slots=True, kw_only=True)
class Reference:
    """A full reference that citation ids resolve to."""

    id: str
    citation: str
    kind: str
    year: int
    confidence: str
    doi: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Nuclide:
    """A radionuclide and its physical half-life in s."""

    id: str
    half_life_s: float
    evidence: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Radiopharmaceutical:
    """A tracer: target, binding, nuclide, activity rules, uptake, dose, preparation."""

    id: str
    name: str
    targets: tuple[Target, ...]
    mechanism: Mechanism
    nuclide: Nuclide
    status: ClinicalStatus
    activity: ActivityRule
    paediatric_activity: ActivityRule | None
    uptake_min: tuple[float, float]
    typical_uptake_min: float
    dose_coefficient_msv_per_mbq: float | None
    dose_evidence: tuple[str, ...]
    dose_note: str
    preparation: tuple[str, ...]
    breastfeeding: str
    breastfeeding_interruption_h: float | None
    paediatric_note: str
    status_note: str
    evidence: tuple[str, ...]
    paediatric_dose_coefficients_msv_per_mbq: tuple[tuple[float, float], ...] = ()
    """(ICRP phantom age in years, coefficient in mSv/MBq); empty where none is published."""
    paediatric_dose_evidence: tuple[str, ...] = ()

    def dose_coefficient(self, age_years: float | None) -> DoseCoefficient | None:
        """Return the effective-dose coefficient for a patient of this age (None: none known).

        A child gets the nearest ICRP paediatric phantom's coefficient where the knowledge
        base has one; otherwise the adult coefficient with a caveat that it understates the
        dose (:func:`~nenscope.knowledge.physics.select_dose_coefficient`).
        """
        if self.dose_coefficient_msv_per_mbq is None:
            return None
        return select_dose_coefficient(
            tracer_name=self.name,
            adult_msv_per_mbq=self.dose_coefficient_msv_per_mbq,
            adult_evidence=self.dose_evidence,
            paediatric_msv_per_mbq=dict(self.paediatric_dose_coefficients_msv_per_mbq),
            paediatric_evidence=self.paediatric_dose_evidence,
            age_years=age_years,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Exam:
    """An exam of the canonical list: modality, contrast, protocol, tracer or typical dose."""

    id: ExamId
    name: str
    modality: Modality
    contrast: Contrast
    ionising: bool
    status: ClinicalStatus
    radiopharmaceutical: Radiopharmaceutical | None
    alternatives: tuple[str, ...]
    protocol: tuple[str, ...]
    typical_effective_dose_msv: float | None
    dose_evidence: tuple[str, ...]
    substitutes: tuple[ExamId, ...]
    evidence: tuple[str, ...]
    regions: tuple[str, ...] = ()
    """Body regions a CT covers (neck, chest, abdomen, pelvis); empty for other exams."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PerformanceRow:
    """Diagnostic performance of one exam in one population, with its source."""

    id: str
    exam: ExamId
    population: str
    applies_to: tuple[str, ...]
    sensitivity: float | None
    specificity: float | None
    detection_rate: float | None
    accuracy: float | None
    n: int | None
    level: str
    evidence: tuple[str, ...]

    @property
    def likelihood_ratios(self) -> tuple[float, float] | None:
        """(LR+, LR−) when both sensitivity and specificity are known, else None.

        Notes
        -----
        LR+ = sens / (1 − spec); LR− = (1 − sens) / spec.
        """
        if self.sensitivity is None or self.specificity is None or self.specificity >= 1.0:
            return None
        sens, spec = self.sensitivity, self.specificity
        return sens / (1.0 - spec), (1.0 - sens) / spec


@dataclass(frozen=True, slots=True, kw_only=True)
class KnowledgeBase:
    """Everything the recommender and the ``exams``/``evidence`` commands read."""

    version: str
    references: Mapping[str, Reference]
    nuclides: Mapping[str, Nuclide]
    radiopharmaceuticals: Mapping[str, Radiopharmaceutical]
    exams: Mapping[ExamId, Exam]
    performance: tuple[PerformanceRow, ...]
    rules: tuple[Rule, ...]

    def reference(self, ref_id: str) -> Reference:
        """Resolve a citation id, or raise naming the closest id."""
        if ref_id not in self.references:
            raise KnowledgeBaseError(
                f"Unknown evidence id '{ref_id}'. {suggest(ref_id, list(self.references))}"
            )
        return self.references[ref_id]

    def routine_exams(self) -> frozenset[str]:
        """Exams in routine clinical use: the default ``available`` set of a scenario."""
        return frozenset(
            e.value for e, exam in self.exams.items() if exam.status is ClinicalStatus.ROUTINE
        )


# ----------------------------------------------------------------------------- parsing


def _bad(where: str, message: str) -> KnowledgeBaseError:
    return KnowledgeBaseError(f"{where}: {message}")


def _tuple(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in (value or ()))


def _activity(where: str, raw: Mapping[str, Any] | None) -> ActivityRule | None:
    if raw is None:
        return None
    try:
        return ActivityRule(
            kind=ActivityRuleKind(raw["kind"]),
            per_kg_mbq=raw.get("per_kg_mbq"),
            fixed_mbq=raw.get("fixed_mbq"),
            min_mbq=raw.get("min_mbq"),
            max_mbq=raw.get("max_mbq"),
            evidence=_tuple(raw.get("evidence")),
        )
    except (KeyError, ValueError) as err:
        raise _bad(where, f"invalid activity rule {dict(raw)!r}: {err}") from err


def _enum_value(where: str, enum_type: Any, value: Any) -> Any:
    valid = [m.value for m in enum_type]
    if value not in valid:
        raise _bad(where, f"unknown value '{value}'. {suggest(str(value), valid)}")
    return enum_type(value)


def _parse_nuclide(nid: str, raw: Mapping[str, Any]) -> Nuclide:
    """Build a nuclide whose half-life comes from the quantification nuclide table.

    One source of truth: ``radionuclide`` names an entry of
    :data:`nenscope.quantification.radionuclides.RADIONUCLIDES` (NNDC/NuDat 3 half-lives), so
    the dose calculators and the SUV decay correction use the same value. A ``half_life_s``
    in the data would be a second source and is refused.
    """
    where = f"radiopharmaceuticals.toml, nuclide '{nid}'"
    if "half_life_s" in raw:
        raise _bad(
            where,
            'half_life_s is not accepted: name the radionuclide (e.g. radionuclide = "68Ga") '
            "and the half-life is taken from nenscope.quantification.radionuclides.",
        )
    table = {n.label: n for n in RADIONUCLIDES}
    label = raw.get("radionuclide")
    if label not in table:
        raise _bad(where, f"unknown radionuclide '{label}'. {suggest(str(label), list(table))}")
    return Nuclide(id=nid, half_life_s=table[label].half_life_s, evidence=_tuple(raw["evidence"]))


def _parse_tracer(
    tid: str,
    raw: Mapping[str, Any],
    nuclides: Mapping[str, Nuclide],
    table: TracerTable | None = None,
) -> Any:
    """Clinical facts of one tracer; its name and radionuclide come from the tracer table.

    ``nuclides`` maps radionuclide labels (``"18F"``) to the knowledge base's nuclides.
    """
    table = table or default_tracer_table()
    where = f"radiopharmaceuticals.toml [{tid}]"
    moved = sorted({"name", "nuclide"} & set(raw))
    if moved:
        raise _bad(
            where,
            f"{moved} are tracer facts and live in the tracer table (core/data/tracers.toml, "
            f"[tracer.{tid}]), the one place that names a tracer; remove them here.",
        )
    if tid not in table:
        raise _bad(
            where,
            f"no tracer '{tid}' in the tracer table (core/data/tracers.toml): add its entry "
            f"there (name, radionuclide, family, words). {suggest(tid, list(table.ids))}",
        )
    tracer = table[tid]
    if tracer.radionuclide not in nuclides:
        raise _bad(
            where,
            f"its radionuclide '{tracer.radionuclide}' (tracer table) has no [nuclide.*] entry "
            f"here. Valid: {sorted(nuclides)}.",
        )
    adult = _activity(where, raw.get("activity"))
    if adult is None:
        raise _bad(where, "missing 'activity' rule.")
    low, high = raw.get("uptake_min", (0, 0))
    return Radiopharmaceutical(
        id=tid,
        name=tracer.name,
        targets=tuple(_enum_value(where, Target, t) for t in raw["targets"]),
        mechanism=_enum_value(where, Mechanism, raw["mechanism"]),
        nuclide=nuclides[tracer.radionuclide],
        status=_enum_value(where, ClinicalStatus, raw["status"]),
        activity=adult,
        paediatric_activity=_activity(where, raw.get("paediatric_activity")),
        uptake_min=(float(low), float(high)),
        typical_uptake_min=float(raw["typical_uptake_min"]),
        dose_coefficient_msv_per_mbq=raw.get("dose_coefficient_msv_per_mbq"),
        dose_evidence=_tuple(raw.get("dose_evidence")),
        dose_note=str(raw.get("dose_note", "")),
        preparation=_tuple(raw.get("preparation")),
        breastfeeding=str(raw.get("breastfeeding", "")),
        breastfeeding_interruption_h=raw.get("breastfeeding_interruption_h"),
        paediatric_note=str(raw.get("paediatric_note", "")),
        status_note=str(raw.get("status_note", "")),
        evidence=_tuple(raw.get("evidence")),
        paediatric_dose_coefficients_msv_per_mbq=_paediatric_coefficients(where, raw),
        paediatric_dose_evidence=_tuple(raw.get("paediatric_dose_evidence")),
    )


def _paediatric_coefficients(
    where: str, raw: Mapping[str, Any]
) -> tuple[tuple[float, float], ...]:
    table = raw.get("paediatric_dose_coefficients_msv_per_mbq")
    if table is None:
        return ()
    if not raw.get("paediatric_dose_evidence"):
        raise _bad(
            where, "paediatric_dose_coefficients_msv_per_mbq needs paediatric_dose_evidence."
        )
    phantoms = {f"{age:g}": age for age in ICRP_PHANTOM_AGES_YEARS}
    out = []
    for key, value in table.items():
        if key not in phantoms:
            raise _bad(
                where,
                f"paediatric dose coefficient for age '{key}': ICRP phantom ages are "
                f"{', '.join(phantoms)} years.",
            )
        if not (isinstance(value, int | float) and value > 0):
            raise _bad(where, f"paediatric dose coefficient for age {key} must be > 0 mSv/MBq.")
        out.append((phantoms[key], float(value)))
    return tuple(sorted(out))


def _parse_exam(eid: str, raw: Mapping[str, Any], tracers: Mapping[str, Any]) -> Exam:
    where = f"exams.toml [{eid}]"
    exam_id = _enum_value(where, ExamId, eid)
    tracer = None
    if "radiopharmaceutical" in raw:
        if raw["radiopharmaceutical"] not in tracers:
            raise _bad(where, f"unknown radiopharmaceutical '{raw['radiopharmaceutical']}'.")
        tracer = tracers[raw["radiopharmaceutical"]]
    for alt in raw.get("alternatives", ()):
        if alt not in tracers:
            raise _bad(where, f"unknown alternative radiopharmaceutical '{alt}'.")
    modality = _enum_value(where, Modality, raw["modality"])
    default_status = tracer.status if tracer is not None else ClinicalStatus.ROUTINE
    return Exam(
        id=exam_id,
        name=str(raw["name"]),
        modality=modality,
        contrast=_enum_value(where, Contrast, raw.get("contrast", "none")),
        ionising=bool(raw.get("ionising", modality in _IONISING)),
        status=_enum_value(where, ClinicalStatus, raw.get("status", default_status.value)),
        radiopharmaceutical=tracer,
        alternatives=_tuple(raw.get("alternatives")),
        protocol=_tuple(raw.get("protocol")),
        typical_effective_dose_msv=raw.get("typical_effective_dose_msv"),
        dose_evidence=_tuple(raw.get("dose_evidence")),
        substitutes=tuple(_enum_value(where, ExamId, s) for s in raw.get("substitutes", ())),
        evidence=_tuple(raw.get("evidence")),
        regions=_regions(where, raw),
    )


BODY_REGIONS = ("neck", "chest", "abdomen", "pelvis")
"""Body regions an exam may cover (``regions`` in exams.toml)."""


def _regions(where: str, raw: Mapping[str, Any]) -> tuple[str, ...]:
    regions = _tuple(raw.get("regions"))
    for region in regions:
        if region not in BODY_REGIONS:
            raise _bad(where, f"unknown region '{region}'. {suggest(region, list(BODY_REGIONS))}")
    return regions


def _parse_performance(raw: Mapping[str, Any]) -> PerformanceRow:
    where = f"performance.toml [{raw.get('id')}]"
    row = PerformanceRow(
        id=str(raw["id"]),
        exam=_enum_value(where, ExamId, raw["exam"]),
        population=str(raw["population"]),
        applies_to=_tuple(raw.get("applies_to")),
        sensitivity=raw.get("sensitivity"),
        specificity=raw.get("specificity"),
        detection_rate=raw.get("detection_rate"),
        accuracy=raw.get("accuracy"),
        n=raw.get("n"),
        level=str(raw.get("level", "patient")),
        evidence=_tuple(raw.get("evidence")),
    )
    for name in ("sensitivity", "specificity", "detection_rate", "accuracy"):
        value = getattr(row, name)
        if value is not None and not 0.0 <= value <= 1.0:
            raise _bad(where, f"{name} {value} is not a proportion in [0, 1].")
    return row


def _parse_reference(rid: str, raw: Mapping[str, Any]) -> Reference:
    try:
        return Reference(id=rid, **raw)
    except TypeError as err:
        raise _bad(f"references.toml [{rid}]", f"invalid entry: {err}") from err


def _check_citations(kb: KnowledgeBase) -> None:
    cited: list[tuple[str, str]] = []
    for tracer in kb.radiopharmaceuticals.values():
        ids = (*tracer.evidence, *tracer.dose_evidence, *tracer.activity.evidence)
        cited += [(f"radiopharmaceutical {tracer.id}", i) for i in ids]
    for exam in kb.exams.values():
        cited += [(f"exam {exam.id}", i) for i in (*exam.evidence, *exam.dose_evidence)]
    for row in kb.performance:
        cited += [(f"performance {row.id}", i) for i in row.evidence]
    for rule in kb.rules:
        ids = (*rule.source, *(e for p in rule.propose for e in p.evidence))
        cited += [(f"rule {rule.id}", i) for i in ids]
    for nuclide in kb.nuclides.values():
        cited += [(f"nuclide {nuclide.id}", i) for i in nuclide.evidence]
    for where, ref_id in cited:
        if ref_id not in kb.references:
            raise _bad(
                where,
                f"evidence id '{ref_id}' does not resolve. {suggest(ref_id, list(kb.references))}",
            )


def parse_knowledge_base(
    documents: Mapping[str, Mapping[str, Any]], *, tracers: TracerTable | None = None
) -> KnowledgeBase:
    """Build and validate the knowledge base from decoded TOML documents.

    Parameters
    ----------
    documents
        One decoded document per stem of :data:`DATA_FILES`.
    tracers
        The tracer table that names each radiopharmaceutical (its name and radionuclide);
        default the packaged ``core/data/tracers.toml``.

    Raises
    ------
    KnowledgeBaseError
        For a missing document, an unresolved citation or cross-reference, a missing exam id,
        or an invalid value; the message names the file, the entry and the fix.
    """
    missing = [name for name in DATA_FILES if name not in documents]
    if missing:
        raise KnowledgeBaseError(f"Knowledge base is missing data file(s): {missing}.")
    refs = {
        rid: _parse_reference(rid, raw)
        for rid, raw in documents["references"].get("reference", {}).items()
    }
    tracer_doc = documents["radiopharmaceuticals"]
    nuclides = {
        nid: _parse_nuclide(nid, raw) for nid, raw in tracer_doc.get("nuclide", {}).items()
    }
    by_label = {
        str(raw.get("radionuclide")): nuclide
        for nid, raw in tracer_doc.get("nuclide", {}).items()
        for nuclide in (nuclides[nid],)
    }
    table = tracers or default_tracer_table()
    radiopharmaceuticals = {
        tid: _parse_tracer(tid, raw, by_label, table)
        for tid, raw in tracer_doc.get("radiopharmaceutical", {}).items()
    }
    exams = {
        ExamId(eid): _parse_exam(eid, raw, radiopharmaceuticals)
        for eid, raw in documents["exams"].get("exam", {}).items()
    }
    absent = [e.value for e in ExamId if e not in exams]
    if absent:
        raise KnowledgeBaseError(f"exams.toml: no entry for exam id(s) {absent}.")
    kb = KnowledgeBase(
        version=str(documents["rules"].get("version", "unversioned")),
        references=refs,
        nuclides=nuclides,
        radiopharmaceuticals=radiopharmaceuticals,
        exams=exams,
        performance=tuple(_parse_performance(r) for r in documents["performance"]["performance"]),
        rules=parse_rules(documents["rules"]),
    )
    _check_citations(kb)
    return kb


@functools.cache
def load_knowledge_base() -> KnowledgeBase:
    """Load the knowledge base shipped with nenscope (parsed once per process; immutable).

    Examples
    --------
    >>> kb = load_knowledge_base()
    >>> kb.exams[ExamId.GA68_SSTR_PET].radiopharmaceutical.dose_coefficient_msv_per_mbq
    0.021
    """
    root = resources.files("nenscope.knowledge") / "data"
    documents: dict[str, Mapping[str, Any]] = {}
    for name in DATA_FILES:
        text = (root / f"{name}.toml").read_text(encoding="utf-8")
        try:
            documents[name] = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise KnowledgeBaseError(
                f"knowledge/data/{name}.toml is not valid TOML: {err}"
            ) from err
    return parse_knowledge_base(documents)
