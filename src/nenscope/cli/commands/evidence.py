"""``nenscope evidence [ID]``: resolve a citation, rule or exam id to its full references."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from nenscope.cli._common import OutputFormat, console, print_json
from nenscope.cli.app import app
from nenscope.core.errors import OptionError

if TYPE_CHECKING:
    from nenscope.knowledge.kb import KnowledgeBase, Reference

__all__ = ["evidence_command", "lookup_evidence"]


def _ref(r: Reference) -> dict[str, Any]:
    return {
        "id": r.id,
        "citation": r.citation,
        "kind": r.kind,
        "year": r.year,
        "confidence": r.confidence,
        "doi": r.doi,
        "url": r.url,
    }


def _cited_by(kb: KnowledgeBase, ref_id: str) -> list[str]:
    users = [f"rule {r.id}" for r in kb.rules if ref_id in r.source]
    users += [f"exam {e.id}" for e in kb.exams.values() if ref_id in e.evidence]
    users += [
        f"radiopharmaceutical {t.id}"
        for t in kb.radiopharmaceuticals.values()
        if ref_id in (*t.evidence, *t.dose_evidence, *t.activity.evidence)
    ]
    users += [f"performance {p.id}" for p in kb.performance if ref_id in p.evidence]
    return users


def lookup_evidence(kb: KnowledgeBase, item_id: str) -> dict[str, Any]:
    """Resolve a citation id, rule id, performance id or exam id.

    Raises
    ------
    OptionError
        If the id is none of these; the message names the closest id.
    """
    from nenscope.core.enums import suggest
    from nenscope.knowledge.vocab import ExamId

    if item_id in kb.references:
        return {"reference": _ref(kb.references[item_id]), "cited_by": _cited_by(kb, item_id)}
    rules = {r.id: r for r in kb.rules}
    if item_id in rules:
        rule = rules[item_id]
        return {
            "rule": {"id": rule.id, "title": rule.title, "section": rule.section},
            "references": [_ref(kb.references[s]) for s in rule.source],
        }
    rows = {p.id: p for p in kb.performance}
    if item_id in rows:
        row = rows[item_id]
        return {
            "performance": {"id": row.id, "exam": row.exam.value, "population": row.population},
            "references": [_ref(kb.references[s]) for s in row.evidence],
        }
    if item_id in {e.value for e in ExamId}:
        exam = kb.exams[ExamId(item_id)]
        ids = list(dict.fromkeys([*exam.evidence, *exam.dose_evidence]))
        if exam.radiopharmaceutical is not None:
            t = exam.radiopharmaceutical
            ids = list(dict.fromkeys([*ids, *t.evidence, *t.dose_evidence, *t.activity.evidence]))
        ids += [e for p in kb.performance if p.exam is exam.id for e in p.evidence if e not in ids]
        return {"exam": exam.id.value, "references": [_ref(kb.references[i]) for i in ids]}
    valid = [*kb.references, *rules, *rows, *(e.value for e in ExamId)]
    raise OptionError(f"Unknown evidence, rule or exam id '{item_id}'. {suggest(item_id, valid)}")


def _heading_lines(payload: dict[str, Any]) -> list[str]:
    """Say in words what the id is and who cites it (the table holds the references)."""
    lines = []
    if "rule" in payload:
        rule = payload["rule"]
        lines.append(f"Rule {rule['id']}: {rule['title']} ({rule['section']})")
    if "performance" in payload:
        row = payload["performance"]
        lines.append(f"Performance row {row['id']}: {row['exam']} in {row['population']}")
    if "exam" in payload:
        lines.append(f"Exam {payload['exam']}: its references")
    if payload.get("cited_by"):
        lines.append(f"Cited by: {', '.join(payload['cited_by'])}")
    return lines


@app.command("evidence")
def evidence_command(
    item_id: Annotated[
        str | None, typer.Argument(help="Citation, rule, performance or exam id.")
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="text or json.")
    ] = OutputFormat.TEXT,
) -> None:
    """Show the full reference behind a citation id (or all references without an id)."""
    from nenscope.knowledge.kb import load_knowledge_base

    kb = load_knowledge_base()
    if item_id is None:
        payload: dict[str, Any] = {"references": [_ref(r) for r in kb.references.values()]}
    else:
        payload = lookup_evidence(kb, item_id)
    if output_format is OutputFormat.JSON:
        print_json(payload)
        return
    refs = [payload["reference"]] if "reference" in payload else payload["references"]
    for line in _heading_lines(payload):
        console.print(line, highlight=False)
    table = Table(show_lines=True)
    for column in ("id", "citation", "confidence", "doi / url"):
        table.add_column(column, overflow="fold")
    for r in refs:
        table.add_row(r["id"], r["citation"], r["confidence"], r["doi"] or r["url"] or "")
    console.print(table)
