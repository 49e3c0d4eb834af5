"""``nenscope exams [EXAM]``: the exams and radiopharmaceuticals of the knowledge base."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from nenscope.cli._common import OutputFormat, console, print_json
from nenscope.cli.app import app

if TYPE_CHECKING:
    from nenscope.knowledge.kb import (
        Exam,
        PerformanceRow,
        Radiopharmaceutical,
    )
    from nenscope.knowledge.physics import ActivityRule

__all__ = ["exam_to_dict", "exams_command", "tracer_to_dict"]


def _rule_to_dict(rule: ActivityRule | None) -> dict[str, Any] | None:
    if rule is None:
        return None
    return {
        "kind": rule.kind.value,
        "per_kg_mbq": rule.per_kg_mbq,
        "fixed_mbq": rule.fixed_mbq,
        "min_mbq": rule.min_mbq,
        "max_mbq": rule.max_mbq,
        "evidence": list(rule.evidence),
    }


def tracer_to_dict(t: Radiopharmaceutical) -> dict[str, Any]:
    """JSON form of a radiopharmaceutical."""
    return {
        "id": t.id,
        "name": t.name,
        "targets": [x.value for x in t.targets],
        "mechanism": t.mechanism.value,
        "nuclide": t.nuclide.id,
        "half_life_s": t.nuclide.half_life_s,
        "status": t.status.value,
        "status_note": t.status_note or None,
        "activity": _rule_to_dict(t.activity),
        "paediatric_activity": _rule_to_dict(t.paediatric_activity),
        "paediatric_note": t.paediatric_note or None,
        "uptake_min": list(t.uptake_min),
        "typical_uptake_min": t.typical_uptake_min,
        "dose_coefficient_msv_per_mbq": t.dose_coefficient_msv_per_mbq,
        "dose_evidence": list(t.dose_evidence),
        "dose_note": t.dose_note or None,
        "preparation": list(t.preparation),
        "breastfeeding": t.breastfeeding or None,
        "breastfeeding_interruption_h": t.breastfeeding_interruption_h,
        "evidence": list(t.evidence),
    }


def _performance_to_dict(r: PerformanceRow) -> dict[str, Any]:
    return {
        "id": r.id,
        "population": r.population,
        "sensitivity": r.sensitivity,
        "specificity": r.specificity,
        "detection_rate": r.detection_rate,
        "accuracy": r.accuracy,
        "n": r.n,
        "level": r.level,
        "evidence": list(r.evidence),
    }


def exam_to_dict(exam: Exam, performance: list[PerformanceRow]) -> dict[str, Any]:
    """JSON form of an exam with its tracer and performance rows."""
    return {
        "id": exam.id.value,
        "name": exam.name,
        "modality": exam.modality.value,
        "status": exam.status.value,
        "contrast": exam.contrast.value,
        "ionising": exam.ionising,
        "protocol": list(exam.protocol),
        "typical_effective_dose_msv": exam.typical_effective_dose_msv,
        "dose_evidence": list(exam.dose_evidence),
        "radiopharmaceutical": None
        if exam.radiopharmaceutical is None
        else tracer_to_dict(exam.radiopharmaceutical),
        "alternative_radiopharmaceuticals": list(exam.alternatives),
        "substitutes": [s.value for s in exam.substitutes],
        "performance": [_performance_to_dict(r) for r in performance],
        "evidence": list(exam.evidence),
    }


def _activity_text(t: Radiopharmaceutical | None) -> str:
    if t is None:
        return ""
    rule = t.activity
    if rule.per_kg_mbq is not None:
        cap = f", max {rule.max_mbq:g}" if rule.max_mbq else ""
        return f"{rule.per_kg_mbq:g} MBq/kg{cap}"
    return f"{rule.fixed_mbq:g} MBq"


@app.command("exams")
def exams_command(
    exam_id: Annotated[str | None, typer.Argument(help="Show one exam in full.")] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="text or json.")
    ] = OutputFormat.TEXT,
) -> None:
    """List the exams of the knowledge base (tracer, activity, uptake, dose, status)."""
    from nenscope.core.enums import parse_option
    from nenscope.knowledge.kb import load_knowledge_base
    from nenscope.knowledge.vocab import ExamId

    kb = load_knowledge_base()
    exams = list(kb.exams.values())
    if exam_id is not None:
        exams = [kb.exams[parse_option(exam_id, ExamId, what="exam id")]]
    payload = [exam_to_dict(e, [r for r in kb.performance if r.exam is e.id]) for e in exams]
    if output_format is OutputFormat.JSON:
        print_json({"knowledge_base_version": kb.version, "exams": payload})
        return
    table = Table(title=f"nenscope exams (knowledge base {kb.version})", show_lines=False)
    table.add_column("id", no_wrap=True)
    for column in ("status", "tracer", "activity", "uptake min", "mSv/MBq", "typ. mSv"):
        table.add_column(column, overflow="fold")
    for e in exams:
        t = e.radiopharmaceutical
        table.add_row(
            e.id.value,
            e.status.value,
            "" if t is None else t.name,
            _activity_text(t),
            "" if t is None else f"{t.uptake_min[0]:g}-{t.uptake_min[1]:g}",
            ""
            if t is None or t.dose_coefficient_msv_per_mbq is None
            else f"{t.dose_coefficient_msv_per_mbq:g}",
            "" if e.typical_effective_dose_msv is None else f"{e.typical_effective_dose_msv:g}",
        )
    console.print(table)
    if exam_id is not None:
        detail = payload[0]
        console.print(f"[bold]{detail['name']}[/]; protocol: {'; '.join(detail['protocol'])}")
        tracer = detail["radiopharmaceutical"]
        if tracer is not None:
            console.print(f"targets: {', '.join(tracer['targets'])} ({tracer['mechanism']})")
            for line in tracer["preparation"]:
                console.print(f"preparation: {line}", highlight=False)
            if tracer["breastfeeding"]:
                console.print(f"breastfeeding: {tracer['breastfeeding']}", highlight=False)
        for row in detail["performance"]:
            figures = ", ".join(
                f"{label} {row[key]:g}"
                for key, label in (
                    ("sensitivity", "sens"),
                    ("specificity", "spec"),
                    ("detection_rate", "DR"),
                    ("accuracy", "acc"),
                    ("n", "n"),
                )
                if row[key] is not None
            )
            console.print(
                f"performance {row['id']}: {row['population']}: {figures} "
                f"({row['level']}; {', '.join(row['evidence'])})",
                highlight=False,
            )
        console.print(f"evidence: {', '.join(detail['evidence'])}")
