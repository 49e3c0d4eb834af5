"""``nenscope exams [EXAM]``: the exams and radiopharmaceuticals of the knowledge base."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from nenscope.cli._common import OutputFormat, console, print_json
from nenscope.cli.app import app

if TYPE_CHECKING:
    from nenscope.knowledge.kb import Radiopharmaceutical

__all__ = ["exams_command"]


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
    from rich.table import Table  # Rich loads only when a table is printed

    from nenscope.knowledge.kb import load_knowledge_base
    from nenscope.knowledge.payloads import exams_payload
    from nenscope.knowledge.vocab import ExamId

    kb = load_knowledge_base()
    full = exams_payload(kb, exam_id)
    if output_format is OutputFormat.JSON:
        print_json(full)
        return
    payload = full["exams"]
    exams = [kb.exams[ExamId(e["id"])] for e in payload]
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
