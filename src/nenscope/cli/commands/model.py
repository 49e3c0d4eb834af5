"""``nenscope model train`` and ``nenscope model predict``: grade / Ki-67 models on tables.

Shells over ``nenscope.models`` (imported inside the commands: scikit-learn is an optional
extra and slow to import).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from nenscope.cli._common import OutputFormat, console, fail, print_json
from nenscope.cli.app import app
from nenscope.core.errors import WorkbenchError

if TYPE_CHECKING:
    from nenscope.models import TrainedModel

__all__ = ["model_app", "predict_command", "train_command"]

model_app = typer.Typer(
    help="Grade / Ki-67 models on feature tables: nested cross-validation, model card, predict.",
    no_args_is_help=True,
)
app.add_typer(model_app, name="model")

FormatOpt = Annotated[OutputFormat, typer.Option("--format", help="text or json.")]
_EXTRA = "This command needs the models extra: pip install 'nenscope[models]'."


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (text or "").split(",") if v.strip())


def _read_stability(path: Path | None) -> tuple[tuple[str, float], ...]:
    if path is None:
        return ()
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        return tuple((row["feature"], float(row["icc"])) for row in rows)
    except (OSError, KeyError, ValueError) as err:
        raise WorkbenchError(
            f"Cannot read the stability table {path}: {err}. Expected CSV columns feature,icc."
        ) from err


def _text_summary(model: TrainedModel, out: Path) -> None:
    s = model.summary
    if "auc" in s:
        low, high = s["auc"]["ci95"]
        console.print(f"AUC (nested CV) {s['auc']['estimate']:.3f}  95 % CI {low:.3f}-{high:.3f}")
        cal = s.get("calibration", {})
        if "slope" in cal:
            console.print(
                f"calibration slope {cal['slope']:.2f}, intercept {cal['intercept']:.2f}, "
                f"Brier {cal['brier']:.3f}"
            )
    else:
        for key in ("mae", "r2"):
            low, high = s[key]["ci95"]
            console.print(f"{key.upper()} {s[key]['estimate']:.3f}  95 % CI {low:.3f}-{high:.3f}")
        grades = s.get("grade_agreement")
        if grades:
            acc, kap = grades["accuracy"], grades["kappa_linear"]
            console.print(
                f"grades (Ki-67 3 %/20 %): accuracy {acc['estimate']:.3f} "
                f"(95 % CI {acc['ci95'][0]:.3f}-{acc['ci95'][1]:.3f}), weighted kappa "
                f"{kap['estimate']:.3f} (95 % CI {kap['ci95'][0]:.3f}-{kap['ci95'][1]:.3f})"
            )
    p = s["permutation_p"]
    console.print(
        f"permutation p: {s['permutation_note']}"
        if p is None
        else f"permutation p {p:.3f} ({s['permutation_note']})"
    )
    console.print(f"model card: {out / 'card.html'}")


@model_app.command("train")
def train_command(  # noqa: PLR0913  (one parameter per CLI option)
    table: Annotated[Path, typer.Argument(help="Feature table: CSV, or Parquet file/folder.")],
    target: Annotated[str, typer.Option("--target", help="Target column.")],
    out: Annotated[Path, typer.Option("--out", help="Output folder for the model and card.")],
    group: Annotated[
        str | None, typer.Option("--group", help="Patient column: rows never split across folds.")
    ] = None,
    task: Annotated[
        str | None, typer.Option("--task", help="classification or regression (default: auto).")
    ] = None,
    batch: Annotated[
        str | None, typer.Option("--batch", help="Scanner/site column (ComBat, OOD checks).")
    ] = None,
    harmonise: Annotated[
        bool, typer.Option("--harmonise", help="ComBat across --batch inside the folds.")
    ] = False,
    positive: Annotated[
        str | None,
        typer.Option("--positive", help="Classes forming the positive class, e.g. G2,G3."),
    ] = None,
    ki67_grades: Annotated[
        bool, typer.Option("--ki67-grades", help="Map a Ki-67 % target to G1/G2/G3 (3, 20).")
    ] = False,
    ki67_agreement: Annotated[
        bool,
        typer.Option(
            "--ki67-agreement",
            help="Numeric Ki-67 % target: also report grade agreement (3 %, 20 %).",
        ),
    ] = False,
    features: Annotated[
        str | None, typer.Option("--features", help="Comma-separated feature columns.")
    ] = None,
    exclude: Annotated[
        str | None, typer.Option("--exclude", help="Comma-separated columns never used.")
    ] = None,
    stability: Annotated[
        Path | None, typer.Option("--stability", help="CSV feature,icc; ICC < 0.75 dropped.")
    ] = None,
    learners: Annotated[str, typer.Option("--learners", help="Subset of lr,rf,gb.")] = "lr,rf,gb",
    outer_folds: Annotated[int, typer.Option("--outer-folds")] = 5,
    inner_folds: Annotated[int, typer.Option("--inner-folds")] = 3,
    bootstrap: Annotated[int, typer.Option("--bootstrap", help="Bootstrap resamples.")] = 1000,
    permutations: Annotated[
        int, typer.Option("--permutations", help="Most label permutations (0: no test).")
    ] = 100,
    budget_s: Annotated[
        float, typer.Option("--permutation-budget-s", help="Time budget of the permutations.")
    ] = 180.0,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    jobs: Annotated[int, typer.Option("--jobs", help="Parallel fits (shared machine: 1).")] = 1,
    output_format: FormatOpt = OutputFormat.TEXT,
) -> None:
    """Train and validate a model (nested CV) and write it with its model card."""
    try:
        from nenscope.core.enums import parse_option
        from nenscope.models import (
            Learner,
            TableSpec,
            Task,
            TrainSettings,
            ValidationSettings,
            prepare_table,
            read_table,
            train_model,
            write_model,
        )
    except ImportError:
        fail(_EXTRA)
    try:
        spec = TableSpec(
            target=target,
            task=None if task is None else parse_option(task, Task, what="task"),
            group=group,
            batch=batch,
            features=_split(features),
            exclude=_split(exclude),
            positive=_split(positive),
            ki67_grades=ki67_grades,
            stability=_read_stability(stability),
        )
        settings = TrainSettings(
            validation=ValidationSettings(
                learners=tuple(parse_option(v, Learner, what="learner") for v in _split(learners)),
                outer_folds=outer_folds,
                inner_folds=inner_folds,
                harmonise=harmonise,
                seed=seed,
                n_jobs=jobs,
            ),
            n_boot=bootstrap,
            permutations=permutations,
            ki67_agreement=ki67_agreement,
            permutation_budget_s=budget_s,
        )
        if harmonise and batch is None:
            raise WorkbenchError("--harmonise needs --batch COLUMN (the scanner or site).")
        prepared = prepare_table(read_table(table), spec)
        trained = train_model(prepared, target, settings)
        write_model(out, trained)
    except WorkbenchError as err:
        fail(str(err))
    if output_format is OutputFormat.JSON:
        print_json(dict(trained.summary))
    else:
        _text_summary(trained, out)


@model_app.command("predict")
def predict_command(
    model_dir: Annotated[Path, typer.Argument(help="Folder written by 'model train'.")],
    table: Annotated[Path, typer.Argument(help="Table to predict (CSV or Parquet).")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Output table (default: TABLE stem + _predictions.csv)."),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Refuse the table if any case is out of distribution.")
    ] = False,
    output_format: FormatOpt = OutputFormat.TEXT,
) -> None:
    """Add a prediction column (and out-of-distribution flags) to a table."""
    try:
        from nenscope.models import load_model, predict_table, read_table
    except ImportError:
        fail(_EXTRA)
    target = out or table.with_name(f"{table.stem}_predictions.csv")
    try:
        result = predict_table(load_model(model_dir), read_table(table), strict=strict)
        _write_table(result.table, target)
    except WorkbenchError as err:
        fail(str(err))
    payload: dict[str, Any] = {
        "n": len(result.table),
        "predicted": result.n_predicted,
        "out_of_distribution": result.n_out_of_distribution,
        "refused": result.n_refused,
        "warnings": list(result.warnings),
        "out": str(target),
    }
    if output_format is OutputFormat.JSON:
        print_json(payload)
        return
    for text in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {text}")
    console.print(f"{result.n_predicted} of {len(result.table)} case(s) predicted → {target}")


def _write_table(frame: Any, path: Path) -> None:
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            frame.to_parquet(path, index=False)
        else:
            frame.to_csv(path, index=False)
    except OSError as err:
        raise WorkbenchError(f"Cannot write {path}: {err}.") from err
