"""``nenscope recommend SCENARIO``: the ranked imaging plan for a clinical scenario."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from nenscope.cli._common import OutputFormat, console, fail, print_json
from nenscope.cli.app import app
from nenscope.examples import list_examples

if TYPE_CHECKING:
    from nenscope.knowledge.recommender import Plan, PlanItem
    from nenscope.knowledge.scenario import Scenario

__all__ = ["print_plan", "recommend_command"]


def _number(value: float | None, digits: int = 0) -> str:
    return "" if value is None else f"{value:.{digits}f}"


_ROUTINE_NOTES = ("effective dose of the radiopharmaceutical", "typical adult effective dose")


def _notes(item: PlanItem) -> str:
    """Return the notes a reader must see (estimates, caps, paediatric rules), one per line."""
    shown = [n for n in item.notes if not n.startswith(_ROUTINE_NOTES)]
    if item.activity_derivation:
        shown.insert(0, f"activity: {item.activity_derivation}")
    return "".join(f"\nnote: {n}" for n in shown)


def _grouped_avoid(plan: Plan) -> list[tuple[str, str]]:
    """Return (exams, reason) rows: exams that share a reason on one row."""
    rows: dict[str, list[str]] = {}
    for item in plan.avoid:
        rows.setdefault(item.reason, []).append(item.exam.value)
    return [(", ".join(exams), reason) for reason, exams in rows.items()]


def _print_total_and_avoid(plan: Plan) -> None:
    from rich.markup import escape  # Rich loads only when a table is printed
    from rich.table import Table

    if plan.items:
        console.print(
            f"Total effective dose if every exam of the plan is done: "
            f"{plan.total_effective_dose_msv:.1f} mSv (recommended exams only: "
            f"{plan.recommended_effective_dose_msv:.1f} mSv).",
            highlight=False,
        )
    if plan.avoid:
        avoid = Table(title="Avoid", show_lines=True)
        avoid.add_column("exams")
        avoid.add_column("reason", overflow="fold")
        for exams, reason in _grouped_avoid(plan):
            avoid.add_row(exams, escape(reason))
        console.print(avoid)


def print_plan(plan: Plan, *, explain: bool) -> None:
    """Print a plan as Rich tables (the human output of ``recommend``)."""
    from rich.markup import escape  # Rich loads only when a table is printed
    from rich.table import Table

    table = Table(title="Imaging plan", show_lines=True)
    table.add_column("#", no_wrap=True)
    table.add_column("exam / strength", no_wrap=True)
    table.add_column(escape("rationale [evidence]"), ratio=1, overflow="fold")
    for column in ("MBq", "min", "mSv"):
        table.add_column(column, no_wrap=True, justify="right")
    for item in plan.items:
        table.add_row(
            str(item.rank),
            f"{item.exam.value}\n{item.strength.value}",
            escape(f"{item.rationale} [{', '.join(item.evidence)}]" + _notes(item)),
            _number(item.activity_mbq),
            _number(item.uptake_min),
            _number(item.effective_dose_msv, 1),
        )
    console.print(table)
    _print_total_and_avoid(plan)
    for warning in plan.warnings:
        console.print(f"[bold yellow]warning:[/] {escape(warning)}", highlight=False)
    if explain:
        console.print(f"[bold]tags:[/] {', '.join(sorted(plan.tags)) or '(none)'}")
        for t in plan.trace:
            if t.fired:
                console.print(
                    f"[green]fired[/] {t.rule}: {escape(t.title)} "
                    f"[dim]({escape(', '.join(t.source))}; {escape(t.section)})[/]",
                    highlight=False,
                )
        skipped = sum(not t.fired for t in plan.trace)
        console.print(
            f"[dim]{skipped} rules did not fire; --format json --explain gives each reason.[/]"
        )
        for step in plan.steps:
            console.print(f"[bold]step:[/] {escape(step)}", highlight=False)


@app.command("recommend")
def recommend_command(
    scenario_file: Annotated[
        Path | None, typer.Argument(help="Scenario file (.yaml, .yml or .json).")
    ] = None,
    example: Annotated[
        str | None,
        typer.Option(help=f"Run a bundled example scenario: {', '.join(list_examples())}."),
    ] = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Show which rules fired and why.")
    ] = False,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="text or json.")
    ] = OutputFormat.TEXT,
) -> None:
    """Recommend imaging for a NEN scenario: ranked plan, exams to avoid, warnings."""
    from nenscope.knowledge.recommender import recommend
    from nenscope.knowledge.scenario_io import load_example, load_scenario

    if (scenario_file is None) == (example is None):
        fail("Give either a SCENARIO file or --example NAME (not both, not neither).")
    scenario: Scenario = (
        load_scenario(scenario_file) if scenario_file is not None else load_example(str(example))
    )
    plan = recommend(scenario)
    if output_format is OutputFormat.JSON:
        print_json(plan.to_contract(explain=explain))
        return
    print_plan(plan, explain=explain)
