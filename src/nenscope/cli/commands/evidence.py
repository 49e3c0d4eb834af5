"""``nenscope evidence [ID]``: resolve a citation, rule or exam id to its full references."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from nenscope.cli._common import OutputFormat, console, print_json
from nenscope.cli.app import app

__all__ = ["evidence_command"]


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
    from rich.table import Table  # Rich loads only when a table is printed

    from nenscope.knowledge.kb import load_knowledge_base
    from nenscope.knowledge.payloads import evidence_payload

    payload = evidence_payload(load_knowledge_base(), item_id)
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
